"""Attendance reports from the store (the shell around calsync.meetings.attendance): one
occurrence's, one organization's month, and the per-occurrence counts the statistics use.

:func:`attendance_by_occurrence` is the statistics' entry point: ``{(series uid,
recurrence id ISO): Attendance}`` for the organization's meetings in a date range that have
sign-in data (a sheet or a mark). A meeting nobody opened a sheet for is left out: no data
is not "everyone absent".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from calsync import access
from calsync.meetings import attendance as att
from calsync.meetings import attendance_policy as policy
from calsync.occurrence import Occurrence
from calsync.policy import PolicySet


@dataclass(frozen=True)
class OccurrenceReport:
    occ: Occurrence
    rid: str
    rows: tuple[att.Row, ...]
    counts: att.Attendance
    window: att.Window
    has_data: bool
    masked: bool = False          # 忙碌 for this viewer: no names, no counts

    @property
    def title(self) -> str:
        return access.BUSY if self.masked else self.occ.summary


@dataclass(frozen=True)
class MonthReport:
    organization: str
    year: int
    month: int
    occurrences: tuple[OccurrenceReport, ...]
    without_sheet: tuple[Occurrence, ...] = ()    # ended meetings nobody took sign-in for
    hidden: int = 0                                # occurrences this viewer may not see
    totals: att.Attendance = field(default=att.NONE)

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"


def rid(occ: Occurrence) -> str:
    return occ.recurrence_key


def window(policies: PolicySet, occ: Occurrence) -> att.Window:
    r = policy.rules(policies, occ)
    return att.window(occ, r.opens_minutes_before, r.late_after_minutes,
                      r.closes_minutes_after_end)


def _marks(marks: Iterable) -> list[att.MarkIn]:
    return [att.MarkIn(m.person_key, m.status, m.method, m.signed_at) for m in marks]


def _leaves(notes: Iterable) -> list[att.LeaveIn]:
    return [att.LeaveIn(n.person_id, n.category, n.substitute_id) for n in notes
            if n.status == "approved"]


def _names(policies: PolicySet, org_id: str) -> dict[str, str]:
    return {p.id: p.name for p in policies.organizations[org_id].people.values()}


def build(policies: PolicySet, occ: Occurrence, marks: Iterable, notes: Iterable,
          has_data: bool) -> OccurrenceReport:
    rows = tuple(att.rows(occ, _marks(marks), _leaves(notes),
                          _names(policies, occ.organization)))
    return OccurrenceReport(occ, rid(occ), rows, att.tally(rows), window(policies, occ),
                            has_data)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def parse_month(text: str | None, today: dt.date) -> tuple[int, int]:
    """``YYYY-MM`` (what <input type="month"> sends); anything else: the current month."""
    try:
        year, month = (int(x) for x in (text or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month
