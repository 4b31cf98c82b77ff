"""Series → RFC 5545 iCalendar bytes (pure, deterministic).

One resource per series: a master VEVENT with RRULE and EXDATE for dropped occurrences, and a
RECURRENCE-ID override for every occurrence that differs from the master (moved, another
chair, cancelled, provisional …), all in the same VCALENDAR with one compact VTIMEZONE. A series
chaired by the month's duty leader is one resource per leader (``Series.parts``): the rotating
chair would otherwise make nearly every week an override.

A whole audience (all staff, a section's members; ``Occurrence.audience``) is one
``CUTYPE=GROUP`` ATTENDEE, and only its members whose state differs are written one by one,
with ``MEMBER=``: bytes no longer grow with the staff. Files, CalDAV and feeds are written by
:func:`series_text` (calsync.ical.render_text: icalendar's bytes without its object model);
:func:`series_events` is the icalendar form, for iMIP and as the reference in the tests.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache, partial

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneStandard, vCalAddress, vText

from calsync.ical import render_text
from calsync.ical.resources import Resource
from calsync.occurrence import TZ, TZID, Attendee, Audience, Occurrence, Series

PRODID = "-//calsync//calsync//ZH"
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def vtimezone() -> Timezone:
    """Asia/Shanghai as one STANDARD block: +08:00 without the 1986–91 DST history."""
    tz = Timezone()
    tz.add("TZID", TZID)
    std = TimezoneStandard()
    std.add("DTSTART", dt.datetime(1970, 1, 1))
    std.add("TZOFFSETFROM", dt.timedelta(hours=8))
    std.add("TZOFFSETTO", dt.timedelta(hours=8))
    std.add("TZNAME", "CST")
    tz.add_component(std)
    return tz


def new_calendar(name: str | None = None) -> Calendar:
    # Not Calendar.new(): icalendar 7 adds a calendar-level UID there, which sync tools
    # mistake for the event's.
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    if name:
        cal.add("X-WR-CALNAME", name)
        cal.add("X-WR-TIMEZONE", TZID)
    cal.add_component(vtimezone())
    return cal


def series_events(series: Series, dtstamp: dt.datetime, groups: bool = True,
                  whole: bool = False) -> list[Event]:
    """The VEVENTs of one series: per part, master first, then overrides by RECURRENCE-ID.

    ``groups``: write a whole audience as one ``CUTYPE=GROUP`` ATTENDEE (calendars and feeds);
    False lists every attendee (iMIP invitations, which each invitee answers for themselves).
    ``whole``: one object under the series' own UID, parts ignored (an iTIP message carries
    one UID, and the outbox knows the series by it).
    """
    if whole:
        return _events(series, dtstamp, groups, published=False)
    return [ev for part in series.parts() for ev in _events(part, dtstamp, groups, True)]


def _events(series: Series, dtstamp: dt.datetime, groups: bool, published: bool
            ) -> list[Event]:
    event = partial(_event, dtstamp=dtstamp, groups=groups, published=published)
    if series.rule is None:
        return [event(o) for o in series.occurrences]
    template = _template(series)
    master = event(template, start=series.nominal[0])
    rrule = _rrule(series)
    master.add("RRULE", rrule)
    for day in series.dropped:
        master.add("EXDATE", day.astimezone(TZ))
    events = [master]
    signature = _signature(template)
    for occ in series.occurrences:
        if occ.start != occ.nominal_start or _signature(occ) != signature:
            events.append(event(occ, recurrence_id=occ.nominal_start))
    return events


def series_text(series: Series, dtstamp: dt.datetime, groups: bool = True) -> str:
    """The VEVENTs of :func:`series_events` as text, byte for byte, without icalendar's
    object model (calsync.ical.render_text): what files, CalDAV and feeds carry.

    Remembered by its inputs (the series compares by value, so an unchanged series of a
    new generation hits): a no-op publish, a dry run or a feed's second reader renders
    nothing again. Same inputs, same text."""
    return _series_text(series, dtstamp, groups)


def fresh_series_text(series: Series, dtstamp: dt.datetime, groups: bool = True) -> str:
    """:func:`series_text` without its cache (for callers that key by identity)."""
    return _series_text.__wrapped__(series, dtstamp, groups)


@lru_cache(maxsize=512)   # two generations of a bureau's ~216 resources
def _series_text(series: Series, dtstamp: dt.datetime, groups: bool) -> str:
    parts = series.parts()
    if len(parts) > 1:
        return "".join(_series_text(p, dtstamp, groups) for p in parts)

    def grouped(o: Occurrence) -> tuple | None:
        return _grouped(o) if groups else None

    if series.rule is None:
        return "".join(render_text.event(o, dtstamp, grouped=grouped(o))
                       for o in series.occurrences)
    template = _template(series)
    out = [render_text.event(template, dtstamp, start=series.nominal[0],
                             rrule=render_text.rrule_text(_rrule(series)),
                             exdates=tuple(series.dropped), grouped=grouped(template))]
    signature = _signature(template)
    for occ in series.occurrences:
        if occ.start != occ.nominal_start or _signature(occ) != signature:
            out.append(render_text.event(occ, dtstamp, recurrence_id=occ.nominal_start,
                                         grouped=grouped(occ)))
    return "".join(out)


@lru_cache(maxsize=64)
def calendar_head(name: str | None = None) -> str:
    """A VCALENDAR's text up to its first VEVENT (properties and VTIMEZONE)."""
    return new_calendar(name).to_ical().decode("utf-8").removesuffix(_END)


_END = "END:VCALENDAR\r\n"


def wrap(events: Iterable[str], name: str | None = None) -> bytes:
    return (calendar_head(name) + "".join(events) + _END).encode("utf-8")


def render_resources(series: Series, dtstamp: dt.datetime) -> tuple[Resource, ...]:
    """The calendar object resources of a series: one, or one per part (``Series.parts``).
    What CalDAV stores and ``calsync generate`` writes as files."""
    return tuple(resource(p, series_text(p, dtstamp)) for p in series.parts())


def render_series(series: Series, dtstamp: dt.datetime) -> Resource:
    """The whole series in one VCALENDAR, every part in it (one UID per part): to read a
    series at once. Not a CalDAV object when it has parts; publish render_resources."""
    return resource(series, series_text(series, dtstamp))


def resource(series: Series, events: str) -> Resource:
    """The resource of ``series`` (whole, or one of its parts) from its VEVENT text (rendered
    once, reused by callers)."""
    emails = sorted({a.email for o in series.occurrences for a in o.attendees})
    return Resource(series.organization, series.id, series.uid, wrap((events,)), tuple(emails))


def render_calendar(series: Iterable[Series], dtstamp: dt.datetime, name: str) -> bytes:
    """One VCALENDAR holding every series (the ``<org>.ics`` file)."""
    return wrap((series_text(s, dtstamp) for s in series), name)


def _rrule(series: Series) -> dict[str, object]:
    assert series.rule is not None
    rrule: dict[str, object] = {"FREQ": "WEEKLY"}
    if series.rule.interval > 1:
        rrule["INTERVAL"] = series.rule.interval
    rrule["UNTIL"] = series.nominal[-1].astimezone(dt.UTC)
    rrule["BYDAY"] = _WEEKDAYS[series.rule.weekday]
    return rrule


def _template(series: Series) -> Occurrence:
    """The master's properties: the most common ones among unmoved occurrences.

    Choosing the commonest keeps overrides few (e.g. the duty leader who chairs most weeks).
    """
    plain = [o for o in series.occurrences if o.start == o.nominal_start] or list(
        series.occurrences)
    counts = Counter(_signature(o) for o in plain)
    best = max(counts.values())
    return next(o for o in plain if counts[_signature(o)] == best)


def _signature(o: Occurrence) -> tuple:
    return (o.summary, o.full_description(), o.location, o.status, o.klass, o.organizer,
            o.attendees, o.alarm_minutes, o.transparent, o.provisional, o.related_to,
            o.meeting_types, o.clause, o.kind, o.end - o.start, o.audience)


def _event(o: Occurrence, dtstamp: dt.datetime, start: dt.datetime | None = None,
           recurrence_id: dt.datetime | None = None, groups: bool = True,
           published: bool = True) -> Event:
    ev = Event()
    ev.add("UID", o.published_uid if published else o.uid)
    ev.add("DTSTAMP", dtstamp.astimezone(dt.UTC))
    # Every date-time is written in Asia/Shanghai: one TZID, matching the VTIMEZONE.
    if recurrence_id is not None:
        ev.add("RECURRENCE-ID", recurrence_id.astimezone(TZ))
    begin = (start or o.start).astimezone(TZ)
    ev.add("DTSTART", begin)
    ev.add("DTEND", begin + (o.end - o.start))
    ev.add("SEQUENCE", 0)
    ev.add("SUMMARY", o.summary)
    if description := o.full_description():
        ev.add("DESCRIPTION", description)
    if o.location:
        ev.add("LOCATION", o.location)
    ev.add("STATUS", o.published_status)
    ev.add("CLASS", o.klass)
    ev.add("TRANSP", "TRANSPARENT" if o.transparent else "OPAQUE")
    if o.organizer[1]:
        org = vCalAddress(f"mailto:{o.organizer[1]}")
        org.params["CN"] = vText(o.organizer[0])
        ev.add("ORGANIZER", org)
    written, member_of = _grouped(o) if groups else ((), {})
    for a in o.attendees:
        if a.person_id in member_of and member_of[a.person_id] is None:
            continue   # said by the group line
        addr = vCalAddress(f"mailto:{a.email}")
        addr.params["CN"] = vText(a.name)
        addr.params["CUTYPE"] = "INDIVIDUAL"
        addr.params["ROLE"] = a.role
        addr.params["PARTSTAT"] = a.partstat
        addr.params["RSVP"] = "FALSE"
        if a.delegated_to:
            addr.params["DELEGATED-TO"] = [f"mailto:{e}" for e in a.delegated_to]
        if a.delegated_from:
            addr.params["DELEGATED-FROM"] = [f"mailto:{e}" for e in a.delegated_from]
        member = member_of.get(a.person_id) if a.person_id is not None else None
        if member:
            addr.params["MEMBER"] = list(member)
        ev.add("ATTENDEE", addr)
    for g in written:
        addr = vCalAddress(g.address)
        addr.params["CN"] = vText(g.name)
        addr.params["CUTYPE"] = "GROUP"
        addr.params["ROLE"] = g.role
        ev.add("ATTENDEE", addr)
    if o.related_to:
        ev.add("RELATED-TO", o.related_to)
    ev.add("X-CALSYNC-ORG", o.organization)
    ev.add("X-CALSYNC-SERIES", o.series)
    ev.add("X-CALSYNC-KIND", o.kind)
    if o.meeting_types:
        # space-separated: to vobject (Radicale) a comma makes a list and it keeps the first
        ev.add("X-CALSYNC-MEETING-TYPES", " ".join(o.meeting_types))
    if o.clause:
        ev.add("X-CALSYNC-CLAUSE", o.clause)
    if o.provisional:
        ev.add("X-CALSYNC-PROVISIONAL", "TRUE")
    if o.alarm_minutes and o.status != "CANCELLED":
        ev.add_component(_alarm(o))
    return ev


def _grouped(o: Occurrence) -> tuple[tuple[Audience, ...], dict[str, tuple[str, ...] | None]]:
    """The groups written as one ATTENDEE each, and for each of their members either None (the
    group line says it all) or the group addresses for ``MEMBER=`` (their state differs: chair,
    leave, substitute, 列席 …). A group is written only when every member is an attendee, so
    the group line never invites somebody the occurrence does not name."""
    if not o.audience:
        return (), {}
    return _grouped_of(o.attendees, o.audience)


@lru_cache(maxsize=256)
def _grouped_of(attendees: tuple[Attendee, ...], audience: tuple[Audience, ...]
                ) -> tuple[tuple[Audience, ...], dict[str, tuple[str, ...] | None]]:
    present = {a.person_id: a for a in attendees if a.person_id}
    written = tuple(g for g in audience if g.members and g.members <= present.keys())
    member_of: dict[str, tuple[str, ...] | None] = {}
    differs: dict[str, list[str]] = {}
    for g in written:
        for pid in g.members:
            a = present[pid]
            if (a.role == g.role and a.partstat == "NEEDS-ACTION" and not a.delegated_to
                    and not a.delegated_from):
                member_of.setdefault(pid, None)
            else:
                differs.setdefault(pid, []).append(g.address)
    member_of.update({pid: tuple(addrs) for pid, addrs in differs.items()})
    return written, member_of


def _alarm(o: Occurrence) -> Alarm:
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    minutes = dt.timedelta(minutes=o.alarm_minutes or 0)
    if o.kind == "deadline":
        alarm.add("TRIGGER", -minutes, parameters={"RELATED": "END"})
        alarm.add("DESCRIPTION", f"{o.summary}：还有{o.alarm_minutes}分钟截止")
    else:
        alarm.add("TRIGGER", -minutes)
        alarm.add("DESCRIPTION", f"请提前{o.alarm_minutes}分钟到达会场：{o.summary}")
    return alarm
