"""Clash detection: double-booked people and rooms, same-audience meetings, non-working days.

Pure: occurrences (and foreign busy events read from watched calendars) in, clashes out.
Overlaps are found with a sweep line per person and per room, and same-audience pairs only
within one (organization, date, half-day) group, so the cost stays near-linear in the
number of occurrences over a multi-year horizon.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from calsync.occurrence import TZ, Occurrence

if TYPE_CHECKING:   # calsync.calendar.workdays imported first would close an import cycle
    from calsync.calendar.workdays import WorkCalendar

log = logging.getLogger(__name__)

KINDS = ("person", "room", "audience", "non-working-day")
DUE_ROLES = frozenset({"CHAIR", "REQ-PARTICIPANT", "NON-PARTICIPANT"})
ABSENT = frozenset({"DECLINED", "DELEGATED"})
NOON = dt.time(12, 0)
# A share computed as a ratio of small integers may land one ulp below the policy value.
SHARE_EPSILON = 1e-9

SUGGEST_PERSON = "{name}同时需参加两个会议，建议调整其中一个或请假"
SUGGEST_FOREIGN = "{name}同时有外部安排「{summary}」，建议调整会议时间或请假"
SUGGEST_ROOM = "会场冲突，建议更换会场或调整时间"
SUGGEST_AUDIENCE = "参会人员重合{pct}%，按篇二第二条第3款建议合并"
SUGGEST_NON_WORKING = "调整后的时间为非工作日，请复核"


@dataclass(frozen=True)
class Busy:
    """A foreign/watched event read from CalDAV."""

    uid: str
    summary: str
    start: dt.datetime
    end: dt.datetime
    emails: frozenset[str]
    location: str = ""
    source: str = ""               # calendar url


@dataclass(frozen=True)
class ClashItem:
    series_uid: str | None         # None for a foreign Busy
    recurrence_id: str | None      # ISO nominal start with offset; None for Busy
    foreign_uid: str | None
    organization: str | None
    summary: str
    start: dt.datetime
    end: dt.datetime

    @property
    def key(self) -> str:
        if self.series_uid is not None:
            return f"{self.series_uid}#{self.recurrence_id}"
        # A recurring foreign event expands to several Busy with one UID: the start tells them
        # apart.
        return f"foreign:{self.foreign_uid}#{self.start.isoformat()}"


@dataclass(frozen=True)
class Clash:
    id: str                        # stable: sha256(kind + sorted item keys + subject)[:16]
    kind: str                      # person | room | audience | non-working-day
    items: tuple[ClashItem, ...]   # 2 for pair kinds (earlier first), 1 for non-working-day
    subject: str                   # person email, room (location text), "", date
    subject_name: str
    start: dt.datetime             # the overlapping window (audience: the span of both)
    end: dt.datetime
    share: float | None
    suggestion: str
    fingerprint: str               # changes when any item's time, attendees or status change


@dataclass(frozen=True)
class _Entry:
    """One schedulable thing, prepared once: its item, who is due, its fingerprint part."""

    item: ClashItem
    due: Mapping[str, str]         # lowercased email -> display name
    location: str
    foreign: bool
    fp: str


def is_active(occ: Occurrence) -> bool:
    """Does this occurrence take anyone's time? Deadlines, cancelled and free ones do not."""
    return occ.kind == "meeting" and occ.status != "CANCELLED" and not occ.transparent


def due_attendees(occ: Occurrence) -> dict[str, str]:
    """Lowercased email -> name of everyone expected in the room (substitutes included)."""
    out: dict[str, str] = {}
    for a in occ.attendees:
        email = _email(a.email)
        if email and a.role in DUE_ROLES and a.partstat not in ABSENT:
            out.setdefault(email, a.name)
    return out


def recurrence_id(occ: Occurrence) -> str:
    return occ.nominal_start.isoformat()


def item_of(occ: Occurrence) -> ClashItem:
    return ClashItem(occ.uid, recurrence_id(occ), None, occ.organization, occ.summary,
                     occ.start, occ.end)


def overlaps(a_start: dt.datetime, a_end: dt.datetime,
             b_start: dt.datetime, b_end: dt.datetime) -> bool:
    return a_start < b_end and b_start < a_end


def find_clashes(occurrences: Iterable[Occurrence], busy: Iterable[Busy] = (), *,
                 calendar: WorkCalendar, merge_share: Mapping[str, float] | None = None,
                 default_share: float = 0.8,
                 mergeable: Callable[[Occurrence], bool] | None = None) -> list[Clash]:
    """Every clash among ``occurrences`` (and with ``busy``), sorted by (start, kind, id).

    ``mergeable``: which occurrences the same-audience rule looks at (a pair needs one). The
    policies' fixed meetings are arranged on purpose (篇一 puts 科务会 right after 周例会);
    篇二 二.3 is about meetings sections ask for, so the service passes "on demand" here.
    """
    occs = [o for o in occurrences if is_active(o)]
    may_merge = {o.uid for o in occs if mergeable is None or mergeable(o)}
    entries = [_occ_entry(o) for o in occs] + [_busy_entry(b) for b in busy if b.emails]
    out: list[Clash] = []
    out.extend(_person_clashes(entries))
    out.extend(_room_clashes(entries))
    out.extend(_audience_clashes([e for e in entries if not e.foreign],
                                 merge_share or {}, default_share, may_merge))
    out.extend(_non_working(occs, calendar))
    out.sort(key=lambda c: (c.start, c.kind, c.id))
    return out


def _occ_entry(occ: Occurrence) -> _Entry:
    people = sorted(f"{_email(a.email)}/{a.role}/{a.partstat}" for a in occ.attendees)
    fp = "|".join([occ.start.isoformat(), occ.end.isoformat(), occ.status, *people])
    return _Entry(item_of(occ), due_attendees(occ), occ.location.strip(), False, fp)


def _busy_entry(b: Busy) -> _Entry:
    item = ClashItem(None, None, b.uid, None, b.summary, b.start, b.end)
    emails = sorted(_email(e) for e in b.emails)
    fp = "|".join([b.start.isoformat(), b.end.isoformat(), *emails])
    return _Entry(item, {e: e for e in emails if e}, b.location.strip(), True, fp)


def _sweep(entries: list[_Entry]) -> Iterator[tuple[_Entry, _Entry]]:
    """Overlapping pairs in one resource's timeline: sort by start, keep the still-running."""
    ordered = sorted(entries, key=lambda e: (e.item.start, e.item.end, e.item.key))
    active: list[_Entry] = []
    for e in ordered:
        active = [a for a in active if a.item.end > e.item.start]
        for a in active:
            if overlaps(a.item.start, a.item.end, e.item.start, e.item.end):
                yield a, e
        active.append(e)


def _person_clashes(entries: list[_Entry]) -> Iterator[Clash]:
    timelines: dict[str, dict[str, _Entry]] = defaultdict(dict)
    for e in entries:
        for email in e.due:
            timelines[email].setdefault(e.item.key, e)   # one entry per person per item
    for email, by_key in timelines.items():
        for a, b in _sweep(list(by_key.values())):
            if a.foreign and b.foreign:
                continue                                  # not ours to report
            name = next(x.due[email] for x in (a, b) if not x.foreign)
            foreign = next((x for x in (a, b) if x.foreign), None)
            text = (SUGGEST_FOREIGN.format(name=name, summary=foreign.item.summary)
                    if foreign else SUGGEST_PERSON.format(name=name))
            yield _pair("person", a, b, email, name, None, text)


def _room_clashes(entries: list[_Entry]) -> Iterator[Clash]:
    rooms: dict[str, list[_Entry]] = defaultdict(list)
    for e in entries:
        if e.location and not e.foreign:
            rooms[e.location].append(e)
    for room, group in rooms.items():
        for a, b in _sweep(group):
            yield _pair("room", a, b, room, room, None, SUGGEST_ROOM)


def _audience_clashes(entries: list[_Entry], merge_share: Mapping[str, float],
                      default_share: float, may_merge: set[str]) -> Iterator[Clash]:
    groups: dict[tuple[str, dt.date, bool], list[_Entry]] = defaultdict(list)
    for e in entries:
        if e.due:
            start = e.item.start.astimezone(TZ)
            groups[(e.item.organization or "", start.date(), start.time() < NOON)].append(e)
    for (org, _day, _am), group in groups.items():
        threshold = merge_share.get(org, default_share)
        group.sort(key=lambda e: (e.item.start, e.item.key))
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.item.series_uid == b.item.series_uid or not (
                        a.item.series_uid in may_merge or b.item.series_uid in may_merge):
                    continue
                share = audience_share(a.due.keys(), b.due.keys())
                if share + SHARE_EPSILON >= threshold:
                    text = SUGGEST_AUDIENCE.format(pct=round(share * 100))
                    yield _pair("audience", a, b, "", "", share, text)


def audience_share(a: Iterable[str], b: Iterable[str]) -> float:
    """|A∩B| / min(|A|, |B|); 0 when either is empty."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def _non_working(occs: list[Occurrence], calendar: WorkCalendar) -> Iterator[Clash]:
    for o in occs:
        day = o.start.astimezone(TZ).date()
        if o.moved and not calendar.is_working_day(day):
            entry = _occ_entry(o)
            name = calendar.holiday_name(day) or ("周六" if day.weekday() == 5 else "周日")
            yield _make("non-working-day", (entry,), day.isoformat(), name, o.start, o.end,
                        None, SUGGEST_NON_WORKING)


def _pair(kind: str, a: _Entry, b: _Entry, subject: str, name: str, share: float | None,
          text: str) -> Clash:
    first, second = sorted((a, b), key=lambda e: (e.item.start, e.item.key))
    if kind == "audience":
        start = first.item.start
        end = max(first.item.end, second.item.end)
    else:
        start = max(first.item.start, second.item.start)
        end = min(first.item.end, second.item.end)
    return _make(kind, (first, second), subject, name, start, end, share, text)


def _make(kind: str, entries: tuple[_Entry, ...], subject: str, name: str,
          start: dt.datetime, end: dt.datetime, share: float | None, text: str) -> Clash:
    keys = sorted(e.item.key for e in entries)
    fps = [e.fp for e in sorted(entries, key=lambda e: e.item.key)]
    return Clash(id=_hash(kind, *keys, subject)[:16], kind=kind,
                 items=tuple(e.item for e in entries), subject=subject, subject_name=name,
                 start=start, end=end, share=share, suggestion=text,
                 fingerprint=_hash(kind, *fps)[:32])


def clash_key(kind: str, items: Iterable[ClashItem], subject: str) -> str:
    """The id a clash of ``kind`` between ``items`` about ``subject`` gets."""
    return _hash(kind, *sorted(i.key for i in items), subject)[:16]


def _hash(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _email(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower()


def clash_json(c: Clash) -> dict[str, object]:
    """The JSON shape of a clash (CLI and web)."""
    return {
        "id": c.id, "kind": c.kind, "subject": c.subject, "subject_name": c.subject_name,
        "start": c.start.isoformat(), "end": c.end.isoformat(), "share": c.share,
        "suggestion": c.suggestion, "fingerprint": c.fingerprint,
        "items": [{"series_uid": i.series_uid, "recurrence_id": i.recurrence_id,
                   "foreign_uid": i.foreign_uid, "organization": i.organization,
                   "summary": i.summary, "start": i.start.isoformat(),
                   "end": i.end.isoformat()} for i in c.items],
    }


def busy_from_ics(objects: Iterable[bytes], start: dt.date, end: dt.date,
                  source: str = "") -> list[Busy]:
    """Foreign events in [start, end] (dates inclusive), recurrences expanded.

    Cancelled and transparent events take nobody's time; declined attendees are not busy;
    the organizer is. All-day and floating times are read in Asia/Shanghai.
    """
    import icalendar
    import recurring_ical_events

    out: list[Busy] = []
    for raw in objects:
        try:
            cal = icalendar.Calendar.from_ical(raw)
            events = recurring_ical_events.of(cal).between(start, end + dt.timedelta(days=1))
        except Exception as exc:  # someone else's data: skip it, say so, keep the rest
            log.warning("calsync: unreadable event in %s skipped for clash checks: %s",
                        source or "a watched calendar", " ".join(str(exc).split())[:120])
            continue
        for ev in events:
            try:
                busy = _busy_of(ev, source)
            except Exception:  # an event without a usable start: nothing to clash with
                continue
            if busy is not None:
                out.append(busy)
    out.sort(key=lambda b: (b.start, b.uid))
    return out


def _busy_of(ev, source: str) -> Busy | None:
    if str(ev.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(ev.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    start = _aware(ev.decoded("DTSTART"))
    end = _aware(ev.decoded("DTEND")) if ev.get("DTEND") else None
    if end is None:
        duration = ev.decoded("DURATION") if ev.get("DURATION") else None
        end = start + (duration or (dt.timedelta(days=1) if _all_day(ev) else dt.timedelta()))
    emails: set[str] = set()
    attendees = ev.get("ATTENDEE", [])
    for a in attendees if isinstance(attendees, list) else [attendees]:
        if str(a.params.get("PARTSTAT", "")).upper() not in ABSENT:
            emails.add(_email(str(a)))
    if ev.get("ORGANIZER"):
        emails.add(_email(str(ev.get("ORGANIZER"))))
    emails.discard("")
    return Busy(uid=str(ev.get("UID", "")), summary=str(ev.get("SUMMARY", "")), start=start,
                end=end, emails=frozenset(emails), location=str(ev.get("LOCATION", "")),
                source=source)


def _all_day(ev) -> bool:
    value = ev.decoded("DTSTART")
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _aware(value: dt.date | dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time(), tzinfo=TZ)
    return value if value.tzinfo else value.replace(tzinfo=TZ)
