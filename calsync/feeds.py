"""Subscription feeds (pure): what one person may see, as one deterministic VCALENDAR.

Scopes: ``"me"`` (every occurrence that names the person: chair, attendee in any role and
PARTSTAT — so their leave shows as their own PARTSTAT — or substitute, deadlines included),
``("section", id)`` (occurrences where a member of the section is due, plus the section's own
per-section series and meeting requests) and ``("org", id)`` (everything of the organization).

The feed reuses calsync.render, so UIDs, RRULEs and overrides are those of the CalDAV copy;
occurrences left out of a feed become EXDATEs of their series. A confidential occurrence the
viewer is not invited to (not chair, attendee or substitute, not a secretary of its
organization) is replaced by a "忙碌" block before rendering: time and status only — no
description, attendees, organizer, location, alarm, clause or meeting type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from icalendar import Calendar, Event, vDuration

from calsync.clashes import due_attendees
from calsync.generate import Generation
from calsync.occurrence import Occurrence, Series
from calsync.policy import PolicySet
from calsync.render import new_calendar, series_events
from calsync.stats import section_of, section_series

BUSY = "忙碌"
# Properties that name the meeting: stripped from a "忙碌" block (the UID must stay: it is the
# CalDAV copy's).
_REVEALING = ("X-CALSYNC-SERIES", "X-CALSYNC-MEETING-TYPES", "X-CALSYNC-CLAUSE", "RELATED-TO")

Scope = str | tuple[str, str]


@dataclass(frozen=True)
class Viewer:
    person_id: str
    organization: str
    role: str              # secretary | leader | staff (calsync.accounts.role_for)
    name: str = ""
    email: str = ""        # lowercased
    section: str | None = None


def viewer_for(policies: PolicySet, person_id: str, organization: str,
               role: str) -> Viewer | None:
    org = policies.organizations.get(organization)
    person = org.people.get(person_id) if org is not None else None
    if person is None or person.external:
        return None
    return Viewer(person_id, organization, role, person.name, person.email.strip().lower(),
                  person.section)


def parse_scope(kind: str, ident: str | None = None) -> Scope | None:
    if kind == "me" and ident is None:
        return "me"
    if kind in ("section", "org") and ident:
        return (kind, ident)
    return None


def may_see(policies: PolicySet, viewer: Viewer, scope: Scope) -> bool:
    """Own feed, own organization, and any section of it (the page shows the whole
    organization's week to everyone too; confidential meetings are masked either way)."""
    if scope == "me":
        return True
    kind, ident = scope
    org = policies.organizations.get(viewer.organization)
    if org is None:
        return False
    if kind == "org":
        return ident == org.id
    return kind == "section" and ident in org.sections


def feed_key(viewer: Viewer, scope: Scope) -> str:
    """A stable name for the feed (the store's feed_state key)."""
    tail = "me" if scope == "me" else f"{scope[0]}:{scope[1]}"
    return f"{viewer.organization}:{viewer.person_id}:{tail}"


def feed_name(policies: PolicySet, viewer: Viewer, scope: Scope) -> str:
    org = policies.organizations[viewer.organization]
    if scope == "me":
        return f"{viewer.name}的会议（{org.short_name or org.name}）"
    kind, ident = scope
    if kind == "section":
        return f"{org.sections[ident].name}会议"
    return org.calendar_name or f"{org.name}会议日历"


def names_viewer(viewer: Viewer, occ: Occurrence) -> bool:
    """Chair, attendee in any role/PARTSTAT, or substitute (DELEGATED-FROM) of ``occ``."""
    for a in occ.attendees:
        if a.person_id == viewer.person_id and occ.organization == viewer.organization:
            return True
        if viewer.email and a.email.strip().lower() == viewer.email:
            return True
    return False


def invited(viewer: Viewer, occ: Occurrence) -> bool:
    if viewer.role == "secretary" and viewer.organization == occ.organization:
        return True
    return names_viewer(viewer, occ)


def mask(occ: Occurrence) -> Occurrence:
    """The "忙碌" block: the time, the status and the class, nothing that names the meeting."""
    return replace(occ, meeting_types=(), summary=BUSY, description="", location="",
                   organizer=("", ""), attendees=(), clause="", provisional=False,
                   alarm_minutes=None, related_to=None, notes=())


def feed_series(policies: PolicySet, generation: Generation, viewer: Viewer, scope: Scope,
                section_of_uid: Mapping[str, str] | None = None) -> list[Series]:
    """The series of the feed: occurrences filtered for the scope and masked for the viewer.

    ``section_of_uid``: meeting-request UID → the section that asked for it (store data).
    """
    keep = _selector(policies, viewer, scope, section_of_uid or {})
    out = []
    for series in generation.series:
        occs = tuple(occ if occ.klass != "CONFIDENTIAL" or invited(viewer, occ) else mask(occ)
                     for occ in series.occurrences if keep(occ))
        if occs:
            out.append(replace(series, occurrences=occs))
    return out


def _selector(policies: PolicySet, viewer: Viewer, scope: Scope,
              section_of_uid: Mapping[str, str]):
    if scope == "me":
        return lambda occ: names_viewer(viewer, occ)
    kind, ident = scope
    if kind == "org":
        return lambda occ: occ.organization == ident
    org = policies.organizations[viewer.organization]
    members = {p.email.strip().lower() for p in org.staff if p.section == ident and p.email}
    by_series = section_series(org)
    by_uid = dict(section_of_uid)

    def in_section(occ: Occurrence) -> bool:
        if occ.organization != org.id:
            return False
        if section_of(org, occ, by_series, by_uid) == ident:
            return True
        return not members.isdisjoint(due_attendees(occ))
    return in_section


def render_feed(policies: PolicySet, generation: Generation, viewer: Viewer, scope: Scope,
                dtstamps: Mapping[str, dt.datetime],
                section_of_uid: Mapping[str, str] | None = None) -> bytes:
    """The feed's bytes: same inputs, same bytes. ``dtstamps``: series UID → DTSTAMP (the
    CalDAV copy's: the policy's revision or the series' newest stored input, never the clock)."""
    name = feed_name(policies, viewer, scope)
    org = policies.organizations[viewer.organization]
    cal = _calendar(name, dt.timedelta(minutes=org.feed_refresh_minutes))
    for series in feed_series(policies, generation, viewer, scope, section_of_uid):
        for event in series_events(series, dtstamps[series.uid]):
            if _masked(event):
                for prop in _REVEALING:
                    event.pop(prop, None)
            cal.add_component(event)
    return cal.to_ical()


def _calendar(name: str, refresh: dt.timedelta) -> Calendar:
    cal = new_calendar(name)
    cal.add("NAME", name)
    cal.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(refresh))
    return cal


def _masked(event: Event) -> bool:
    return str(event.get("SUMMARY", "")) == BUSY and str(event.get("CLASS", "")) == "CONFIDENTIAL"
