"""Finding occurrences for the pages: by week, by (series UID, recurrence id)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import NoReturn

from flask import abort

from calsync import access
from calsync.app.service import generation
from calsync.occurrence import TZ, Occurrence, organization_of

from .core import core, now, user


@dataclass(frozen=True)
class Week:
    monday: dt.date
    sunday: dt.date

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def prev(self) -> str:
        return Week.of(self.monday - dt.timedelta(days=7)).label

    @property
    def next(self) -> str:
        return Week.of(self.monday + dt.timedelta(days=7)).label

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(7)]

    @staticmethod
    def of(day: dt.date) -> Week:
        monday = day - dt.timedelta(days=day.weekday())
        return Week(monday, monday + dt.timedelta(days=6))


MIN_YEAR, MAX_YEAR = 1950, 2150   # the calendar's years: a week or day outside them is a 400
OUT_OF_RANGE = (f"日期超出范围：会议日历只能查看 {MIN_YEAR} 年至 {MAX_YEAR} 年之间的周次和日期，"
                "请重新选择。")
_WEEK = re.compile(r"\s*(\d{1,6})-W(\d{1,3})\s*")


def out_of_range() -> NoReturn:
    abort(400, description=OUT_OF_RANGE)


def in_years(day: dt.date) -> dt.date:
    """``day`` if its year is one the calendar shows; else 400 with :data:`OUT_OF_RANGE`."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        out_of_range()
    return day


def parse_week(text: str | None) -> Week:
    """``YYYY-Www`` (what <input type="week"> sends); a year outside the calendar's or a week
    past 53 is a 400 (issue 20: 9999-W52 was a 500); anything unreadable means this week."""
    m = _WEEK.fullmatch(text or "")
    if m:
        year, number = int(m[1]), int(m[2])
        if not MIN_YEAR <= year <= MAX_YEAR or not 1 <= number <= 53:
            out_of_range()
        try:
            return Week.of(dt.datetime.strptime(f"{year:04d}-W{number:02d}-1",
                                                "%G-W%V-%u").date())
        except ValueError:
            pass
    return Week.of(now().date())


def check_month(text: str | None) -> str | None:
    """``month=YYYY-MM`` as given, after a 400 if its year is outside the calendar's or its
    month is not 1–12 (an unreadable one is left to the page: the current month)."""
    m = re.fullmatch(r"\s*(\d{1,6})-(\d{1,2})\s*", text or "")
    if m and (not MIN_YEAR <= int(m[1]) <= MAX_YEAR or not 1 <= int(m[2]) <= 12):
        out_of_range()
    return text


def parse_day(text: str | None) -> dt.date | None:
    """A typed day (``YYYY-MM-DD``, 2026/3/18, 2026年3月18日); None if unreadable; a 400 if
    its year is outside the calendar's."""
    m = _DATE.match(text or "")
    if m and not MIN_YEAR <= int(m[1]) <= MAX_YEAR:
        out_of_range()
    return _loose_date(text) if text else None


def rid(occ: Occurrence) -> str:
    """The recurrence id as pages and forms carry it: nominal start, ISO with offset (the
    store takes ``occ.nominal_start`` itself)."""
    return occ.nominal_start.isoformat()


def parse_instant(text: str | dt.datetime | None) -> dt.datetime | None:
    """A recurrence id from a URL or form (ISO text), or a stored record's (a datetime)."""
    if isinstance(text, dt.datetime):
        value = text
    else:
        try:
            value = dt.datetime.fromisoformat(text or "")
        except ValueError:
            return None
    return value if value.tzinfo is not None else None


def in_range(start: dt.date, end: dt.date, orgs: list[str]) -> list[Occurrence]:
    c = core()
    return generation(c.policies, c.store, start, end, orgs).occurrences()


def org_of_uid(series_uid: str) -> str | None:
    """The organization whose UID it is (calsync.occurrence.organization_of), or None."""
    return organization_of(series_uid, core().policies)


def find(series_uid: str, recurrence_id: str | dt.datetime) -> Occurrence | None:
    """The occurrence (decisions, leave and requests applied), or None."""
    nominal = parse_instant(recurrence_id)
    if nominal is None:
        return None
    org = org_of_uid(series_uid)
    orgs = [org] if org else sorted(core().policies.organizations)
    day = nominal.astimezone(TZ).date()
    # A week either side: enough for holiday moves, cheap to generate.
    for occ in in_range(day - dt.timedelta(days=7), day + dt.timedelta(days=7), orgs):
        if occ.uid == series_uid and occ.nominal_start == nominal:
            return occ
    return None


def known(series_uid: str, recurrence_id: str) -> Occurrence:
    """The occurrence, if the logged-in user may know it exists (calsync.access.knows: they see
    it in full); else 404, the very answer of an unknown id — a 忙碌 block or another
    organization's meeting is never told apart from nothing by its id (issue 20)."""
    occ = find(series_uid, recurrence_id)
    if occ is None or not access.knows(user().viewer, occ):
        abort(404)
    return occ


def by_key(occs: list[Occurrence]) -> dict[tuple[str, dt.datetime], Occurrence]:
    return {(o.uid, o.nominal_start): o for o in occs}


def lookup(index: dict[tuple[str, dt.datetime], Occurrence], series_uid: str | None,
           recurrence_id: str | dt.datetime | None) -> Occurrence | None:
    nominal = parse_instant(recurrence_id)
    if series_uid is None or nominal is None:
        return None
    return index.get((series_uid, nominal))


def chosen_day(date_text: str | None, week_text: str | None) -> dt.date:
    """The day a calendar view is about: ``YYYY-MM-DD`` (what <input type="date"> sends, in
    Safari and Firefox alike), else a ``YYYY-Www`` week's Monday, else today."""
    day = parse_day(date_text)
    if day is not None:
        return day
    if week_text:
        return parse_week(week_text).monday
    return now().date()


_DATE = re.compile(r"\s*(\d{4,6})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _loose_date(text: str) -> dt.date | None:
    """2026-03-18, and what a browser without a date picker lets people type instead
    (2026/3/18, 2026.3.18, 2026年3月18日)."""
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
