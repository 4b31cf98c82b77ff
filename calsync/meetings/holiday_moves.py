"""A holiday move that does not land on the organization's own meetings (pure).

``schedule.shift`` takes the first eligible day in a schedule's window. When that day already
holds other meetings of the same people (e.g. 主任办公会 of 2026-02-18, pushed by 春节 onto
Tuesday 02-24 where the moved 周例会 and 科务会 are), the occurrence goes to the first day in
the same window where it clashes with nothing, and its note says so. Series with the
shortest interval move first and stand fixed for the others; occurrences of the same
meeting type moved by the same holiday never push each other (their clash is the series'
own, decided on the page).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calsync.calendar.workdays import WorkCalendar
from calsync.meetings.schedule import ONE_DAY, eligible
from calsync.occurrence import Occurrence, Series

Key = tuple[str, dt.datetime]
DUE = frozenset({"CHAIR", "REQ-PARTICIPANT", "NON-PARTICIPANT"})


@dataclass(frozen=True)
class Window:
    """Where a holiday may send one occurrence: eligible days in search order."""

    days: tuple[dt.date, ...]
    interval: int


def window(cal: WorkCalendar, day: dt.date, how: str, makeup_weekends: bool,
           before: dt.date, after: dt.date, interval: int) -> Window:
    """Every eligible day ``schedule.shift`` could pick, nearest first (same bounds)."""
    if how == "skip":
        return Window((), interval)
    step = ONE_DAY if how.startswith("next") else -ONE_DAY
    if how.endswith("in-week"):
        monday = day - dt.timedelta(days=day.weekday())
        low, high = monday, monday + dt.timedelta(days=6)
    else:
        low, high = day - dt.timedelta(days=31), day + dt.timedelta(days=31)
    high, low = min(high, before - ONE_DAY), max(low, after + ONE_DAY)
    days, cur = [], day + step
    while low <= cur <= high:
        if eligible(cal, cur, makeup_weekends):
            days.append(cur)
        cur += step
    return Window(tuple(days), interval)


def _people(o: Occurrence) -> set[str]:
    return {a.person_id or a.email for a in o.attendees if a.role in DUE}


def _blocking(o: Occurrence, start: dt.datetime, end: dt.datetime,
              others: Iterable[Occurrence]) -> list[Occurrence]:
    mine = _people(o)
    return [x for x in others if x.start < end and start < x.end and mine & _people(x)]


_MARGIN = dt.timedelta(days=2)


def avoid_clashes(series: list[Series], windows: dict[Key, Window], decided: set[Key],
                  first: dt.date, last: dt.date,
                  fixed_types: set[str] | frozenset[str] = frozenset()) -> list[Series]:
    """The series with holiday-moved occurrences sent to clash-free days where possible.

    Occurrences of ``fixed_types`` stay where they are (meetings others follow).
    """
    current = {(o.uid, o.nominal_start): o for s in series for o in s.occurrences}
    movers = sorted((k for k, o in current.items()
                     if k in windows and k not in decided and o.status != "CANCELLED"
                     and o.start.date() != o.nominal_start.date()
                     and not set(o.meeting_types) & fixed_types),
                    key=lambda k: (windows[k].interval, current[k].start, k[0]))
    waiting = set(movers)
    # Only occurrences near the candidate days can block: index them by day (two days'
    # margin for meetings running past midnight), in ``current``'s order.
    pos = {k: i for i, k in enumerate(current)}
    by_day: dict[dt.date, set[Key]] = {}
    for k, o in current.items():
        by_day.setdefault(o.start.date(), set()).add(k)
    for key in movers:
        waiting.discard(key)
        occ = current[key]
        days = [occ.start.date(), *windows[key].days]
        lo, hi = min(days) - _MARGIN, max(days) + _MARGIN
        near = sorted((k for n in range((hi - lo).days + 1)
                       for k in by_day.get(lo + dt.timedelta(days=n), ())), key=pos.__getitem__)
        # Same-type occurrences moved by the same holiday (the other sections' 科务会) go
        # together: their clash is the series' own.
        others = [o for k in near if k != key and k not in waiting
                  for o in (current[k],) if o.kind == "meeting"
                  and o.status != "CANCELLED"
                  and not (k in windows and set(o.meeting_types) & set(occ.meeting_types))]
        length = occ.end - occ.start
        blocked = _blocking(occ, occ.start, occ.end, others)
        if not blocked:
            continue
        nearest = windows[key].days[0]
        for day in windows[key].days:
            if day == occ.start.date() or not first <= day <= last:
                continue
            start = dt.datetime.combine(day, occ.start.timetz())
            if not _blocking(occ, start, start + length, others):
                # The note says why not the nearest day, also when a second pass moves the
                # occurrence again: back to that day (no why), or on from a later one.
                skipped = (nearest, blocked)
                if day != nearest and nearest != occ.start.date():
                    at_nearest = dt.datetime.combine(nearest, occ.start.timetz())
                    there = _blocking(occ, at_nearest, at_nearest + length, others)
                    skipped = (nearest, there) if there else (occ.start.date(), blocked)
                by_day[occ.start.date()].discard(key)
                current[key] = _moved(occ, start, length, *skipped)
                by_day.setdefault(day, set()).add(key)
                break
    return [replace(s, occurrences=tuple(current[(o.uid, o.nominal_start)]
                                         for o in s.occurrences)) for s in series]


# The end of a holiday note: the day it is held, and why it is not the nearest one.
_HELD = re.compile(r"调整至\d{4}-\d{2}-\d{2}(?:（[^（）]*）)?。$")


def _moved(occ: Occurrence, start: dt.datetime, length: dt.timedelta,
           skipped: dt.date, blocked: list[Occurrence]) -> Occurrence:
    """``occ`` held at ``start``. Its note names that day and, held elsewhere than on
    ``skipped`` (the nearest eligible day), what is on ``skipped``."""
    why = ""
    if start.date() != skipped:
        names = "、".join(dict.fromkeys(b.summary.split("（")[0] for b in blocked))
        why = f"（{skipped:%Y-%m-%d}已有{names}，为避免冲突改在此日）"
    held = f"调整至{start:%Y-%m-%d}{why}。"
    notes = tuple(_HELD.sub(lambda _m: held, n) if n.startswith("因节假日") else n
                  for n in occ.notes)
    return replace(occ, start=start, end=start + length, notes=notes)
