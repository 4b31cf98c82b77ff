"""Subscription feeds (pure): what one person may see, as one deterministic VCALENDAR.

Scopes: ``"me"`` (every occurrence that names the person: chair, attendee in any role and
PARTSTAT — so their leave shows as their own PARTSTAT — or substitute, deadlines included),
``("section", id)`` (occurrences where a member of the section is due, plus the section's own
per-section series and meeting requests) and ``("org", id)`` (everything of the organization).

The feed reuses calsync.ical.render, so UIDs, RRULEs and overrides are those of the CalDAV copy;
occurrences left out of a feed become EXDATEs of their series. What the reader may see of each
occurrence is decided by calsync.access (the one visibility rule): a confidential occurrence
they are not invited to becomes a separate "忙碌" block with a time-derived UID.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from icalendar import Calendar, vDuration

from calsync.access import BUSY, Viewer, for_viewer, invited, names_viewer
from calsync.ical.render import fresh_series_text, new_calendar, series_text
from calsync.meetings.clashes import due_attendees
from calsync.meetings.generate import Generation
from calsync.meetings.stats import section_of, section_series
from calsync.occurrence import TZ, Occurrence, Series
from calsync.policy import PolicySet

__all__ = ["BUSY", "EventBytes", "PersonIndex", "Viewer", "Window", "feed_series", "invited",
           "names_viewer", "parse_scope", "render_feed", "viewer_for", "window_months"]

Scope = Literal["me"] | tuple[str, str]


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


class PersonIndex:
    """Which series name whom (attendee person id within its organization, or e-mail): built
    once per generation, so a person's feed looks at that person's series only and costs in
    proportion to their meetings, not to the organization's."""

    def __init__(self, generation: Generation) -> None:
        by_key: dict[tuple[str, ...], list[int]] = {}
        for i, s in enumerate(generation.series):
            keys: set[tuple[str, ...]] = set()
            for occ in s.occurrences:
                for a in occ.attendees:
                    if a.person_id:
                        keys.add(("p", occ.organization, a.person_id))
                    if a.email:
                        keys.add(("e", a.email.strip().lower()))
            for k in keys:
                by_key.setdefault(k, []).append(i)
        self._by_key = by_key

    def series_of(self, viewer: Viewer) -> list[int]:
        """Indexes (in generation order) of the series that may name ``viewer``."""
        found = set(self._by_key.get(("p", viewer.organization, viewer.person_id), ()))
        if viewer.email:
            found.update(self._by_key.get(("e", viewer.email), ()))
        return sorted(found)


Window = tuple[dt.date, dt.date]


def window_months(today: dt.date, back: int, ahead: int) -> Window:
    """First day of the month ``back`` months before ``today``'s to the last day of the month
    ``ahead`` months after it (whole months: the window, and so the feed, changes monthly)."""
    def month(n: int) -> dt.date:
        y, m = divmod(today.year * 12 + today.month - 1 + n, 12)
        return dt.date(y, m + 1, 1)
    return month(-back), month(ahead + 1) - dt.timedelta(days=1)


def feed_series(policies: PolicySet, generation: Generation, viewer: Viewer, scope: Scope,
                section_of_uid: Mapping[str, str] | None = None, *,
                index: PersonIndex | None = None,
                window: Window | None = None) -> list[Series]:
    """The series of the feed: occurrences filtered for the scope and masked for the viewer.

    ``section_of_uid``: meeting-request UID → the section that asked for it (store data).
    ``index``: for ``"me"``, look only at the series that may name the viewer.
    ``window``: keep the occurrences that start on these days (local time), both included.
    """
    keep = _selector(policies, viewer, scope, section_of_uid or {})
    if window is not None:
        first, last = window
        inner = keep

        def keep(occ: Occurrence) -> bool:
            return first <= occ.start.astimezone(TZ).date() <= last and inner(occ)
    series = generation.series
    if scope == "me" and index is not None:
        series = tuple(series[i] for i in index.series_of(viewer))
    scoped = [replace(s, occurrences=tuple(o for o in s.occurrences if keep(o)))
              for s in series]
    return for_viewer(viewer, scoped)


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
                section_of_uid: Mapping[str, str] | None = None, *,
                index: PersonIndex | None = None, window: Window | None = None,
                events: EventBytes | None = None) -> bytes:
    """The feed's bytes: same inputs, same bytes. ``dtstamps``: series UID → DTSTAMP (the
    CalDAV copy's: the policy's revision or the series' newest stored input, never the clock).
    ``index`` and ``window``: see feed_series; ``events``: rendered series to reuse (the same
    bytes as without it)."""
    name = feed_name(policies, viewer, scope)
    org = policies.organizations[viewer.organization]
    head = _calendar(name, dt.timedelta(minutes=org.feed_refresh_minutes)).to_ical()
    assert head.endswith(_END)
    chunks: list[bytes] = []
    for series in feed_series(policies, generation, viewer, scope, section_of_uid,
                              index=index, window=window):
        stamp = dtstamps.get(series.uid, generation_stamp(dtstamps))
        chunks.append(series_text(series, stamp).encode() if events is None
                      else events.bytes_of(series, stamp))
    # The events as render_series writes them (calsync.ical.render_text), inside the feed's
    # VCALENDAR: the same bytes icalendar would write, at a fraction of its time.
    return head[:-len(_END)] + b"".join(chunks) + _END


_END = b"END:VCALENDAR\r\n"


class EventBytes:
    """Rendered VEVENTs of a series with the occurrences a feed keeps, shared by every feed of
    one generation: the 周例会 that 300 people all attend is rendered once, not 300 times.

    Keyed by the identity of the kept occurrence objects (and the series' UID and DTSTAMP);
    the entry holds those objects, so an id cannot be reused while its entry exists. Feeds
    keep the generation's own Occurrence objects (calsync.access.for_viewer splits, never
    copies), so equal keys mean equal inputs and equal bytes."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._entries: dict[tuple, tuple[tuple[Occurrence, ...], bytes]] = {}
        self.max_entries = max_entries
        self.hits = self.misses = 0

    def bytes_of(self, series: Series, stamp: dt.datetime) -> bytes:
        if series.uid.startswith("busy-"):      # a masked block: new objects, tiny to render
            return series_text(series, stamp).encode()
        key = (series.uid, stamp, tuple(map(id, series.occurrences)))
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            return found[1]
        self.misses += 1
        # by identity here, so the value-keyed cache of series_text is not asked (hashing a
        # person's filtered series would cost more than it saves)
        blob = fresh_series_text(series, stamp).encode()
        if len(self._entries) < self.max_entries:
            self._entries[key] = (series.occurrences, blob)
        return blob


def _calendar(name: str, refresh: dt.timedelta) -> Calendar:
    cal = new_calendar(name)
    cal.add("NAME", name)
    cal.add("REFRESH-INTERVAL", vDuration(refresh), parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(refresh))
    return cal


def generation_stamp(dtstamps: Mapping[str, dt.datetime]) -> dt.datetime:
    """A busy block's DTSTAMP: the newest of the feed's (deterministic, never the clock)."""
    return max(dtstamps.values())
