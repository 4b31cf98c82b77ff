"""Chinese working days: statutory holidays and 调休 make-up working days, one file per year.

The shipped tables (``policies/holidays/YYYY.toml``) transcribe the State Council notices and
override any package; a year's table may also list days of the previous December (元旦 blocks
such as 2018-12-30 – 2019-01-01). A year without a table is *law-only*: its statutory days
(calsync.calendar.statutory) are off, other weekdays are worked, and a day the coming notice
could still change is *provisional*: everything generated on such a day says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from calsync.calendar.lunar import lunar_new_year
from calsync.calendar.statutory import notice_may_change, statutory_days

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
