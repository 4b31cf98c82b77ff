"""Lunar calendar dates (Spring Festival), from lunar-python (MIT)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from calsync.calendar.lunar_table import DATES, FIRST, LAST


@cache
def lunar_new_year(year: int) -> dt.date:
    """The Gregorian date of 正月初一 of the lunar year that starts in ``year``."""
    if FIRST <= year <= LAST:   # lunar-python's own answer, computed once (lunar_table)
        return dt.date.fromisoformat(DATES[year][0])
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, 1, 1).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())
