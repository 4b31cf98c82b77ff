"""The held statistics and the weekly sheet from the store: the organization's occurrences
generated with every stored input (decisions, approved requests, ad-hoc meetings) and the
sign-in data, for the CLI and the page alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from calsync.access import Viewer
from calsync.app.attendance_reports import attendance_by_occurrence
from calsync.app.service import generation
from calsync.meetings import weekly
from calsync.meetings.held import AttendanceKey, AttendanceLike, HeldStats, held_stats, window
from calsync.policy import PolicySet
from calsync.store import Store


def stored_attendance(policies: PolicySet, store: Store | None, org_id: str, first: dt.date,
                      last: dt.date) -> Mapping[AttendanceKey, AttendanceLike] | None:
    """Sign-in data of the organization's occurrences in [first, last], keyed by (series
    UID, recurrence id ISO); only meetings that took sign-in
    (calsync.meetings.attendance_report)."""
    if store is None:
        return None

    return attendance_by_occurrence(policies, store, org_id, first, last)


def org_held(policies: PolicySet, store: Store | None, org_id: str, start: dt.date,
             end: dt.date, now: dt.datetime,
             attendance: Mapping[AttendanceKey, AttendanceLike] | None = None,
             warn: Callable[[str], None] | None = None) -> HeldStats:
    """Generate the organization's occurrences (store inputs applied) over the range widened
    to whole periods, and count what was held by ``now``."""
    org = policies.organizations[org_id]
    first, last = window(org, start, end)
    gen = generation(policies, store, first, last, [org_id])
    for line in gen.warnings:
        if warn is not None:
            warn(line)
    requests = store.requests.meeting_requests(org_id,
                                               status="approved") if store is not None else []
    adhoc = store.adhoc.adhoc_meetings(org_id) if store is not None else []
    if attendance is None:
        attendance = stored_attendance(policies, store, org_id, first, last)
    return held_stats(org, gen.occurrences(), now, start=start, end=end, requests=requests,
                      adhoc=adhoc, attendance=attendance)


def org_sheet(policies: PolicySet, store: Store | None, org_id: str, monday: dt.date,
              viewer: Viewer, *, public: bool = False) -> weekly.Sheet:
    """The weekly sheet of ``org_id`` for the week of ``monday``, as ``viewer`` may see it."""
    org = policies.organizations[org_id]
    gen = generation(policies, store, monday, monday + dt.timedelta(days=6), [org_id])
    requests = store.requests.meeting_requests(org_id,
                                               status="approved") if store is not None else []
    adhoc = store.adhoc.adhoc_meetings(org_id) if store is not None else []
    return weekly.sheet(org, gen.occurrences(), viewer, monday, requests=requests,
                        adhoc=adhoc, public=public)
