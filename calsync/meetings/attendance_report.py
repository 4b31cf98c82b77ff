"""Attendance reports from the store (the shell around calsync.meetings.attendance): one
occurrence's, one organization's month, and the per-occurrence counts the statistics use.

:func:`attendance_by_occurrence` is the statistics' entry point: ``{(series uid,
recurrence id ISO): Attendance}`` for the organization's meetings in a date range that have
sign-in data (a sheet or a mark). A meeting nobody opened a sheet for is left out: no data
is not "everyone absent".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from calsync import access
from calsync.meetings import attendance as att
from calsync.meetings import attendance_policy as policy
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet
from calsync.store import Store
from calsync.store.decisions import normalize_instant


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
    return normalize_instant(occ.nominal_start.isoformat(), "recurrence id")


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


def occurrence_report(policies: PolicySet, store: Store, occ: Occurrence) -> OccurrenceReport:
    key = rid(occ)
    marks = store.attendance_marks(occ.uid, key)
    has_data = bool(marks) or store.get_signin_sheet(occ.uid, key) is not None
    return build(policies, occ, marks, store.leave_for_occurrence(occ.uid, key), has_data)


def _meetings(policies: PolicySet, store: Store, org_id: str, start: dt.date,
              end: dt.date) -> list[Occurrence]:
    from calsync.service import generation

    occs = generation(policies, store, start, end, [org_id]).occurrences()
    return [o for o in occs if o.organization == org_id and att.signable(o)
            and start <= o.start.astimezone(TZ).date() <= end]


def reports_in(policies: PolicySet, store: Store, org_id: str, start: dt.date,
               end: dt.date) -> tuple[list[OccurrenceReport], list[Occurrence]]:
    """(reports of meetings with sign-in data, meetings in the range without any)."""
    data = store.organization_attendance(org_id)
    notes: dict[tuple[str, str], list] = defaultdict(list)
    for n in store.leave_notes(org_id, status="approved"):
        notes[(n.series_uid, n.recurrence_id)].append(n)
    out, without = [], []
    for occ in _meetings(policies, store, org_id, start, end):
        key = (occ.uid, rid(occ))
        if key in data:
            out.append(build(policies, occ, data[key], notes.get(key, []), True))
        else:
            without.append(occ)
    return out, without


def attendance_by_occurrence(policies: PolicySet, store: Store, org_id: str,
                             start: dt.date, end: dt.date
                             ) -> dict[tuple[str, str], att.Attendance]:
    """The statistics' view: counts per (series uid, recurrence id ISO) of the meetings from
    ``start`` to ``end`` (inclusive, local dates) that have sign-in data."""
    reports, _ = reports_in(policies, store, org_id, start, end)
    return {(r.occ.uid, r.rid): r.counts for r in reports}


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def month_report(policies: PolicySet, store: Store, org_id: str, year: int, month: int,
                 viewer: access.Viewer, now: dt.datetime) -> MonthReport:
    """The month as ``viewer`` may see it: a confidential meeting they are not invited to is
    a 忙碌 line without names or counts (and not in the totals); another organization's
    meetings never appear."""
    start, end = month_bounds(year, month)
    reports, without = reports_in(policies, store, org_id, start, end)
    shown: list[OccurrenceReport] = []
    hidden = 0
    totals = att.NONE
    for r in reports:
        seen = access.visibility(viewer, r.occ)
        if seen == access.NONE:
            hidden += 1
            continue
        if seen != access.FULL:
            shown.append(OccurrenceReport(r.occ, r.rid, (), att.NONE, r.window, True,
                                          masked=True))
            continue
        shown.append(r)
        totals = totals + r.counts
    ended = tuple(o for o in without if o.end <= now
                  and access.visibility(viewer, o) == access.FULL)
    return MonthReport(org_id, year, month, tuple(shown), ended, hidden, totals)


def parse_month(text: str | None, today: dt.date) -> tuple[int, int]:
    """``YYYY-MM`` (what <input type="month"> sends); anything else: the current month."""
    try:
        year, month = (int(x) for x in (text or "").split("-"))
        if 2000 <= year <= 2100 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month
