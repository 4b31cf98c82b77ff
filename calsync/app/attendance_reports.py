"""Attendance reports read from the store: one occurrence's, the statistics' counts, and a month's
as one viewer may see it (the pure parts are calsync.meetings.attendance_report)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from calsync import access
from calsync.app.service import generation
from calsync.meetings import attendance as att
from calsync.meetings.attendance_report import (
    MonthReport,
    OccurrenceReport,
    build,
    month_bounds,
)
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet
from calsync.store import Store


def occurrence_report(policies: PolicySet, store: Store, occ: Occurrence) -> OccurrenceReport:
    key = occ.nominal_start
    marks = store.attendance.attendance_marks(occ.uid, key)
    has_data = bool(marks) or store.attendance.get_signin_sheet(occ.uid, key) is not None
    return build(policies, occ, marks, store.leave.leave_for_occurrence(occ.uid, key), has_data)


def _meetings(policies: PolicySet, store: Store, org_id: str, start: dt.date,
              end: dt.date) -> list[Occurrence]:
    occs = generation(policies, store, start, end, [org_id]).occurrences()
    return [o for o in occs if o.organization == org_id and att.signable(o)
            and start <= o.start.astimezone(TZ).date() <= end]


def reports_in(policies: PolicySet, store: Store, org_id: str, start: dt.date,
               end: dt.date) -> tuple[list[OccurrenceReport], list[Occurrence]]:
    """(reports of meetings with sign-in data, meetings in the range without any)."""
    data = store.attendance.organization_attendance(org_id)
    notes: dict[tuple[str, dt.datetime], list] = defaultdict(list)
    for n in store.leave.leave_notes(org_id, status="approved"):
        notes[(n.series_uid, n.recurrence_id)].append(n)
    out, without = [], []
    for occ in _meetings(policies, store, org_id, start, end):
        key = (occ.uid, occ.nominal_start)
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
