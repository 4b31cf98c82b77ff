"""The statutory days off of 《全国年节及纪念日放假办法》 (2024 revision), from the lunar calendar.

Without a State Council notice for a year, these days are still off by law; the notice only
adds bridge days (调休), make-up working days (上班) and the days that join a weekend.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from calsync.calendar.lunar import lunar_new_year
from calsync.calendar.lunar_table import DATES, FIRST, LAST

ONE_DAY = dt.timedelta(days=1)

# How far from the nearest statutory day a notice has put anything, measured on the notices of
# 2010–2026 (tests/fixtures/notices; tests/test_statutory.py recomputes both figures):
# - a day off (bridge days, the days of a long block): at most OFF_SPAN days away;
# - a make-up working day (always a weekend day): at most MAKEUP_SPAN days away.
# A law-only year's date farther away than these spans cannot be moved by the coming notice.
OFF_SPAN = 5
MAKEUP_SPAN = 9


def _solar(lunar: Any) -> dt.date:
    s = lunar.getSolar()
    return dt.date(s.getYear(), s.getMonth(), s.getDay())


@cache
def festival_days(year: int) -> dict[str, tuple[dt.date, ...]]:
    """Each festival's statutory days in ``year`` (Gregorian), in the law's order."""
    new_year = lunar_new_year(year)
    qingming, duanwu, zhongqiu = _lunar_dates(year)
    return {
        "元旦": (dt.date(year, 1, 1),),
        "春节": tuple(new_year + i * ONE_DAY for i in range(-1, 3)),  # 除夕, 初一 – 初三
        "清明节": (qingming,),
        "劳动节": (dt.date(year, 5, 1), dt.date(year, 5, 2)),
        "端午节": (duanwu,),
        "中秋节": (zhongqiu,),
        "国庆节": tuple(dt.date(year, 10, d) for d in (1, 2, 3)),
    }


def _lunar_dates(year: int) -> tuple[dt.date, dt.date, dt.date]:
    """清明, 端午, 中秋 of ``year``: lunar-python's answers, from the table it wrote when the
    year is in it (calsync.calendar.lunar_table), else computed (~0.06 s a year)."""
    if FIRST <= year <= LAST:
        _, *rest = DATES[year]
        q, d, z = (dt.date.fromisoformat(x) for x in rest)
        return q, d, z
    from lunar_python import Lunar

    qingming = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    return (dt.date(qingming.getYear(), qingming.getMonth(), qingming.getDay()),
            _solar(Lunar.fromYmd(year, 5, 5)), _solar(Lunar.fromYmd(year, 8, 15)))


@cache
def statutory_days(year: int) -> dict[dt.date, str]:
    """Every statutory day off of ``year``, with its festival's name (中秋 may meet 国庆)."""
    days: dict[dt.date, str] = {}
    for name, dates in festival_days(year).items():
        for day in dates:
            days[day] = f"{days[day]}、{name}" if day in days else name
    return dict(sorted(days.items()))


@cache
def distance_to_statutory(day: dt.date) -> int:
    """Days between ``day`` and the nearest statutory day (this, the previous or next year)."""
    near = [d for y in (day.year - 1, day.year, day.year + 1) for d in statutory_days(y)]
    return min(abs((d - day).days) for d in near)


def notice_may_change(day: dt.date) -> bool:
    """Could the year's notice still change whether ``day`` is worked?

    A weekday can become a day off (within OFF_SPAN of a statutory day); a weekend day can
    become a make-up working day (within MAKEUP_SPAN).
    """
    if day in statutory_days(day.year):
        return False  # off by law, whatever the notice says
    span = OFF_SPAN if day.weekday() < 5 else MAKEUP_SPAN
    return distance_to_statutory(day) <= span
