"""The shipped holiday tables agree day for day with chinese-calendar, an independent table."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from tests.support.gen_helpers import shipped


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_tables_agree_with_chinese_calendar(year: int) -> None:
    cal = shipped().calendar
    assert year in cal.years
    day = dt.date(year, 1, 1)
    disagreements = []
    while day.year == year:
        if cal.is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        if cal.is_makeup_workday(day) != (day.weekday() >= 5 and chinese_calendar.is_workday(day)):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []
