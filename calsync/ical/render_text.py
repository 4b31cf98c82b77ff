"""VEVENT text without icalendar's object model: the same bytes, written directly.

icalendar builds a property object per value and folds lines character by character; a
ten-year series at a bureau's size spent most of its time there. This module writes the few
properties calsync.ical.render uses straight to text, with icalendar's own rules (property order:
the canonical ones first, then alphabetical; parameters sorted and quoted as icalendar quotes
them; TEXT escaping; folding at 75 octets, never splitting a backslash escape).
tests/test_render_text.py checks the bytes equal icalendar's for whole generations.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from icalendar import vDuration, vRecur
from icalendar.parser import param_value

from calsync.occurrence import TZ, TZID, Attendee, Audience, Occurrence

CRLF = "\r\n"
_LIMIT = 75


def fold(line: str) -> str:
    """RFC 5545 folding exactly as icalendar 7 does it (chunks of at most 74 octets)."""
    raw = line.encode("utf-8")
    if len(raw) < _LIMIT:
        return line
    chunks: list[bytes] = []
    i, n = 0, len(raw)
    while n - i >= _LIMIT:
        j = i + _LIMIT - 1
        while raw[j] & 0xC0 == 0x80:   # back to the first byte of a character
            j -= 1
        if j - i > 1 and raw[j - 1] in b"\\^":
            j -= 1   # keep an escape with what it escapes
        chunks.append(raw[i:j])
        i = j
    chunks.append(raw[i:])
    return (b"\r\n ".join(chunks)).decode("utf-8")


def text(value: str) -> str:
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
            .replace("\r", "\\n"))


def _param(key: str, value: str | list[str]) -> str:
    if key == "CN":
        quote = " " in value or "'" in value
    else:
        quote = key in ("DELEGATED-FROM", "DELEGATED-TO", "MEMBER")
    return f"{key}={param_value(value, always_quote=quote)}"


def _local(value: dt.datetime) -> str:
    return f"TZID={TZID}:{value.astimezone(TZ):%Y%m%dT%H%M%S}"


def _utc(value: dt.datetime) -> str:
    return f"{value.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


@lru_cache(maxsize=4096)
def attendee_line(a: Attendee, member: tuple[str, ...] | None) -> str:
    params: dict[str, str | list[str]] = {
        "CN": a.name, "CUTYPE": "INDIVIDUAL", "ROLE": a.role, "PARTSTAT": a.partstat,
        "RSVP": "FALSE"}
    if a.delegated_to:
        params["DELEGATED-TO"] = [f"mailto:{e}" for e in a.delegated_to]
    if a.delegated_from:
        params["DELEGATED-FROM"] = [f"mailto:{e}" for e in a.delegated_from]
    if member:
        params["MEMBER"] = list(member)
    head = ";".join(_param(k, params[k]) for k in sorted(params))
    return fold(f"ATTENDEE;{head}:mailto:{a.email}")


@lru_cache(maxsize=1024)
def group_line(g: Audience) -> str:
    head = ";".join(_param(k, v) for k, v in
                    (("CN", g.name), ("CUTYPE", "GROUP"), ("ROLE", g.role)))
    return fold(f"ATTENDEE;{head}:{g.address}")


@lru_cache(maxsize=256)
def _organizer(name: str, email: str) -> str:
    return fold(f"ORGANIZER;{_param('CN', name)}:mailto:{email}")


@lru_cache(maxsize=64)
def _trigger(minutes: int, related_end: bool) -> str:
    value = vDuration(-dt.timedelta(minutes=minutes)).to_ical().decode()
    return f"TRIGGER;RELATED=END:{value}" if related_end else f"TRIGGER:{value}"


def rrule_text(rrule: dict[str, object]) -> str:
    return fold("RRULE:" + vRecur(rrule).to_ical().decode())


def event(o: Occurrence, dtstamp: dt.datetime, *, start: dt.datetime | None = None,
          recurrence_id: dt.datetime | None = None, rrule: str | None = None,
          exdates: tuple[dt.datetime, ...] = (),
          grouped: tuple[tuple[Audience, ...], dict[str, tuple[str, ...] | None]] | None = None,
          ) -> str:
    """One VEVENT (and its VALARM) as CRLF-terminated text, as calsync.ical.render._event writes
    it; ``grouped`` is render._grouped(o), or None to list every attendee."""
    begin = (start or o.start).astimezone(TZ)
    out = ["BEGIN:VEVENT", fold(f"SUMMARY:{text(o.summary)}"),
           f"DTSTART;{_local(begin)}", f"DTEND;{_local(begin + (o.end - o.start))}",
           f"DTSTAMP:{_utc(dtstamp)}", fold(f"UID:{text(o.published_uid)}")]
    if recurrence_id is not None:
        out.append(f"RECURRENCE-ID;{_local(recurrence_id)}")
    out.append("SEQUENCE:0")
    if rrule is not None:
        out.append(rrule)
    out.extend(f"EXDATE;{_local(d)}" for d in exdates)
    written, member_of = grouped if grouped is not None else ((), {})
    for a in o.attendees:
        member = member_of.get(a.person_id) if a.person_id in member_of else ()
        if member is None:
            continue   # said by the group line
        out.append(attendee_line(a, member or None))
    out.extend(group_line(g) for g in written)
    out.append(f"CLASS:{text(o.klass)}")
    if description := o.full_description():
        out.append(fold(f"DESCRIPTION:{text(description)}"))
    if o.location:
        out.append(fold(f"LOCATION:{text(o.location)}"))
    if o.organizer[1]:
        out.append(_organizer(*o.organizer))
    if o.related_to:
        out.append(fold(f"RELATED-TO:{text(o.related_to)}"))
    out.append(f"STATUS:{text(o.published_status)}")
    out.append("TRANSP:TRANSPARENT" if o.transparent else "TRANSP:OPAQUE")
    # X- properties are icalendar's vUnknown: written as they are, without TEXT escaping.
    if o.clause:
        out.append(fold(f"X-CALSYNC-CLAUSE:{o.clause}"))
    out.append(fold(f"X-CALSYNC-KIND:{o.kind}"))
    if o.meeting_types:
        out.append(fold(f"X-CALSYNC-MEETING-TYPES:{' '.join(o.meeting_types)}"))
    out.append(fold(f"X-CALSYNC-ORG:{o.organization}"))
    if o.provisional:
        out.append("X-CALSYNC-PROVISIONAL:TRUE")
    out.append(fold(f"X-CALSYNC-SERIES:{o.series}"))
    if o.alarm_minutes and o.status != "CANCELLED":
        out.append("BEGIN:VALARM")
        out.append("ACTION:DISPLAY")
        if o.kind == "deadline":
            words = f"{o.summary}：还有{o.alarm_minutes}分钟截止"
        else:
            words = f"请提前{o.alarm_minutes}分钟到达会场：{o.summary}"
        out.append(fold(f"DESCRIPTION:{text(words)}"))
        out.append(_trigger(o.alarm_minutes, o.kind == "deadline"))
        out.append("END:VALARM")
    out.append("END:VEVENT")
    return CRLF.join(out) + CRLF
