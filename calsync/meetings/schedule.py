"""Date rules: where a schedule puts its occurrences, given the working-day calendar."""

from __future__ import annotations

import datetime as dt

from calsync.calendar.workdays import WorkCalendar
from calsync.policy.model import Schedule

ONE_DAY = dt.timedelta(days=1)


def eligible(cal: WorkCalendar, day: dt.date, makeup_weekends: bool = False) -> bool:
    """Can a meeting be held that day? Working days, and 调休 weekends only if allowed."""
    return cal.is_working_day(day) and (makeup_weekends or day.weekday() < 5)


def shift(cal: WorkCalendar, day: dt.date, how: str, makeup_weekends: bool = False,
          before: dt.date | None = None, after: dt.date | None = None) -> dt.date | None:
    """Where an occurrence due on ``day`` is held, or None when it is dropped.

    ``before``/``after`` bound the search (the series' next/previous nominal date), so that a
    moved occurrence never lands on or beyond a neighbour of the same series.
    """
    if eligible(cal, day, makeup_weekends):
        return day
    if how == "skip":
        return None
    step = ONE_DAY if how.startswith("next") else -ONE_DAY
    if how.endswith("in-week"):
        monday = day - dt.timedelta(days=day.weekday())
        low, high = monday, monday + dt.timedelta(days=6)
    else:
        low, high = day - dt.timedelta(days=31), day + dt.timedelta(days=31)
    if before is not None:
        high = min(high, before - ONE_DAY)
    if after is not None:
        low = max(low, after + ONE_DAY)
    cur = day + step
    while low <= cur <= high:
        if eligible(cal, cur, makeup_weekends):
            return cur
        cur += step
    return None


def weekly_dates(sched: Schedule, start: dt.date, end: dt.date) -> list[dt.date]:
    """Nominal dates of a weekly schedule inside [start, end]."""
    assert sched.weekday is not None
    first = start + dt.timedelta(days=(sched.weekday - start.weekday()) % 7)
    if sched.interval > 1 and sched.anchor is not None:
        weeks = (first - sched.anchor).days // 7
        first += dt.timedelta(weeks=(-weeks) % sched.interval)
    out = []
    day = first
    while day <= end:
        out.append(day)
        day += dt.timedelta(weeks=sched.interval)
    return out


def window_day(cal: WorkCalendar, sched: Schedule, year: int) -> dt.date | None:
    """A regular working day in the last ``last_days`` days of ``month`` (篇一 五.2)."""
    assert sched.month is not None and sched.last_days is not None
    first_next = dt.date(year + sched.month // 12, sched.month % 12 + 1, 1)
    days = [first_next - dt.timedelta(days=i) for i in range(sched.last_days, 0, -1)]
    candidates = [d for d in days if eligible(cal, d)]
    if not candidates:
        return None
    preferred = [d for d in candidates if d.weekday() == sched.prefer_weekday]
    if preferred:
        return preferred[0]
    earlier = [d for d in candidates if d.weekday() < (sched.prefer_weekday or 0)]
    return earlier[-1] if earlier else candidates[0]


def working_days_before(cal: WorkCalendar, day: dt.date, count: int,
                        count_makeup_days: bool = False) -> dt.date:
    """The ``count``-th working day before ``day``; 调休 make-up weekends count only if
    ``count_makeup_days`` (the schedule's explicit setting)."""
    cur = day
    while count:
        cur -= ONE_DAY
        if eligible(cal, cur, count_makeup_days):
            count -= 1
    return cur


def previous_working_day(cal: WorkCalendar, day: dt.date) -> dt.date:
    """``day`` if it is a regular working day, else the one before it."""
    while not eligible(cal, day):
        day -= ONE_DAY
    return day
