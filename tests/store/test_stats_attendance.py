"""Statistics of what was held read the sign-in store: a held 主任办公会 with sign-ins counts
its attendance in the organizer section's cell, and the rate is attended over invited."""

from __future__ import annotations

import datetime as dt

from calsync.app.attendance_reports import attendance_by_occurrence
from calsync.app.held_inputs import org_held
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import Store

POLICIES = load_policies()
ORG = "guanliban"
UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
AT = dt.datetime(2026, 3, 4, 8, 50, tzinfo=TZ)
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)


def test_held_statistics_take_the_sign_in_counts(store: Store) -> None:
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    before = org_held(POLICIES, store, ORG, start, end, NOW)
    assert before.total.with_attendance == 0 and before.total.rate is None

    store.attendance.sign_in(ORG, UID, RID, "wang_fuzhuren", name="王立新", status="present",
                             method="self", actor="wang_fuzhuren", at=AT)
    counts = attendance_by_occurrence(POLICIES, store, ORG, start, end)
    assert set(counts) == {(UID, RID.isoformat())}     # keyed as Occurrence.recurrence_key
    a = counts[(UID, RID.isoformat())]
    assert a.present + a.late + a.leave + a.absent == a.invited and a.present == 1

    after = org_held(POLICIES, store, ORG, start, end, NOW)
    row = after.row("mishuke")
    assert after.total.with_attendance == 1
    assert after.total.invited == a.invited
    assert after.total.rate == (a.present + a.late) / a.invited
    assert row.total.with_attendance == 1   # counted for the organizer section, 秘书科
