"""Chinese working days: statutory holidays and 调休 make-up working days, one file per year.

The shipped tables (``policies/holidays/YYYY.toml``) transcribe the State Council notices and
override any package; a year's table may also list days of the previous December (元旦 blocks
such as 2018-12-30 – 2019-01-01). A year without a table is *law-only*: its statutory days
(calsync.calendar.statutory) are off, other weekdays are worked, and a day the coming notice
could still change is *provisional*: everything generated on such a day says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from calsync.calendar.statutory import notice_may_change, statutory_days
from calsync.errors import PolicyProblem
from calsync.lunar import lunar_new_year
from calsync.policy.reader import Reader

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class YearTable:
    year: int
    source: str
    holidays: dict[dt.date, str]       # every day off, with the festival's name
    workdays: dict[dt.date, str]       # weekend days that are working days (调休)


@dataclass(frozen=True)
class WorkCalendar:
    years: dict[int, YearTable] = field(default_factory=dict)

    def is_law_only(self, year: int) -> bool:
        return year not in self.years

    def is_provisional(self, day: dt.date) -> bool:
        """Could the coming notice (of this year, or of the next for late December) change
        whether ``day`` is worked? Only near a statutory day of a year without a table."""
        if not notice_may_change(day):
            return False
        return day.year not in self.years or (day.month == 12 and day.year + 1 not in self.years)

    def _tables(self, day: dt.date) -> list[YearTable]:
        # The next year's notice may decide late December days; it is the later word.
        return [t for t in (self.years.get(day.year + 1), self.years.get(day.year)) if t]

    def is_working_day(self, day: dt.date) -> bool:
        for table in self._tables(day):
            if day in table.holidays:
                return False
            if day in table.workdays:
                return True
        if day.year not in self.years and day in statutory_days(day.year):
            return False
        return day.weekday() < 5

    def is_makeup_workday(self, day: dt.date) -> bool:
        return any(day in t.workdays for t in self._tables(day))

    def holiday_name(self, day: dt.date) -> str | None:
        for table in self._tables(day):
            if day in table.holidays:
                return table.holidays[day]
        if day.year not in self.years:
            return statutory_days(day.year).get(day)
        return None

    def spring_festival_holiday_start(self, year: int) -> tuple[dt.date, bool]:
        """First day off of the Spring Festival holiday; (date, provisional).

        From the year's table (the 春节 block around the lunar new year); without a table,
        the lunar new year's eve (除夕), flagged provisional.
        """
        new_year = lunar_new_year(year)
        table = self.years.get(year)
        if table is not None:
            day = new_year
            if day in table.holidays:
                while day - ONE_DAY in table.holidays:
                    day -= ONE_DAY
                return day, False
        return new_year - ONE_DAY, True

    def years_missing(self, start: dt.date, end: dt.date) -> list[int]:
        return [y for y in range(start.year, end.year + 1) if y not in self.years]


def load_holiday_tables(folders: Iterable[Path],
                        problems: list[PolicyProblem]) -> WorkCalendar:
    """Read ``YYYY.toml`` from each folder; a later folder's year replaces an earlier one's."""
    years: dict[int, YearTable] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            table = _load_year(path, problems)
            if table is not None:
                years[table.year] = table
    return WorkCalendar(years)


def _load_year(path: Path, problems: list[PolicyProblem]) -> YearTable | None:
    r = Reader(path, str(path), problems)
    if not r.load():
        return None
    before = len(problems)
    d = r.data
    r.unknown_keys(d, "", ("year", "source", "holidays", "workdays"))
    year = r.integer(d, "", "year", 1990, 2200)
    if year is not None and path.stem != str(year):
        r.problem("year", f"{year} differs from the file name {path.name}",
                  f"name the file {year}.toml")
    holidays: dict[dt.date, str] = {}
    for i, h in enumerate(_list(r, d, "holidays")):
        key = f"holidays[{i}]"
        r.unknown_keys(h, key, ("name", "start", "end"))
        name, start, end = r.text(h, key, "name"), r.date(h, key, "start"), r.date(h, key, "end")
        in_year = [_in_year(r, key, k, v, year) for k, v in (("start", start), ("end", end))]
        if year is None or not all(in_year):
            continue
        if start and end and end < start:
            r.problem(f"{key}.end", f"{end} is before start {start}", "swap start and end")
            continue
        day = start
        while name and day and end and day <= end:
            holidays[day] = name
            day += ONE_DAY
    workdays: dict[dt.date, str] = {}
    for i, w in enumerate(_list(r, d, "workdays")):
        key = f"workdays[{i}]"
        r.unknown_keys(w, key, ("name", "date"))
        name, day = r.text(w, key, "name"), r.date(w, key, "date")
        if not _in_year(r, key, "date", day, year):
            continue
        if day and day.weekday() < 5:
            r.problem(f"{key}.date", f"{day} is a weekday, not a 调休 weekend",
                      "list only Saturdays or Sundays that are working days")
        elif day and day in holidays:
            r.problem(f"{key}.date", f"{day} is also listed as a holiday", "remove one of them")
        elif name and day:
            workdays[day] = name
    if len(problems) > before or year is None:
        return None
    return YearTable(year, r.text(d, "", "source", default="") or "", holidays, workdays)


def _in_year(r: Reader, key: str, name: str, day: dt.date | None, year: int | None) -> bool:
    if day is None or year is None or day.year == year:
        return True
    if day.year == year - 1 and day.month == 12:
        return True  # the year's notice may start 元旦 in the previous December
    r.problem(f"{key}.{name}", f"{day} is not in {year}", "put it in the file of its own year")
    return False


def _list(r: Reader, d: dict, name: str) -> list[dict]:
    raw = d.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        r.problem(name, "must be a list of tables", f"write {name} = [{{ … }}, …]")
        return []
    return raw
