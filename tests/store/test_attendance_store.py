"""Sign-in sheets and attendance marks in the store, on SQLite and PostgreSQL: one sheet per
occurrence, the first sign-in wins, hand corrections need the version seen and leave an
audit entry with before and after; migration 0012 down and up; and the statistics' view
(attendance_by_occurrence) on a hand-made month."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from sqlalchemy import inspect

from calsync.app.attendance_reports import attendance_by_occurrence, month_report
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings.attendance import Attendance
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import Store, open_store
from calsync.store import db as store_db
from calsync.store.attendance import target

ORG = "guanliban"
UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
RID2 = dt.datetime(2026, 3, 11, 9, 0, tzinfo=TZ)
AT = dt.datetime(2026, 3, 4, 8, 50, tzinfo=TZ)


def test_one_sheet_per_occurrence_and_a_new_code(store: Store) -> None:
    a = store.attendance.signin_sheet(ORG, UID, RID, actor="zhou", at=AT)
    b = store.attendance.signin_sheet(ORG, UID, dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ),
                                      actor="chen", at=AT)
    assert a == b and len(a.code) == 6 and a.code.isdigit() and len(a.token) >= 32
    assert store.attendance.signin_sheet_by_token(a.token) == a
    assert store.attendance.signin_sheet_by_token("x" * 65) is None
    renewed = store.attendance.renew_signin_code(a.id, actor="zhou", expected_version=1, at=AT)
    assert renewed.version == 2 and renewed.token == a.token
    with pytest.raises(ConcurrentChange):
        store.attendance.renew_signin_code(a.id, actor="chen", expected_version=1, at=AT)


def test_first_sign_in_wins_and_hand_corrections_are_audited(store: Store) -> None:
    mark, new = store.attendance.sign_in(ORG, UID, RID, "wang_fuzhuren", name="王立新",
                                         status="present",
                                         method="self", actor="wang_fuzhuren", at=AT)
    assert new and (mark.status, mark.method, mark.version) == ("present", "self", 1)
    again, new = store.attendance.sign_in(ORG, UID, RID, "wang_fuzhuren", name="王立新",
                                          status="late",
                                          method="code", actor="code:王立新",
                                          at=AT + dt.timedelta(hours=1))
    assert not new and again == mark                       # signing twice changes nothing
    with pytest.raises(ConcurrentChange):                   # the keeper saw "not marked"
        store.attendance.mark_attendance(ORG, UID, RID, "wang_fuzhuren", name="王立新",
                                         status="late",
                                         actor="zhou", expected_version=0, at=AT)
    fixed = store.attendance.mark_attendance(ORG, UID, RID, "wang_fuzhuren", name="王立新",
                                             status="late", actor="zhou", expected_version=1, at=AT)
    assert (fixed.status, fixed.method, fixed.version, fixed.signed_at) == (
        "late", "hand", 2, mark.signed_at)
    hand = store.attendance.mark_attendance(ORG, UID, RID, "mailto:school1@x", name="第一中学校长",
                                            status="present", actor="zhou", expected_version=0,
                                            at=AT)
    assert hand.version == 1 and hand.signed_at is None
    with pytest.raises(StoreError):
        store.attendance.mark_attendance(ORG, UID, RID, "li", name="李红梅", status="here",
                                         actor="zhou",
                                         expected_version=0, at=AT)
    with pytest.raises(StoreError):
        store.attendance.sign_in(ORG, UID, RID, "li", name="李红梅", status="present",
                                 method="hand",
                                 actor="li", at=AT)
    entries = [e for e in store.audit.audit_log(target=target(UID, RID))
               if e.action == "attendance.hand"]
    assert [(e.actor, json.loads(e.after)["status"]) for e in entries] == [
        ("zhou", "present"), ("zhou", "late")]
    correction = entries[1]
    assert json.loads(correction.before)["status"] == "present"   # before and after
    assert [m.person_key for m in store.attendance.attendance_marks(UID, RID)] == [
        "wang_fuzhuren", "mailto:school1@x"]
    assert store.attendance.attendance_marks(UID, RID2) == []


def test_statistics_view_of_a_hand_made_month(store: Store) -> None:
    """主任办公会 on 03-04 (sign-in taken) and 03-11 (none): only 03-04 has data. 6 invited
    (张建国 chair, 王立新, 李红梅, 赵志强, 周晓燕 and 陈静 列席)."""
    policies = load_policies()
    store.attendance.signin_sheet(ORG, UID, RID, actor="zhou", at=AT)
    store.attendance.sign_in(ORG, UID, RID, "zhang_zhuren", name="张建国", status="present",
                             method="self", actor="zhang_zhuren", at=AT)
    store.attendance.sign_in(ORG, UID, RID, "wang_fuzhuren", name="王立新", status="late",
                             method="self",
                             actor="wang_fuzhuren", at=AT + dt.timedelta(minutes=20))
    store.attendance.mark_attendance(ORG, UID, RID, "zhou_mishukezhang", name="周晓燕",
                                     status="present", actor="chen_mishu", expected_version=0,
                                     at=AT)
    note = store.leave.add_leave(ORG, UID, RID, "li_fuzhuren", category="公出", reason="市里开会",
                                 substitute_id=None, late=False, needs_director=False,
                                 chair_id="zhang_zhuren", director_id=None, actor="li_fuzhuren",
                                 at=AT - dt.timedelta(days=1))
    store.leave.decide_leave(note.id, "chair", True, actor="zhang_zhuren", expected_version=1,
                             at=AT - dt.timedelta(days=1))
    got = attendance_by_occurrence(policies, store, ORG, dt.date(2026, 3, 1),
                                   dt.date(2026, 3, 31))
    # the statistics key occurrences by their recurrence id's text (Occurrence.recurrence_key)
    assert got == {(UID, RID.isoformat()): Attendance(invited=6, present=2, late=1, leave=1,
                                                      absent=2)}
    a = got[(UID, RID.isoformat())]
    assert a.present + a.late + a.leave + a.absent == a.invited and a.rate == 0.5
    from calsync.access import viewer_of

    month = month_report(policies, store, ORG, 2026, 3, viewer_of(policies, "zhang_zhuren"),
                         dt.datetime(2026, 4, 1, tzinfo=TZ))
    assert month.totals == a and len(month.occurrences) == 1
    assert UID in {o.uid for o in month.without_sheet}     # 03-11 etc.: held, no sign-in


def test_migration_0012_down_and_up(fresh_db_url: str) -> None:
    with open_store(fresh_db_url) as store:
        store.attendance.signin_sheet(ORG, UID, RID, actor="zhou", at=AT)
        with store.engine.begin() as conn:
            command.downgrade(store_db.alembic_config(conn), "0011")
        names = set(inspect(store.engine).get_table_names())
        assert not {"signin_sheet", "attendance_mark"} & names
    with open_store(fresh_db_url) as again:
        assert again.attendance.get_signin_sheet(UID, RID) is None
        assert {"signin_sheet", "attendance_mark"} <= set(
            inspect(again.engine).get_table_names())
