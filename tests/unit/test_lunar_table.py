"""The shipped lunar table is lunar-python's own answer (it saves ~0.06 s a year)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from calsync.calendar.lunar import lunar_new_year
from calsync.calendar.lunar_table import DATES, FIRST, LAST
from calsync.calendar.statutory import festival_days

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from make_lunar_table import dates


@pytest.mark.parametrize("year", [FIRST, 1999, 2010, 2024, 2026, 2027, 2033, 2061, 2084, LAST])
def test_table_is_what_lunar_python_says(year: int) -> None:
    assert DATES[year] == tuple(d.isoformat() for d in dates(year))


def test_every_year_of_the_range_is_there() -> None:
    assert sorted(DATES) == list(range(FIRST, LAST + 1))


def test_years_outside_the_table_are_computed() -> None:
    year = LAST + 1
    assert lunar_new_year(year) == dates(year)[0]
    days = festival_days(year)
    assert days["清明节"] == (dates(year)[1],) and days["中秋节"] == (dates(year)[3],)
    assert days["春节"][1] == lunar_new_year(year) == dt.date.fromisoformat("2101-01-29")
