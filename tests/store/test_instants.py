"""Instants cross the store API as aware datetimes; the canonical text key is the store's own.

An occurrence's recurrence id goes in as a datetime at any UTC offset and comes back as an
equal datetime (in calsync's zone); in the database it stays the ISO text rows were always
keyed by ("2026-03-02T09:30:00+08:00"), so existing rows keep matching.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import text

from calsync.errors import StoreError
from calsync.meetings.agenda import TopicInput
from calsync.meetings.minutes import DecisionInput
from calsync.occurrence import TZ
from calsync.store import Store

ORG, UID = "guanliban", "series-1@guanliban.calsync"
RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
RID_UTC = RID.astimezone(dt.UTC)                        # the same instant, written at +00:00
RID_FIXED = RID.astimezone(dt.timezone(dt.timedelta(hours=8)))   # and as a bare offset
KEY = "2026-03-02T09:30:00+08:00"


def _same(value: object, expected: dt.datetime) -> None:
    assert isinstance(value, dt.datetime) and value == expected
    assert value.utcoffset() == dt.timedelta(hours=8)      # in calsync's zone


def test_a_decision_is_found_at_any_offset_of_its_instant(store: Store) -> None:
    new_start = dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC)     # 09:00 in Shanghai
    made = store.decisions.add_decision(ORG, UID, RID_UTC, "move", actor="t", source="cli",
                                        new_start=new_start)
    _same(made.recurrence_id, RID)
    _same(made.new_start, new_start)
    assert made.new_end is None
    for rid in (RID, RID_UTC, RID_FIXED):
        found = store.decisions.active_decision(UID, rid)
        assert found is not None and found.id == made.id
        _same(found.recurrence_id, RID)
        _same(found.new_start, new_start)
    assert [d.id for d in store.decisions.decision_history(UID, RID_FIXED)] == [made.id]
    [active] = store.decisions.active_decisions(ORG)
    _same(active.recurrence_id, RID)
    # the same occurrence at another offset supersedes, it is not a second occurrence
    again = store.decisions.add_decision(ORG, UID, RID, "cancel", actor="t", source="cli",
                                         expected_version=1)
    assert again.version == 2 and len(store.decisions.active_decisions(ORG)) == 1
    withdrawn = store.decisions.withdraw_decision(UID, RID_UTC, actor="t", expected_version=2)
    assert withdrawn.id == again.id
    with store.engine.connect() as conn:             # the key rows were always keyed by
        keys = set(conn.execute(text("SELECT recurrence_id, new_start FROM decision")))
    assert keys == {(KEY, "2026-03-03T09:00:00+08:00"), (KEY, None)}


def test_a_merge_takes_datetimes(store: Store) -> None:
    other = RID + dt.timedelta(hours=2)
    kept, cancelled = store.decisions.add_merge(
        ORG, keep=(UID, RID_UTC), other=("series-2", other.astimezone(dt.UTC)),
        new_start=RID, new_end=RID + dt.timedelta(hours=1), actor="t")
    _same(kept.recurrence_id, RID)
    _same(cancelled.recurrence_id, other)
    assert kept.payload == {"other": ["series-2", other.isoformat()]}
    with pytest.raises(StoreError, match="with itself"):
        store.decisions.add_merge(ORG, keep=(UID, RID), other=(UID, RID_UTC), new_start=RID,
                                  new_end=None, actor="t")


def test_text_and_naive_instants_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="datetime"):
        store.decisions.add_decision(ORG, UID, KEY, "cancel", actor="t",  # type: ignore[arg-type]
                                     source="cli")
    with pytest.raises(StoreError, match="UTC offset"):
        store.decisions.active_decision(UID, RID.replace(tzinfo=None))
    with pytest.raises(StoreError, match="datetime"):
        store.leave.leave_for_occurrence(UID, KEY)  # type: ignore[arg-type]


def test_leave_is_found_at_any_offset(store: Store) -> None:
    note = store.leave.add_leave(ORG, UID, RID_UTC, "li", category="事假", reason="家中有事",
                                 substitute_id=None, late=False, needs_director=False,
                                 chair_id="zhang", director_id=None, actor="li")
    _same(note.recurrence_id, RID)
    assert [n.id for n in store.leave.leave_for_occurrence(UID, RID_FIXED)] == [note.id]
    _same(store.leave.leave_notes(ORG)[0].recurrence_id, RID)
    with pytest.raises(StoreError, match=re.escape(f"open leave note for {UID} at {KEY}")):
        store.leave.add_leave(ORG, UID, RID, "li", category="事假", reason="again",
                              substitute_id=None, late=False, needs_director=False,
                              chair_id="zhang", director_id=None, actor="li")


def test_sign_in_is_found_at_any_offset(store: Store) -> None:
    sheet = store.attendance.signin_sheet(ORG, UID, RID_UTC, actor="keeper")
    _same(sheet.recurrence_id, RID)
    again = store.attendance.get_signin_sheet(UID, RID_FIXED)
    assert again is not None and again.id == sheet.id
    assert store.attendance.signin_sheet(ORG, UID, RID, actor="keeper").id == sheet.id
    mark, new = store.attendance.sign_in(ORG, UID, RID, "li", name="李", status="present",
                                         method="self", actor="li")
    assert new
    _same(mark.recurrence_id, RID)
    _, twice = store.attendance.sign_in(ORG, UID, RID_UTC, "li", name="李", status="present",
                                        method="self", actor="li")
    assert not twice
    store.attendance.mark_attendance(ORG, UID, RID_UTC, "wang", name="王", status="late",
                                     actor="keeper", expected_version=0)
    assert [m.person_key for m in store.attendance.attendance_marks(UID, RID_FIXED)] == [
        "li", "wang"]
    by_occurrence = store.attendance.organization_attendance(ORG)
    assert list(by_occurrence) == [(UID, RID)]
    _same(next(iter(by_occurrence))[1], RID)


def test_minutes_and_their_decisions_are_found_at_any_offset(store: Store) -> None:
    saved = store.minutes.save_minutes(ORG, UID, RID_UTC, text="纪要", confidential=False,
                                       actor="zhou", expected_version=0)
    _same(saved.recurrence_id, RID)
    found = store.minutes.get_minutes(UID, RID_FIXED)
    assert found is not None and found.id == saved.id
    store.minutes.save_minutes(ORG, UID, RID, text="纪要二", confidential=False, actor="zhou",
                               expected_version=1)
    item = store.minutes.add_action_item(ORG, UID, RID_UTC,
                                         DecisionInput("修订办法", "zonghe", dt.date(2026, 3, 20)),
                                         meeting="周例会", confidential=False, actor="zhou")
    _same(item.recurrence_id, RID)
    assert [i.id for i in store.minutes.action_items(series_uid=UID,
                                                     recurrence_id=RID_FIXED)] == [item.id]


def test_agenda_and_sitting_in_are_found_at_any_offset(store: Store) -> None:
    topic = store.agenda.submit_topic(ORG, UID, RID_UTC, section="zonghe",
                                      topic=TopicInput("议题", "钱丽", 15), actor="qian")
    _same(topic.recurrence_id, RID)
    assert [t.id for t in store.agenda.topics(UID, RID_FIXED)] == [topic.id]
    store.agenda.decide_topic(topic.id, "consent", actor="wang")
    agenda = store.agenda.order_agenda(ORG, UID, RID, [topic.id], actor="zhou")
    store.agenda.approve_agenda(UID, RID_UTC, agenda.id, actor="zhang")
    [approved] = store.agenda.approved_agendas(ORG)
    _same(approved.recurrence_id, RID)
    assert [a.id for a in store.agenda.agendas(UID, RID_FIXED)] == [agenda.id]
    added = store.adhoc.add_sitting_in(ORG, UID, RID_UTC, "he_keyuan", actor="zhou")
    _same(added.recurrence_id, RID)
    assert [s.id for s in store.adhoc.sitting_in(ORG, UID, RID_FIXED)] == [added.id]
    with pytest.raises(StoreError, match="already sits in"):
        store.adhoc.add_sitting_in(ORG, UID, RID, "he_keyuan", actor="zhou")
