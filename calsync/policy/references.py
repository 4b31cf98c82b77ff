"""Cross-references inside one organization's policy: every id must point at something."""

from __future__ import annotations

from collections.abc import Iterable

from calsync.errors import PolicyProblem
from calsync.policy.model import AttendeeSpec, Organization, Selector
from calsync.policy.reader import Reader

_SECTION_WORDS = ("section_members", "section_chief", "supervisor")


def check_references(org: Organization, readers: dict[str, Reader],
                     problems: list[PolicyProblem]) -> None:
    orgr, dirr, meetr = (readers[n] for n in ("organization.toml", "directory.toml",
                                              "meetings.toml"))
    people, sections = org.people, org.sections

    def person(r: Reader, key: str, pid: str | None) -> None:
        if pid is not None and pid not in people:
            r.problem(key, f"no person {pid!r} in directory.toml",
                      f"add [people.{pid}] or use one of: {_some(people)}")

    if org.organizer not in sections:
        orgr.problem("organizer", f"no section {org.organizer!r} in directory.toml",
                     f"use one of: {_some(sections)}")
    person(orgr, "director", org.director)
    emails: dict[str, str] = {}
    for pid, p in people.items():
        if p.section is not None and p.section not in sections:
            dirr.problem(f"people.{pid}.section", f"no section {p.section!r}",
                         f"use one of: {_some(sections)}")
        if p.email in emails:
            dirr.problem(f"people.{pid}.email", f"{p.email} is also people.{emails[p.email]}'s",
                         "give every person their own address")
        emails[p.email] = pid
    for sid, s in sections.items():
        person(dirr, f"sections.{sid}.chief", s.chief)
        person(dirr, f"sections.{sid}.supervisor", s.supervisor)
        if s.room is not None and s.room not in org.rooms:
            dirr.problem(f"sections.{sid}.room", f"no room {s.room!r}",
                         f"add [rooms.{s.room}] or use one of: {_some(org.rooms)}")
    if org.roster:
        for i, pid in enumerate(org.roster.rotation):
            person(dirr, f"duty_roster.rotation[{i}]", pid)
        for (y, m), pid in org.roster.months.items():
            person(dirr, f"duty_roster.months.{y}-{m:02d}", pid)

    def selector(r: Reader, key: str, sel: Selector | None, per_section: bool) -> None:
        if sel is None:
            return
        if sel.kind == "person":
            person(r, key, sel.arg)
        elif sel.kind == "role" and not any(sel.arg in p.roles for p in people.values()):
            r.problem(key, f"nobody in directory.toml has the role {sel.arg!r}",
                      "add the role to a person's roles, or fix the spelling")
        elif sel.kind == "group" and not any(sel.arg in p.groups for p in people.values()):
            r.problem(key, f"nobody in directory.toml is in the group {sel.arg!r}",
                      "add the group to a person's groups, or fix the spelling")
        elif sel.kind == "section" and sel.arg not in sections:
            r.problem(key, f"no section {sel.arg!r}", f"use one of: {_some(sections)}")
        elif sel.kind == "supervisor" and sel.arg and not any(
                sel.arg in p.roles for p in people.values()):
            r.problem(key, f"nobody in directory.toml has the role {sel.arg!r}",
                      "add the role to a person's roles, or fix the spelling")
        elif sel.kind in _SECTION_WORDS and not per_section:
            r.problem(key, f"{sel.kind} only makes sense for a per-section meeting",
                      "set per_section = true, or name the people another way")
        elif sel.kind == "duty_leader" and org.roster is None:
            r.problem(key, "duty_leader needs a duty roster",
                      "add [duty_roster] to directory.toml")

    def attendees(r: Reader, key: str, specs: Iterable[AttendeeSpec], per_section: bool) -> None:
        for i, a in enumerate(specs):
            selector(r, f"{key}.attendees[{i}].select", a.selector, per_section)

    weekly_types: set[str] = set()
    for mid, mt in org.meeting_types.items():
        key = f"meeting_types.{mid}"
        # An on-demand meeting is held by the section that asks for it (篇二 二.3).
        sectioned = mt.per_section or mt.on_demand
        for i, sel in enumerate(mt.chairs):
            selector(meetr, f"{key}.chair" + (f"[{i}]" if mt.chair_else else ""), sel,
                     sectioned)
        attendees(meetr, key, mt.attendees, sectioned)
        if mt.location is not None and mt.location not in org.rooms:
            meetr.problem(f"{key}.location", f"no room {mt.location!r} in directory.toml",
                          f"use one of: {_some(org.rooms)}")
        if mt.chair is None and not mt.chair_text:
            meetr.problem(f"{key}.chair", "is required but missing",
                          'write chair = "role:…" (or chair_text for an outside chair)')
        if not mt.schedules and not mt.on_demand:
            meetr.problem(f"{key}.schedules", "the type has no schedule and is not on demand",
                          "add [[…schedules]] or write on_demand = true")
        if mt.per_section and not sections:
            meetr.problem(f"{key}.per_section", "there are no sections",
                          "add [sections.…] to directory.toml")
        if any(s.kind == "weekly" for s in mt.schedules) and not mt.per_section:
            weekly_types.add(mid)
    for mid, mt in org.meeting_types.items():
        for i, sched in enumerate(mt.schedules):
            key = f"meeting_types.{mid}.schedules[{i}]"
            if sched.kind == "after" and sched.after not in weekly_types:
                meetr.problem(f"{key}.after", f"{sched.after!r} is not a weekly meeting type",
                              f"name one of: {', '.join(sorted(weekly_types)) or '(none)'}")
            for j, other in enumerate(sched.also_types):
                if other not in org.meeting_types or other == mid:
                    meetr.problem(f"{key}.also_types[{j}]", f"{other!r} is not another type",
                                  f"use one of: {_some(org.meeting_types)}")
    for did, dl in org.deadlines.items():
        key = f"deadlines.{did}"
        attendees(meetr, key, dl.attendees, per_section=False)
        if dl.kind == "before-meeting" and dl.meeting is not None:
            held = org.meeting_types.get(dl.meeting)
            if held is None or not held.schedules:
                meetr.problem(f"{key}.meeting", f"{dl.meeting!r} is not a scheduled meeting type",
                              "name a meeting type that has schedules")
    _agenda_references(org, meetr)


def _agenda_references(org: Organization, meetr: Reader) -> None:
    """Each meeting type's topics close at one deadline (calsync.meetings.agenda)."""
    closes: dict[str, str] = {}
    for did, dl in org.deadlines.items():
        target = dl.agenda_for if dl.kind == "weekly" else dl.meeting
        key = f"deadlines.{did}.agenda_for" if dl.kind == "weekly" else f"deadlines.{did}.meeting"
        if target is None:
            continue
        mt = org.meeting_types.get(target)
        if dl.kind == "weekly" and (mt is None or not mt.schedules):
            scheduled = (m for m, t in org.meeting_types.items() if t.schedules)
            meetr.problem(key, f"{target!r} is not a scheduled meeting type",
                          f"name one of: {_some(scheduled)}")
        elif target in closes:
            meetr.problem(key, f"the topics of {target!r} already close at "
                          f"deadlines.{closes[target]}",
                          "keep one agenda deadline per meeting type")
        closes.setdefault(target, did)


def _some(ids: Iterable[str]) -> str:
    names = sorted(ids)
    return ", ".join(names[:12]) + (" …" if len(names) > 12 else "") if names else "(none)"
