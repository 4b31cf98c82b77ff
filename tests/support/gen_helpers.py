"""Small helpers shared by the generation tests."""

from __future__ import annotations

import datetime as dt
from functools import cache

from calsync.meetings.generate import Generation, generate
from calsync.policy import PolicySet, load_policies


@cache
def shipped() -> PolicySet:
    return load_policies()


@cache
def year_2026() -> Generation:
    return generate(shipped(), dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def dates_of(gen: Generation, series: str) -> list[dt.date]:
    return [o.start.date() for s in gen.series if s.id == series for o in s.occurrences]


def series_by_id(gen: Generation, series: str):
    return next(s for s in gen.series if s.id == series)
