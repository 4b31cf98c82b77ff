"""Who attends: selectors from the policy resolved against the directory."""

from __future__ import annotations

import datetime as dt

from calsync.occurrence import Attendee, Audience
from calsync.policy.model import AttendeeSpec, Organization, Person, Section, Selector

_STRENGTH = {"CHAIR": 0, "REQ-PARTICIPANT": 1, "OPT-PARTICIPANT": 2, "NON-PARTICIPANT": 3}


class _Index:
    """One organization's directory indexed once: staff by section, people by role and group,
    and the attendee lists already resolved (they depend on the day only through the duty
    leader, so a year of weekly meetings resolves a handful of times, not once a week)."""

    def __init__(self, org: Organization) -> None:
        self.org = org
        self.by_section: dict[str | None, list[Person]] = {}
        for p in org.staff:
            self.by_section.setdefault(p.section, []).append(p)
        self.by_role: dict[str, list[Person]] = {}
        self.by_group: dict[str, list[Person]] = {}
        for p in org.people.values():
            for r in dict.fromkeys(p.roles):
                self.by_role.setdefault(r, []).append(p)
            for g in dict.fromkeys(p.groups):
                self.by_group.setdefault(g, []).append(p)
        self.chiefs = [org.people[s.chief] for s in org.sections.values() if s.chief]
        self.leavers = [p for p in org.people.values() if p.left is not None]
        self.memo: dict[tuple, tuple[tuple[Attendee, ...], tuple[Audience, ...]]] = {}


_INDEXES: dict[int, _Index] = {}
_KEEP = 8   # organizations indexed at once (a reload makes new ones; old ones go)


def _index(org: Organization) -> _Index:
    idx = _INDEXES.get(id(org))
    if idx is None or idx.org is not org:
        if len(_INDEXES) >= _KEEP:
            _INDEXES.pop(next(iter(_INDEXES)))
        idx = _INDEXES[id(org)] = _Index(org)
    return idx


def resolve(org: Organization, sel: Selector, section: Section | None = None,
            day: dt.date | None = None) -> list[Person]:
    """The people a selector names, in directory order."""
    people = org.people
    idx = _index(org)
    match sel.kind:
        case "all_staff":
            return org.staff
        case "section_members":
            return list(idx.by_section.get(section.id, ())) if section else []
        case "section_chief":
            return [people[section.chief]] if section and section.chief else []
        case "section_chiefs":
            return list(idx.chiefs)
        case "supervisor" if sel.arg:
            sup = people.get(section.supervisor or "") if section else None
            return [sup] if sup is not None and sel.arg in sup.roles else []
        case "supervisor":
            return [people[section.supervisor]] if section and section.supervisor else []
        case "duty_leader":
            pid = org.roster.leader_for(day) if org.roster and day else None
            return [people[pid]] if pid else []
        case "role":
            return list(idx.by_role.get(sel.arg, ()))
        case "person":
            return [people[sel.arg]] if sel.arg in people else []
        case "group":
            return list(idx.by_group.get(sel.arg, ()))
        case "section":
            return list(idx.by_section.get(sel.arg, ()))
    raise ValueError(f"unknown selector {sel}")  # the loader rejects these


def attendees(org: Organization, chair: Selector | tuple[Selector, ...] | None,
              specs: tuple[AttendeeSpec, ...], section: Section | None = None,
              day: dt.date | None = None) -> tuple[Attendee, ...]:
    """Chair first (ROLE=CHAIR), then everyone else once, with their strongest role.

    ``chair`` may be several selectors: the first that names somebody chairs.
    """
    return attendees_and_audience(org, chair, specs, section, day)[0]


def attendees_and_audience(org: Organization, chair: Selector | tuple[Selector, ...] | None,
                           specs: tuple[AttendeeSpec, ...], section: Section | None = None,
                           day: dt.date | None = None
                           ) -> tuple[tuple[Attendee, ...], tuple[Audience, ...]]:
    """:func:`attendees`, and the whole groups among them (all staff, a section's members)
    that rendering may write as one ``CUTYPE=GROUP`` ATTENDEE. Memoized: the same inputs give
    the same (shared, immutable) tuples."""
    chairs = chair if isinstance(chair, tuple) else (chair,) if chair is not None else ()
    duty = None
    if day is not None and org.roster is not None and any(
            s.kind == "duty_leader" for s in (*chairs, *(sp.selector for sp in specs))):
        duty = org.roster.leader_for(day)
    idx = _index(org)
    # who has left by ``day`` changes the lists too (directory.toml ``left``)
    gone = frozenset(p.id for p in idx.leavers if not p.present(day))
    key = (chairs, specs, section.id if section else None, duty, gone)
    hit = idx.memo.get(key)
    if hit is None:
        hit = idx.memo[key] = (_attendees(org, chairs, specs, section, day),
                               _audience(org, specs, section, gone))
    return hit


def _attendees(org: Organization, chairs: tuple[Selector, ...],
               specs: tuple[AttendeeSpec, ...], section: Section | None,
               day: dt.date | None) -> tuple[Attendee, ...]:
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


GROUP_URN = "urn:calsync:group"
MIN_GROUP = 3   # fewer members are written one by one (a group line costs about two)


def _audience(org: Organization, specs: tuple[AttendeeSpec, ...],
              section: Section | None, gone: frozenset[str] = frozenset()
              ) -> tuple[Audience, ...]:
    out: dict[str, Audience] = {}
    for spec in specs:
        sel = spec.selector
        if sel.kind == "all_staff":
            address = f"{GROUP_URN}:{org.id}:all-staff"
            name = f"{org.short_name or org.name}全体人员"
        elif sel.kind in ("section_members", "section"):
            sec = section if sel.kind == "section_members" else org.sections.get(sel.arg)
            if sec is None:
                continue
            address = f"{GROUP_URN}:{org.id}:section:{sec.id}"
            name = f"{sec.name}全体人员"
        else:
            continue
        members = frozenset(p.id for p in resolve(org, sel, section)) - gone
        if len(members) >= MIN_GROUP and address not in out:
            out[address] = Audience(address, name, spec.role, members)
    return tuple(out.values())


def organizer(org: Organization) -> tuple[str, str]:
    section = org.sections[org.organizer]
    return section.name, section.email
