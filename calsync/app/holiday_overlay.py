"""The meetings a holiday notice moves (before → after), for the secretary to check before
applying it. Applied tables (``<instance>/holidays/YYYY.toml``) are read by
``calsync.policy.load``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from calsync.app.service import generation
from calsync.calendar.notice import Notice
from calsync.calendar.workdays import WorkCalendar, YearTable
from calsync.occurrence import Occurrence
from calsync.policy import PolicySet
from calsync.store import Store


def with_years(policies: PolicySet, years: dict[int, YearTable]) -> PolicySet:
    return replace(policies, calendar=WorkCalendar({**policies.calendar.years, **years}))


def notice_table(notice: Notice) -> YearTable:
    return YearTable(notice.year, notice.source, dict(notice.holidays), dict(notice.workdays))


@dataclass(frozen=True)
class Change:
    """One occurrence the notice moves: ``before`` None = new, ``after`` None = no longer held."""

    before: Occurrence | None
    after: Occurrence | None

    @property
    def sort_key(self) -> tuple:
        o = self.before or self.after
        assert o is not None
        return (o.nominal_start, o.uid)


def notice_changes(policies: PolicySet, store: Store | None, notice: Notice,
                   orgs: list[str]) -> tuple[list[Change], int]:
    """The occurrences of the notice's year (and of the December it reaches into) that move,
    appear or go; and how many stop being provisional."""

    first = min([dt.date(notice.year, 1, 1), *notice.holidays, *notice.workdays])
    last = dt.date(notice.year, 12, 31)
    before = _by_key(generation(policies, store, first, last, orgs).occurrences())
    after_policies = with_years(policies, {notice.year: notice_table(notice)})
    after = _by_key(generation(after_policies, store, first, last, orgs).occurrences())
    changes = [Change(before.get(k), after.get(k)) for k in before.keys() | after.keys()
               if k not in before or k not in after or before[k].start != after[k].start]
    settled = sum(1 for k, o in before.items()
                  if o.provisional and k in after and not after[k].provisional)
    return sorted(changes, key=lambda c: c.sort_key), settled


def affected_orgs(changes: list[Change]) -> frozenset[str]:
    """The organizations whose meetings the notice moves, adds or drops."""
    return frozenset((c.before or c.after).organization for c in changes  # type: ignore[union-attr]
                     if (c.before or c.after) is not None)


def _by_key(occs: list[Occurrence]) -> dict[tuple[str, dt.datetime], Occurrence]:
    return {(o.uid, o.nominal_start): o for o in occs}
