"""Free-slot suggestions: where could a clashing meeting go instead?

The next slots of the same length on working days, inside working hours and outside the lunch
break, where every due attendee (and, optionally, the room) is free.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from calsync.meetings.clashes import Busy, due_attendees, is_active, recurrence_id
from calsync.occurrence import TZ, Occurrence

if TYPE_CHECKING:   # calsync.calendar.workdays imported first would close an import cycle
    from calsync.calendar.workdays import WorkCalendar

# How far ahead to look before giving up (a year of working days is plenty for weekly life).
SEARCH_DAYS = 400


def suggest_slots(occ: Occurrence, occurrences: Iterable[Occurrence], busy: Iterable[Busy], *,
                  calendar: WorkCalendar, rooms_busy: bool = True, count: int = 5,
                  after: dt.datetime | None = None, day_start: dt.time = dt.time(8, 30),
                  day_end: dt.time = dt.time(17, 30),
                  lunch: tuple[dt.time, dt.time] = (dt.time(12, 0), dt.time(14, 0)),
                  step_minutes: int = 30) -> list[tuple[dt.datetime, dt.datetime]]:
    """Up to ``count`` free (start, end) pairs starting at or after ``after``.

    ``after`` defaults to the occurrence's own start; its current slot is never suggested.
    Slots start on a grid of ``step_minutes`` from ``day_start``.
    """
    length = occ.end - occ.start
    if count <= 0 or length <= dt.timedelta(0) or step_minutes <= 0:
        return []
    blocks = _Blocks(_blocking(occ, occurrences, busy, rooms_busy))
    begin = (after or occ.start).astimezone(TZ)
    step = dt.timedelta(minutes=step_minutes)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for offset in range(SEARCH_DAYS):
        day = begin.date() + dt.timedelta(days=offset)
        if not calendar.is_working_day(day):
            continue
        start = dt.datetime.combine(day, day_start, tzinfo=TZ)
        close = dt.datetime.combine(day, day_end, tzinfo=TZ)
        noon = (dt.datetime.combine(day, lunch[0], tzinfo=TZ),
                dt.datetime.combine(day, lunch[1], tzinfo=TZ))
        while start + length <= close:
            end = start + length
            if (start >= begin and start != occ.start
                    and not (start < noon[1] and noon[0] < end)
                    and not blocks.hits(start, end)):
                out.append((start, end))
                if len(out) == count:
                    return out
            start += step
    return out


def _blocking(occ: Occurrence, occurrences: Iterable[Occurrence], busy: Iterable[Busy],
              rooms_busy: bool) -> list[tuple[dt.datetime, dt.datetime]]:
    """Intervals during which someone due at ``occ`` (or its room) is taken."""
    people = set(due_attendees(occ))
    room = occ.location.strip() if rooms_busy else ""
    me = (occ.uid, recurrence_id(occ))
    out = []
    for o in occurrences:
        if not is_active(o) or (o.uid, recurrence_id(o)) == me:
            continue
        if people & due_attendees(o).keys() or (room and o.location.strip() == room):
            out.append((o.start, o.end))
    for b in busy:
        if people & {e.strip().lower().removeprefix("mailto:") for e in b.emails}:
            out.append((b.start, b.end))
    return out


class _Blocks:
    """Overlap queries on a fixed set of intervals: sorted starts + running maximum of ends."""

    def __init__(self, intervals: list[tuple[dt.datetime, dt.datetime]]) -> None:
        intervals.sort()
        self.starts = [s for s, _ in intervals]
        self.max_end: list[dt.datetime] = []
        for _, e in intervals:
            self.max_end.append(max(e, self.max_end[-1]) if self.max_end else e)

    def hits(self, start: dt.datetime, end: dt.datetime) -> bool:
        # Among intervals starting before ``end``, does any end after ``start``?
        i = bisect.bisect_left(self.starts, end)
        return i > 0 and self.max_end[i - 1] > start
