"""Property tests: random holiday tables × random policy values → the date rules still hold.

Calendars are built directly from random :class:`YearTable`s (holiday runs of 1–9 days, whole
weeks off, random 调休 make-up weekends, years without a table); policies are the shipped
管理办 policy with schedule and deadline values replaced (``dataclasses.replace``), and, in
one test, the policy folder copied and its TOML edited, so the loader is covered too.

Most properties draw times between 06:00 and 19:45 with durations that end the same day, so
"the day" of a meeting or a deadline is unambiguous; one property draws the loader's whole
range (any minute, up to 24 hours) for what must hold even across midnight.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import icalendar
import pytest
import recurring_ical_events
from hypothesis import example, given, settings
from hypothesis import strategies as st

from calsync.calendar.statutory import statutory_days
from calsync.calendar.workdays import WorkCalendar, YearTable
from calsync.ical.render import render_calendar, render_series
from calsync.meetings.decisions import Decision
from calsync.meetings.generate import DEADLINE_BLOCK, MARGIN, Generation, generate
from calsync.meetings.inputs import Inputs
from calsync.occurrence import TZ, Occurrence, Series
from calsync.policy import PolicySet, load_policies, shipped_policies
from calsync.policy.model import ON_HOLIDAY, Organization, Schedule
from tests.support.gen_helpers import shipped

ONE_DAY = dt.timedelta(days=1)
STAMP = dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ)
ORG_ID = "guanliban"
YEARS = (2025, 2026, 2027)
WEEKDAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SECTIONS = ("mishuke", "zonghe", "jiaoyi", "ducha")

# No example database (runs are independent of each other and of the machine), no deadline
# (a first example pays for imports and caches). Registered, not loaded: other test files keep
# whatever profile the run chose.
settings.register_profile("calsync-properties", database=None, deadline=None, print_blob=True)
BASE = settings.get_profile("calsync-properties")


def _ok(cal: WorkCalendar, day: dt.date, makeup_weekends: bool = False) -> bool:
    """May something be held that day? Read straight from the tables, not via calsync.

    Holidays never; listed 调休 weekends only if the schedule allows them; otherwise
    Monday–Friday, except, in a year without a table, the statutory days of the 放假办法.
    """
    table = cal.years.get(day.year)
    if table is None and day in statutory_days(day.year):
        return False
    if table is not None and day in table.holidays:
        return False
    if table is not None and day in table.workdays:
        return makeup_weekends
    return day.weekday() < 5


# -- strategies: calendars ------------------------------------------------------------------

@st.composite
def year_tables(draw: st.DrawFn, year: int,
                focus: tuple[dt.date, dt.date] | None = None) -> YearTable:
    """A year's table; with ``focus``, half the holiday runs start inside that span."""
    first = dt.date(year, 1, 1)
    length = (dt.date(year + 1, 1, 1) - first).days
    offsets = st.integers(0, length - 1)
    if focus is not None:
        low = max(0, (focus[0] - first).days - 9)
        high = min(length - 1, (focus[1] - first).days)
        if low <= high:
            offsets = offsets | st.integers(low, high)
    holidays: dict[dt.date, str] = {}
    # Runs of 1–9 consecutive days off, anywhere (weekends included).
    for offset, days in draw(st.lists(st.tuples(offsets, st.integers(1, 9)),
                                      min_size=2, max_size=16)):
        for i in range(days):
            day = first + dt.timedelta(days=offset + i)
            if day.year == year:
                holidays[day] = "假日"
    # Whole weeks off (Monday–Sunday, or only Monday–Friday).
    for week, full in draw(st.lists(st.tuples(st.integers(0, 52), st.booleans()), max_size=3)):
        monday = first - dt.timedelta(days=first.weekday()) + dt.timedelta(weeks=week)
        for i in range(7 if full else 5):
            day = monday + dt.timedelta(days=i)
            if day.year == year:
                holidays[day] = "整周"
    weekend = [first + dt.timedelta(days=i) for i in range(length)]
    weekend = [d for d in weekend if d.weekday() >= 5 and d not in holidays]
    workdays = draw(st.lists(st.sampled_from(weekend), max_size=10, unique=True))
    return YearTable(year, "random", holidays, {d: "调休" for d in workdays})


@st.composite
def calendars(draw: st.DrawFn, focus: tuple[dt.date, dt.date] | None = None) -> WorkCalendar:
    years = {}
    for year in YEARS:
        if draw(st.integers(0, 4)):             # now and then a year without a table
            years[year] = draw(year_tables(year, focus))
    return WorkCalendar(years)


# -- strategies: policy values --------------------------------------------------------------

times = st.builds(dt.time, st.integers(6, 19), st.sampled_from([0, 15, 30, 45]))
durations = st.integers(5, 240)                 # 19:45 + 240 min still ends the same day
# The loader's whole range: any minute of the day, 5 minutes to 24 hours.
any_times = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))
any_durations = st.integers(5, 1440)
weekdays = st.integers(0, 6)
on_holidays = st.sampled_from(ON_HOLIDAY)


@st.composite
def weekly(draw: st.DrawFn, base: Schedule, with_interval: bool = False,
           times: st.SearchStrategy[dt.time] = times,
           durations: st.SearchStrategy[int] = durations) -> Schedule:
    weekday = draw(weekdays)
    interval, anchor = 1, None
    if with_interval:
        interval = draw(st.integers(1, 4))
        # 2025-01-06 is a Monday; anchors are on the schedule's weekday (the loader insists).
        anchor = dt.date(2025, 1, 6) + dt.timedelta(days=weekday + 7 * draw(st.integers(0, 150)))
        if interval == 1 and draw(st.booleans()):
            anchor = None
    return dataclasses.replace(
        base, weekday=weekday, time=draw(times), duration_minutes=draw(durations),
        on_holiday=draw(on_holidays), makeup_weekends=draw(st.booleans()),
        interval=interval, anchor=anchor)


@st.composite
def organizations(draw: st.DrawFn, anytime: bool = False) -> Organization:
    times_ = any_times if anytime else times
    durations_ = any_durations if anytime else durations
    org = shipped().organizations[ORG_ID]
    mts = dict(org.meeting_types)
    zl = mts["zhoulihui"]
    mts["zhoulihui"] = dataclasses.replace(zl, schedules=(draw(weekly(
        zl.schedules[0], with_interval=True, times=times_, durations=durations_)),))
    kw = mts["kewuhui"]
    mon, fri = kw.schedules
    mts["kewuhui"] = dataclasses.replace(kw, schedules=(
        dataclasses.replace(mon, duration_minutes=draw(durations_)),
        draw(weekly(fri, with_interval=True, times=times_, durations=durations_))))
    zr = mts["zhurenbangong"]
    mts["zhurenbangong"] = dataclasses.replace(zr, schedules=(draw(weekly(
        zr.schedules[0], with_interval=True, times=times_, durations=durations_)),))
    xt = mts["xitong"]
    mts["xitong"] = dataclasses.replace(xt, schedules=(dataclasses.replace(
        xt.schedules[0], month=draw(st.integers(1, 12)), last_days=draw(st.integers(1, 28)),
        prefer_weekday=draw(st.integers(0, 4)), time=draw(times_)),))
    zj = mts["zongjie"]
    mts["zongjie"] = dataclasses.replace(zj, schedules=(dataclasses.replace(
        zj.schedules[0], working_days_before=draw(st.integers(1, 12)), time=draw(times_)),))
    dls = dict(org.deadlines)
    days_before = draw(st.integers(0, 7))
    # Same-day deadlines at 06:00 (no meeting starts earlier), so the day rules below stay
    # simple; later same-day deadlines are in the regressions at the end.
    due = draw(times_) if days_before or anytime else dt.time(6, 0)
    dls["yiti"] = dataclasses.replace(
        dls["yiti"], days_before=days_before, time=due,
        meeting=draw(st.sampled_from(["zhurenbangong", "zhoulihui", "kewuhui", "xitong",
                                      "zongjie"])))
    dls["zhoubao"] = dataclasses.replace(dls["zhoubao"], weekday=draw(weekdays),
                                         time=draw(times_), on_holiday=draw(on_holidays))
    return dataclasses.replace(org, meeting_types=mts, deadlines=dls)


class Case(NamedTuple):
    policies: PolicySet
    start: dt.date
    end: dt.date

    @property
    def org(self) -> Organization:
        return self.policies.organizations[ORG_ID]

    @property
    def cal(self) -> WorkCalendar:
        return self.policies.calendar

    def __repr__(self) -> str:
        """Only what was drawn: the policy values and the calendar, not the whole directory."""
        org = self.org
        scheds = {f"{mt}.{s.id}": {k: v for k, v in dataclasses.asdict(s).items()
                                   if v not in (None, ()) and k not in ("id", "kind")}
                  for mt in ("zhoulihui", "kewuhui", "zhurenbangong", "xitong", "zongjie")
                  for s in org.meeting_types[mt].schedules}
        dls = {d.id: (d.meeting, d.days_before, d.weekday, d.time, d.on_holiday)
               for d in org.deadlines.values()}
        years = {y: (sorted(t.holidays), sorted(t.workdays)) for y, t in self.cal.years.items()}
        return (f"Case({self.start}..{self.end}, schedules={scheds}, deadlines={dls}, "
                f"holidays/workdays={years})")

    def generate(self, start: dt.date | None = None, end: dt.date | None = None) -> Generation:
        return generate(self.policies, start or self.start, end or self.end, [ORG_ID])


@st.composite
def cases(draw: st.DrawFn, max_days: int = 200, anytime: bool = False) -> Case:
    start = dt.date(2025, 3, 1) + dt.timedelta(days=draw(st.integers(0, 640)))
    end = start + dt.timedelta(days=draw(st.integers(14, max_days)))
    cal = draw(calendars((start, end)))
    org = draw(organizations(anytime))
    return Case(PolicySet(shipped().root, {ORG_ID: org}, cal), start, end)


# -- helpers ----------------------------------------------------------------------------------

def _series(gen: Generation, series_id: str) -> Series | None:
    return next((s for s in gen.series if s.id == series_id), None)


def _schedule(org: Organization, series_id: str) -> Schedule | None:
    """The weekly schedule a (meeting) series comes from."""
    for mt in org.meeting_types.values():
        for sched in mt.schedules:
            if sched.kind != "weekly":
                continue
            if series_id == mt.id and len(mt.schedules) == 1:
                return sched
            if mt.per_section and any(series_id == f"{mt.id}-{sec}-{sched.id}"
                                      for sec in SECTIONS):
                return sched
    return None


def _week(day: dt.date) -> tuple[int, int]:
    return day.isocalendar()[:2]


def _longest_off_run(cal: WorkCalendar, start: dt.date, end: dt.date) -> int:
    longest = run = 0
    day = start
    while day <= end:
        run = 0 if _ok(cal, day) else run + 1
        longest = max(longest, run)
        day += ONE_DAY
    return longest


def _weekly_series(case: Case, gen: Generation):
    """(series, held-on-makeup-weekends allowed, on_holiday, interval) of every weekly rule."""
    for s in gen.series:
        sched = _schedule(case.org, s.id)
        if sched is not None:
            yield s, sched.makeup_weekends, sched.on_holiday, sched.interval
        elif s.id == "deadline-zhoubao":
            yield s, False, case.org.deadlines["zhoubao"].on_holiday, 1


# -- cases hypothesis found, checked on every run as explicit examples -----------------------

def _found(start: dt.date, end: dt.date, calendar: WorkCalendar | None = None,
           deadlines: dict[str, dict] | None = None, **schedules: dict) -> Case:
    """The shipped policy (and holiday tables, unless ``calendar``) with values replaced;
    ``schedules`` keys are ``<meeting type>__<schedule id>``."""
    org = shipped().organizations[ORG_ID]
    mts, dls = dict(org.meeting_types), dict(org.deadlines)
    for key, changes in schedules.items():
        name, _, sched_id = key.partition("__")
        mts[name] = dataclasses.replace(mts[name], schedules=tuple(
            dataclasses.replace(s, **changes) if s.id == sched_id else s
            for s in mts[name].schedules))
    for name, changes in (deadlines or {}).items():
        dls[name] = dataclasses.replace(dls[name], **changes)
    org = dataclasses.replace(org, meeting_types=mts, deadlines=dls)
    return Case(PolicySet(shipped().root, {ORG_ID: org}, calendar or shipped().calendar),
                start, end)


SAT = 5
# A Saturday 主任办公会 pushed back to Friday 01-09, the range's first day, where the 科务会
# sits: it goes on to Thursday 01-08, outside the range (left to the neighbouring range).
MOVED_BEFORE_THE_START = _found(
    dt.date(2026, 1, 9), dt.date(2026, 1, 23), zhurenbangong__biweekly=dict(
        weekday=SAT, interval=1, anchor=None, on_holiday="previous-in-week"))
# The same forwards: Saturday 03-14 → Monday 03-16, the range's last day, holds the 周例会;
# the meeting goes to Tuesday 03-17.
MOVED_PAST_THE_END = _found(
    dt.date(2026, 3, 2), dt.date(2026, 3, 16), zhurenbangong__biweekly=dict(
        weekday=SAT, time=dt.time(9, 30), interval=1, anchor=None))
# Moved twice: Saturday 03-07's 主任办公会 (11:15) and 科务会 (11:00) both go to Monday 03-09;
# the 主任办公会 steps on to Tuesday (the 科务会 is there), then the 科务会, which the Monday
# 科务会 after the 周例会 (10:30–11:10) overlaps, goes to Tuesday too, and the 主任办公会 returns
# to Monday. Its note still said Tuesday (now each move rewrites the note).
MOVED_TWICE = _found(
    dt.date(2026, 3, 2), dt.date(2026, 3, 20),
    kewuhui__mon=dict(duration_minutes=40),
    kewuhui__fri=dict(weekday=SAT, time=dt.time(11, 0), duration_minutes=20,
                      on_holiday="next-working-day"),
    zhurenbangong__biweekly=dict(weekday=SAT, time=dt.time(11, 15), duration_minutes=30,
                                 interval=1, anchor=None))
# A deadline due before a 9-day holiday run that the range's end cuts: the 主任办公会 of Monday
# 03-23 (a holiday) is held on Thursday 03-26, so its 议题材料截止 (4 days before, 03-22, a
# holiday) is due on Friday 03-13, 13 days before; the range's own days off end on 03-19.
_EARLY = dict(time=dt.time(6, 0), duration_minutes=5, weekday=0, interval=1,
              anchor=dt.date(2025, 1, 6), on_holiday="next-in-week")
DEADLINE_BEFORE_A_LONG_BREAK = _found(
    dt.date(2025, 8, 31), dt.date(2026, 3, 19),
    WorkCalendar({2026: YearTable(2026, "random", {
        d: "假日" for d in [dt.date(2026, 1, 1)] + [dt.date(2026, 3, 15) + dt.timedelta(days=i)
                                                  for i in range(9)]}, {})}),
    deadlines={"yiti": dict(meeting="zhurenbangong", days_before=4, time=dt.time(6, 0)),
               "zhoubao": dict(weekday=0, time=dt.time(6, 0), on_holiday="next-in-week")},
    zhoulihui__weekly=_EARLY, kewuhui__mon=dict(duration_minutes=5), kewuhui__fri=_EARLY,
    zhurenbangong__biweekly=_EARLY,
    xitong__june=dict(month=1, last_days=1, prefer_weekday=0, time=dt.time(6, 0)),
    zongjie__yearly=dict(working_days_before=1, time=dt.time(6, 0)))
# The same with the shipped policy: the 主任办公会 of 02-18 (春节) is held on 02-25, its
# 议题材料截止 due on 02-13, 12 days before; the range ends on 02-18.
DEADLINE_BEFORE_SPRING_FESTIVAL = _found(dt.date(2026, 2, 1), dt.date(2026, 2, 18))


# -- properties -------------------------------------------------------------------------------

@settings(BASE, max_examples=150)
@given(cases())
def test_nothing_on_a_day_off_and_unmoved_when_the_rule_day_is_free(case: Case) -> None:
    gen = case.generate()
    zl = _schedule(case.org, "zhoulihui")
    assert zl is not None
    for s in gen.series:
        sched = _schedule(case.org, s.id)
        for o in s.occurrences:
            day = o.start.date()
            assert case.start <= day <= case.end
            assert _ok(case.cal, day, makeup_weekends=True), (s.id, o.start)
            if o.kind == "deadline":
                makeup = False          # deadlines: regular working days only
            elif s.id.endswith("-mon"):
                makeup = zl.makeup_weekends   # follows the 周例会
            elif sched is not None:
                makeup = sched.makeup_weekends
            else:
                makeup = False          # yearly meetings: regular working days
            assert _ok(case.cal, day, makeup), (s.id, o.start, "make-up weekend")
    for s, makeup, _how, _interval in _weekly_series(case, gen):
        held = {o.nominal_start: o for o in s.occurrences}
        for nominal in s.nominal:
            if _ok(case.cal, nominal.date(), makeup):
                assert nominal in held, (s.id, nominal, "dropped on a working day")
                assert held[nominal].start == nominal, (s.id, nominal, "moved off a working day")
            elif nominal in held:
                assert held[nominal].start != nominal


@settings(BASE, max_examples=150)
@given(cases())
@example(MOVED_BEFORE_THE_START)
@example(MOVED_PAST_THE_END)
@example(MOVED_TWICE)
def test_holiday_moves_go_the_right_way_to_the_nearest_day(case: Case) -> None:
    gen = case.generate()
    # The range with the days around it: where an occurrence moved out of the range is.
    around: dict[str, dict[dt.datetime, Occurrence]] = {}
    for s, makeup, how, interval in _weekly_series(case, gen):
        step = dt.timedelta(weeks=interval)
        held = {o.nominal_start: o for o in s.occurrences}
        for nominal in s.nominal:
            day = nominal.date()
            if _ok(case.cal, day, makeup):
                continue
            if how == "skip":
                assert nominal not in held, (s.id, nominal)
                continue
            # The days the rule may use, nearest first: same ISO week for *-in-week, never on
            # or past a neighbour of the series.
            reach = 6 if how.endswith("in-week") else 31
            candidates = [day + dt.timedelta(days=i if how.startswith("next") else -i)
                          for i in range(1, reach + 1)]
            candidates = [d for d in candidates if day - step < d < day + step]
            if how.endswith("in-week"):
                candidates = [d for d in candidates if _week(d) == _week(day)]
            free = [d for d in candidates if _ok(case.cal, d, makeup)]
            if nominal in held:
                _assert_moved(held[nominal], how, free)
            elif free:
                # Dropped from the range, though the rule has a day for it: it was moved out of
                # the range and belongs to the neighbouring one (docs/index.md), also when the move
                # passes a free day inside the range that holds meetings of the same people.
                if not around:
                    wider = case.generate(case.start - MARGIN, case.end + MARGIN)
                    around.update({x.id: {o.nominal_start: o for o in x.occurrences}
                                   for x in wider.series})
                there = around.get(s.id, {}).get(nominal)
                assert there is not None, (s.id, nominal, free)
                assert not case.start <= there.start.date() <= case.end, (s.id, nominal, there)
                _assert_moved(there, how, free)


def _assert_moved(o: Occurrence, how: str, free: list[dt.date]) -> None:
    """``o`` held on the nearest free day ``free[0]``, unless that day holds the organization's
    own meetings of the same people (issue 10): then a later one in reach, and the note says so.
    A meeting's note names the day it is held."""
    new, nominal = o.start, o.nominal_start
    assert new.time() == nominal.time()
    avoided = any("为避免冲突" in n for n in o.notes)
    assert free and new.date() in free, (o.series, nominal, new, how)
    assert (new.date() == free[0]) != avoided, (o.series, nominal, new, how, o.notes)
    if how.endswith("in-week"):
        assert _week(new.date()) == _week(nominal.date())
    assert (new > nominal) == how.startswith("next")
    if o.kind == "meeting":
        assert [n for n in o.notes if n.startswith("因节假日")
                and f"调整至{new:%Y-%m-%d}" in n], (o.series, nominal, new, o.notes)


@settings(BASE, max_examples=150)
@given(cases())
def test_after_meetings_start_when_the_weekly_meeting_ends(case: Case) -> None:
    gen = case.generate()
    zl = _series(gen, "zhoulihui")
    weekly = {} if zl is None else {o.nominal_start: o for o in zl.occurrences}
    duration = dt.timedelta(minutes=_schedule(case.org, "zhoulihui").duration_minutes)
    for section in SECTIONS:
        mon = _series(gen, f"kewuhui-{section}-mon")
        occs = [] if mon is None else mon.occurrences
        # One 科务会 for each 周例会 (the week's, by RECURRENCE-ID), none without.
        assert sorted(o.nominal_start - duration for o in occs) == sorted(weekly), section
        for k in occs:
            z = weekly[k.nominal_start - duration]
            assert k.start == z.end
            assert k.start.date() == z.start.date()
            assert k.nominal_start == z.nominal_start + duration
            assert k.end - k.start == dt.timedelta(
                minutes=case.org.meeting_types["kewuhui"].schedules[0].duration_minutes)
        if mon is not None:
            assert mon.rule is not None and zl.rule is not None
            assert mon.rule.interval == zl.rule.interval
            assert list(mon.nominal) == [n + duration for n in zl.nominal]


def _later(case: Case) -> dict[str, Series]:
    """The series of the range and the generation margin after it, by id."""
    return {s.id: s for s in case.generate(case.start, case.end + MARGIN).series}


@settings(BASE, max_examples=150)
@given(cases())
@example(DEADLINE_BEFORE_A_LONG_BREAK)
@example(DEADLINE_BEFORE_SPRING_FESTIVAL)
def test_deadlines_come_before_their_meeting(case: Case) -> None:
    gen = case.generate()
    dl = case.org.deadlines["yiti"]
    back = dt.timedelta(days=dl.days_before)
    # Deadlines in the range may be for meetings after it (up to MARGIN), so the days off
    # between a deadline and its meeting may run past the range's end.
    longest = _longest_off_run(case.cal, case.start, case.end + MARGIN)
    # a deadline in the range may be for a meeting just after it (due here, held there)
    later = _later(case)
    for meeting in later.values():
        if not any(o.kind == "meeting" and o.meeting_types[:1] == (dl.meeting,)
                   for o in meeting.occurrences):
            continue
        by_nominal_day = {o.nominal_start.date(): o for o in meeting.occurrences}
        deadline = _series(gen, f"deadline-yiti-{meeting.id}")
        occs = [] if deadline is None else deadline.occurrences
        for d in occs:
            assert d.end - d.start == DEADLINE_BLOCK
            assert d.related_to == meeting.uid
            m = by_nominal_day[(d.nominal_start + DEADLINE_BLOCK).date() + back]
            assert d.end <= m.start, (meeting.id, d.end, m.start)
            gap = (m.start.date() - d.end.date()).days
            assert dl.days_before <= gap <= dl.days_before + longest, (meeting.id, d.end)
            # The latest regular working day on or before meeting day − days_before.
            target = m.start.date() - back
            assert _ok(case.cal, d.end.date())
            between = [d.end.date() + dt.timedelta(days=i)
                       for i in range(1, (target - d.end.date()).days + 1)]
            assert not any(_ok(case.cal, x) for x in between), (d.end, target)
        # Every deadline that falls in the range is there (its meeting may be after it): those
        # of the longer generation whose nominal and actual days are both in the range.
        longer = later.get(f"deadline-yiti-{meeting.id}")
        expected = {d.nominal_start for d in (longer.occurrences if longer else ())
                    if case.start <= d.nominal_start.date() <= case.end
                    and case.start <= d.start.date() <= case.end}
        assert {d.nominal_start for d in occs} == expected
    weekly = _series(gen, "deadline-zhoubao")
    zb = case.org.deadlines["zhoubao"]
    for d in [] if weekly is None else weekly.occurrences:
        nominal_day = (d.nominal_start + DEADLINE_BLOCK).date()
        assert nominal_day.weekday() == zb.weekday
        assert d.end.time() == zb.time
        if zb.on_holiday.endswith("in-week"):
            assert _week(d.end.date()) == _week(nominal_day)


def _latest_working(cal: WorkCalendar, day: dt.date) -> dt.date:
    while not _ok(cal, day):
        day -= ONE_DAY
    return day


@settings(BASE, max_examples=100)
@given(cases())
def test_yearly_meetings_fall_in_their_window(case: Case) -> None:
    gen = case.generate()
    xt = case.org.meeting_types["xitong"].schedules[0]
    zj = case.org.meeting_types["zongjie"].schedules[0]
    for s in gen.series:
        if s.rule is not None or s.id.startswith("deadline-"):
            continue
        [o] = s.occurrences
        day, year = o.start.date(), int(s.id.rsplit("-", 1)[1])
        assert o.start == o.nominal_start and _ok(case.cal, day)
        if s.id.startswith("xitong-"):
            assert o.start.time() == xt.time
            first_next = dt.date(year + xt.month // 12, xt.month % 12 + 1, 1)
            window = [first_next - dt.timedelta(days=i) for i in range(xt.last_days, 0, -1)]
            assert day in window and all(d.month == xt.month for d in window)
            preferred = [d for d in window if d.weekday() == xt.prefer_weekday
                         and _ok(case.cal, d)]
            if preferred:
                assert day == preferred[0]
        else:
            assert s.id.startswith("zongjie-")
            assert o.start.time() == zj.time
            holiday, _provisional = case.cal.spring_festival_holiday_start(year)
            count = sum(_ok(case.cal, day + dt.timedelta(days=i))
                        for i in range((holiday - day).days))
            assert day < holiday and count == zj.working_days_before


@settings(BASE, max_examples=100)
@given(cases(max_days=150), st.integers(1, 90), st.integers(1, 90))
def test_uids_and_recurrence_ids_are_unique_on_the_rule_and_stable(
        case: Case, before: int, after: int) -> None:
    gen = case.generate()
    again = case.generate()
    assert gen == again
    uids = [s.uid for s in gen.series]
    assert len(set(uids)) == len(uids)
    for s in gen.series:
        assert s.uid == f"{s.id}@{ORG_ID}.calsync"
        assert {o.uid for o in s.occurrences} == {s.uid}
        assert {o.series for o in s.occurrences} == {s.id}
        rids = [o.nominal_start for o in s.occurrences]
        assert len(set(rids)) == len(rids), s.id
        assert set(rids) <= set(s.nominal)
        assert list(s.nominal) == sorted(set(s.nominal))
        if s.rule is None:
            assert len(s.nominal) == len(s.occurrences) == 1
            continue
        first = s.nominal[0]
        for n in s.nominal:
            assert n.weekday() == s.rule.weekday, (s.id, n)
            assert n.time() == first.time()
            assert (n.date() - first.date()).days % (7 * s.rule.interval) == 0, (s.id, n)
    # A wider range holds every occurrence of the narrower one, unchanged (UID, RECURRENCE-ID,
    # time, people …); and every meeting of the wider one that lies inside the narrower one.
    wide = case.generate(case.start - dt.timedelta(days=before),
                         case.end + dt.timedelta(days=after))
    wide_occs = {(o.uid, o.nominal_start): o for o in wide.occurrences()}
    for o in gen.occurrences():
        assert wide_occs.get((o.uid, o.nominal_start)) == o, (o.uid, o.nominal_start)
    narrow = set(gen.occurrences())
    for o in wide_occs.values():
        inside = all(case.start <= x.date() <= case.end for x in (o.start, o.nominal_start))
        if o.kind == "meeting" and inside:
            assert o in narrow, (o.uid, o.nominal_start)


def _expand(ics: bytes, recurring: bool) -> Counter:
    """(start, end, status, RECURRENCE-ID) of each instance recurring-ical-events finds.

    It gives every instance a RECURRENCE-ID, a single event's being its DTSTART; only a
    recurring series' RECURRENCE-IDs are compared with the nominal starts.
    """
    cal = icalendar.Calendar.from_ical(ics)
    return Counter((e["DTSTART"].dt, e["DTEND"].dt, str(e["STATUS"]),
                    e["RECURRENCE-ID"].dt if recurring else None)
                   for e in recurring_ical_events.of(cal).all())


def _occurrences(s: Series) -> Counter:
    return Counter((o.start, o.end, o.published_status, o.nominal_start if s.rule else None)
                   for o in s.occurrences)


def assert_expands_to_occurrences(gen: Generation) -> None:
    for s in gen.series:
        got = _expand(render_series(s, STAMP).ics, s.rule is not None)
        want = _occurrences(s)
        assert got == want, (s.id, sorted(got - want)[:3], sorted(want - got)[:3])


@settings(BASE, max_examples=50)
@given(cases(max_days=120))
def test_rendered_series_expand_to_the_occurrences(case: Case) -> None:
    assert_expands_to_occurrences(case.generate())


@settings(BASE, max_examples=60)
@given(cases(max_days=120, anytime=True))
def test_across_midnight_the_rules_the_engine_and_the_order_still_hold(case: Case) -> None:
    """Any minute, up to 24 hours: a deadline's half hour or a meeting may cross midnight."""
    gen = case.generate()
    for s in gen.series:
        if s.rule is not None:
            first = s.nominal[0]
            for n in s.nominal:
                assert n.weekday() == s.rule.weekday, (s.id, n)
                assert n.time() == first.time()
                assert (n.date() - first.date()).days % (7 * s.rule.interval) == 0
        assert {o.nominal_start for o in s.occurrences} <= set(s.nominal)
    assert_expands_to_occurrences(gen)
    # a 科务会 just after midnight on the first day follows a 周例会 that began the day before
    wider = case.generate(case.start - MARGIN, case.end)
    zl = _series(wider, "zhoulihui")
    weekly = {} if zl is None else {o.nominal_start: o for o in zl.occurrences}
    for s in gen.series:
        if s.id.startswith("kewuhui-") and s.id.endswith("-mon"):
            for k in s.occurrences:
                z = [z for z in weekly.values() if z.end == k.start]
                assert len(z) == 1, (s.id, k.start)
    back = dt.timedelta(days=case.org.deadlines["yiti"].days_before)
    meetings = {sid: {o.nominal_start.date(): o for o in s.occurrences}
                for sid, s in _later(case).items()}   # a deadline's meeting may be after the end
    for s in gen.series:
        if s.id.startswith("deadline-yiti-"):
            by_day = meetings[s.id.removeprefix("deadline-yiti-")]
            for d in s.occurrences:
                m = by_day[(d.nominal_start + DEADLINE_BLOCK).date() + back]
                assert d.end <= m.start, (s.id, d.end, m.start)
                assert _ok(case.cal, d.end.date()), (s.id, d.end)


@settings(BASE, max_examples=50)
@given(cases(max_days=120))
def test_generation_is_deterministic_to_the_byte(case: Case) -> None:
    # Rebuild everything from equal (not identical) inputs.
    years = {y: YearTable(t.year, t.source, dict(t.holidays), dict(t.workdays))
             for y, t in case.cal.years.items()}
    twin = Case(PolicySet(case.policies.root, {ORG_ID: dataclasses.replace(case.org)},
                          WorkCalendar(years)), case.start, case.end)
    one, two = case.generate(), twin.generate()
    assert [render_series(s, STAMP).ics for s in one.series] == \
        [render_series(s, STAMP).ics for s in two.series]
    assert render_calendar(one.series, STAMP, "x") == render_calendar(two.series, STAMP, "x")
    assert one.warnings == two.warnings


# -- the same through the loader: copied policy folder, edited TOML, written holiday tables ----

def _edit_block(text: str, header: str, changes: dict[str, str]) -> str:
    """Replace ``key = …`` lines inside the TOML block that starts with ``header``."""
    begin = text.index(header + "\n")
    end = text.find("\n[", begin + len(header))
    end = len(text) if end < 0 else end
    block = text[begin:end]
    for key, value in changes.items():
        block, n = re.subn(rf"^{key} = .*$", f"{key} = {value}", block, flags=re.M)
        if n == 0:
            block += f"\n{key} = {value}"
        assert n <= 1, (header, key)
    return text[:begin] + block + text[end:]


def _holiday_toml(table: YearTable) -> str:
    lines = [f"year = {table.year}", 'source = "random"', "holidays = ["]
    lines += [f'  {{ name = "{name}", start = {d}, end = {d} }},'
              for d, name in sorted(table.holidays.items())]
    lines += ["]", "workdays = ["]
    lines += [f'  {{ name = "{name}", date = {d} }},' for d, name in sorted(table.workdays.items())]
    return "\n".join([*lines, "]", ""])


def _hhmm(t: dt.time) -> str:
    return f'"{t:%H:%M}"'


@settings(BASE, max_examples=20)
@given(cal=calendars(), zl_day=st.integers(0, 4), zl_time=times,
       zl_how=on_holidays, zr_day=st.integers(0, 4), zr_interval=st.integers(1, 3),
       zr_weeks=st.integers(0, 100), fri_how=on_holidays, days_before=st.integers(1, 5),
       zb_day=weekdays, wdb=st.integers(1, 10), start=st.integers(0, 500))
def test_edited_policy_files_load_and_keep_the_properties(
        cal: WorkCalendar, zl_day: int, zl_time: dt.time, zl_how: str, zr_day: int,
        zr_interval: int, zr_weeks: int, fri_how: str, days_before: int, zb_day: int,
        wdb: int, start: int) -> None:
    anchor = dt.date(2025, 1, 6) + dt.timedelta(days=zr_day + 7 * zr_weeks)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "policies"
        shutil.copytree(shipped_policies(), root)
        path = root / ORG_ID / "meetings.toml"
        text = path.read_text(encoding="utf-8")
        text = _edit_block(text, "[[meeting_types.zhoulihui.schedules]]", {
            "weekday": f'"{WEEKDAY_NAMES[zl_day]}"', "time": _hhmm(zl_time),
            "on_holiday": f'"{zl_how}"'})
        text = _edit_block(text, "[[meeting_types.zhurenbangong.schedules]]", {
            "weekday": f'"{WEEKDAY_NAMES[zr_day]}"', "interval": str(zr_interval),
            "anchor": anchor.isoformat()})
        text = _edit_block(text, "[[meeting_types.kewuhui.schedules]]\nid = \"fri\"", {
            "on_holiday": f'"{fri_how}"'})
        text = _edit_block(text, "[[meeting_types.zongjie.schedules]]", {
            "working_days_before": str(wdb)})
        text = _edit_block(text, "[deadlines.yiti]", {"days_before": str(days_before)})
        text = _edit_block(text, "[deadlines.zhoubao]", {"weekday": f'"{WEEKDAY_NAMES[zb_day]}"'})
        path.write_text(text, encoding="utf-8")
        # The random years replace the shipped ones (which are still read first).
        for old in (root / "holidays").glob("*.toml"):
            old.unlink()
        for table in cal.years.values():
            (root / "holidays" / f"{table.year}.toml").write_text(_holiday_toml(table))
        loaded = load_policies(root)
        org = loaded.organizations[ORG_ID]
    # The shipped tables are always read first; the folder's own years replace them.
    expected = dict(shipped().calendar.years)
    expected.update(cal.years)
    assert loaded.calendar.years == expected
    zl = org.meeting_types["zhoulihui"].schedules[0]
    assert (zl.weekday, zl.time, zl.on_holiday) == (zl_day, zl_time, zl_how)
    zr = org.meeting_types["zhurenbangong"].schedules[0]
    assert (zr.weekday, zr.interval, zr.anchor) == (zr_day, zr_interval, anchor)
    assert org.meeting_types["kewuhui"].schedules[1].on_holiday == fri_how
    assert org.meeting_types["zongjie"].schedules[0].working_days_before == wdb
    assert org.deadlines["yiti"].days_before == days_before
    assert org.deadlines["zhoubao"].weekday == zb_day
    first = dt.date(2025, 3, 1) + dt.timedelta(days=start)
    case = Case(loaded, first, first + dt.timedelta(days=90))
    gen = case.generate()
    assert gen.series
    assert_expands_to_occurrences(gen)
    for o in gen.occurrences():
        assert _ok(case.cal, o.start.date(), makeup_weekends=True)
    for s in gen.series:
        if s.rule is not None:
            assert all(n.weekday() == s.rule.weekday for n in s.nominal)


# -- regressions: bugs these properties found (fixed in 0755048) ----------------------------

def _variant(**changes) -> PolicySet:
    base = shipped()
    org = base.organizations[ORG_ID]
    mts, dls = dict(org.meeting_types), dict(org.deadlines)
    for key, value in changes.items():
        kind, _, name = key.partition("__")
        if kind == "deadline":
            dls[name] = dataclasses.replace(dls[name], **value)
        else:
            mt = mts[name]
            mts[name] = dataclasses.replace(mt, schedules=(
                dataclasses.replace(mt.schedules[0], **value), *mt.schedules[1:]))
    org = dataclasses.replace(org, meeting_types=mts, deadlines=dls)
    return PolicySet(base.root, {ORG_ID: org}, base.calendar)


SPRING = (dt.date(2026, 3, 1), dt.date(2026, 4, 30))


def _nominal_on_rule(s: Series) -> list[dt.datetime]:
    assert s.rule is not None
    return [n for n in s.nominal if n.weekday() != s.rule.weekday]


@pytest.mark.parametrize("deadline", ["zhoubao", "yiti"])
def test_deadline_just_after_midnight_stays_on_its_rule(deadline: str) -> None:
    """Due 00:15: the half-hour block starts the day before; BYDAY must be that day's."""
    gen = generate(_variant(**{f"deadline__{deadline}": {"time": dt.time(0, 15)}}), *SPRING)
    for s in gen.series:
        if s.id.startswith(f"deadline-{deadline}"):
            assert _nominal_on_rule(s) == [], s.id
    assert_expands_to_occurrences(gen)


def test_after_meeting_past_midnight_stays_on_its_rule() -> None:
    """周例会 23:30–00:30: the 'after' 科务会 starts on Tuesdays, so its rule says TU."""
    gen = generate(_variant(meeting__zhoulihui={"time": dt.time(23, 30)}), *SPRING)
    mon = _series(gen, "kewuhui-zonghe-mon")
    assert mon is not None
    assert _nominal_on_rule(mon) == []
    assert_expands_to_occurrences(gen)


def test_same_day_deadline_is_not_after_its_meeting() -> None:
    """days_before = 0 and due 17:00 for a 09:00 meeting: due the working day before."""
    gen = generate(_variant(deadline__yiti={"days_before": 0}), *SPRING)
    meeting = {o.nominal_start.date(): o for o in _series(gen, "zhurenbangong").occurrences}
    deadline = _series(gen, "deadline-yiti-zhurenbangong")
    assert deadline is not None and deadline.occurrences
    for d in deadline.occurrences:
        m = meeting[(d.nominal_start + DEADLINE_BLOCK).date()]
        assert d.end <= m.start, (d.end, m.start)


def test_lengthening_one_weekly_meeting_keeps_the_after_series_ids() -> None:
    """A decision lengthening the range's first 周例会 must not shift every 科务会's ID."""
    first = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
    longer = Decision("zhoulihui@guanliban.calsync", first, "move", first,
                      first + dt.timedelta(minutes=90))
    plain = generate(shipped(), *SPRING)
    decided = generate(shipped(), *SPRING, None, Inputs(decisions=(longer,)))
    before = _series(plain, "kewuhui-zonghe-mon")
    after = _series(decided, "kewuhui-zonghe-mon")
    assert before is not None and after is not None
    assert after.nominal == before.nominal
    # Only the lengthened week's 科务会 starts later (the others move only for holidays).
    moved = {o.nominal_start for o in after.occurrences if o.moved}
    assert moved == {o.nominal_start for o in before.occurrences if o.moved} | {
        first + dt.timedelta(hours=1)}
    assert after.occurrences[0].start == first + dt.timedelta(minutes=90)
