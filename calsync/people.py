"""Who attends: selectors from the policy resolved against the directory."""

from __future__ import annotations

import datetime as dt

from calsync.occurrence import Attendee
from calsync.policy.model import AttendeeSpec, Organization, Person, Section, Selector

_STRENGTH = {"CHAIR": 0, "REQ-PARTICIPANT": 1, "OPT-PARTICIPANT": 2, "NON-PARTICIPANT": 3}


def resolve(org: Organization, sel: Selector, section: Section | None = None,
            day: dt.date | None = None) -> list[Person]:
    """The people a selector names, in directory order."""
    people = org.people
    match sel.kind:
        case "all_staff":
            return org.staff
        case "section_members":
            return [p for p in org.staff if section and p.section == section.id]
        case "section_chief":
            return [people[section.chief]] if section and section.chief else []
        case "section_chiefs":
            return [people[s.chief] for s in org.sections.values() if s.chief]
        case "supervisor" if sel.arg:
            sup = people.get(section.supervisor or "") if section else None
            return [sup] if sup is not None and sel.arg in sup.roles else []
        case "supervisor":
            return [people[section.supervisor]] if section and section.supervisor else []
        case "duty_leader":
            pid = org.roster.leader_for(day) if org.roster and day else None
            return [people[pid]] if pid else []
        case "role":
            return [p for p in people.values() if sel.arg in p.roles]
        case "person":
            return [people[sel.arg]] if sel.arg in people else []
        case "group":
            return [p for p in people.values() if sel.arg in p.groups]
        case "section":
            return [p for p in org.staff if p.section == sel.arg]
    raise ValueError(f"unknown selector {sel}")  # the loader rejects these


def attendees(org: Organization, chair: Selector | tuple[Selector, ...] | None,
              specs: tuple[AttendeeSpec, ...], section: Section | None = None,
              day: dt.date | None = None) -> tuple[Attendee, ...]:
    """Chair first (ROLE=CHAIR), then everyone else once, with their strongest role.

    ``chair`` may be several selectors: the first that names somebody chairs.
    """
    chosen: dict[str, tuple[str, str]] = {}
    order: list[str] = []

    def add(person: Person, role: str, note: str) -> None:
        if person.id not in chosen:
            order.append(person.id)
            chosen[person.id] = (role, note)
        elif _STRENGTH[role] < _STRENGTH[chosen[person.id][0]]:
            chosen[person.id] = (role, note)

    def named(sel: Selector) -> list[Person]:
        # The one point where leavers drop out: nobody is invited after their last day
        # (``left`` in directory.toml); occurrences up to it still list them.
        return [p for p in resolve(org, sel, section, day) if p.present(day)]

    chairs = chair if isinstance(chair, tuple) else (chair,) if chair is not None else ()
    for sel in chairs:
        found = named(sel)[:1]
        for p in found:
            add(p, "CHAIR", "主持")
        if found:
            break
    for spec in specs:
        for p in named(spec.selector):
            add(p, spec.role, spec.note)
    return tuple(Attendee(org.people[pid].name, org.people[pid].email, chosen[pid][0],
                          person_id=pid, note=chosen[pid][1]) for pid in order)


def organizer(org: Organization) -> tuple[str, str]:
    section = org.sections[org.organizer]
    return section.name, section.email
