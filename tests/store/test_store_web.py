"""Store additions for the web app: users, leave notes, meeting requests, clash acks, merges,
and migration 0003 over a database that already has rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.errors import ConcurrentChange, StoreError
from calsync.occurrence import TZ
from calsync.store import Store, open_store
from calsync.store import db as store_db
from calsync.store.models import LeaveNoteRow
from calsync.store.records import UserRecord
from tests.store.test_store import _in_threads

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OCC = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
OCC2 = dt.datetime(2026, 3, 2, 10, 30, tzinfo=TZ)
ORG = "guanliban"


def _audit(store: Store, target: str) -> list[tuple[str, str]]:
    """(action, actor) of a target's audit rows, oldest first."""
    return [(e.action, e.actor) for e in reversed(store.audit.audit_log(target))]


# -- users -----------------------------------------------------------------------------------


def test_users_upsert_list_and_password(store: Store) -> None:
    created = store.users.set_user(
        "li", organization=ORG, display_name="李明", role="secretary", actor="admin", at=T0
    )
    assert (created.role, created.password_hash, created.created_at) == ("secretary", None, T0)
    store.users.set_user("wang", organization="jiaoyuju", display_name="王芳", role="staff",
                         password_hash="h-wang", actor="admin")
    with_pw = store.users.set_password("li", "pbkdf2$Xq9hash", "admin")
    assert with_pw.password_hash == "pbkdf2$Xq9hash"
    # an update without a hash keeps the password and the creation time
    updated = store.users.set_user(
        "li", organization=ORG, display_name="李明明", role="leader", actor="admin"
    )
    assert (updated.display_name, updated.role) == ("李明明", "leader")
    assert (updated.password_hash, updated.created_at) == ("pbkdf2$Xq9hash", T0)
    assert store.users.get_user("li") == updated
    assert store.users.get_user("nobody") is None
    assert [u.username for u in store.users.list_users()] == ["li", "wang"]
    assert [u.username for u in store.users.list_users("jiaoyuju")] == ["wang"]
    assert "Xq9hash" not in repr(updated)

    assert _audit(store, "user:li") == [
        ("user.create", "admin"),
        ("user.password", "admin"),
        ("user.update", "admin"),
    ]
    # the audit log never holds a password hash
    for entry in store.audit.audit_log():
        assert "Xq9hash" not in f"{entry.before}{entry.after}"
        assert "h-wang" not in f"{entry.before}{entry.after}"
    last = store.audit.audit_log("user:li")[0]
    assert json.loads(last.before)["role"] == "secretary"
    assert json.loads(last.after) == {"username": "li", "organization": ORG,
                                      "display_name": "李明明", "role": "leader",
                                      "has_password": True}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "admin"}, "unknown user role"),
        ({"display_name": " "}, "non-empty display name"),
        ({"username": ""}, "non-empty user name"),
        ({"username": "li ming"}, "must not contain spaces"),
        ({"organization": ""}, "non-empty organization"),
    ],
)
def test_bad_users_are_refused(store: Store, kwargs: dict[str, str], message: str) -> None:
    args = {"username": "li", "organization": ORG, "display_name": "李明", "role": "staff"}
    args |= kwargs
    with pytest.raises(StoreError, match=message):
        store.users.set_user(args.pop("username"), actor="admin", **args)
    with pytest.raises(StoreError, match="no user 'ghost'"):
        store.users.set_password("ghost", "hash", "admin")
    assert store.users.list_users() == [] and store.audit.audit_log() == []


# -- leave notes -----------------------------------------------------------------------------


def _leave(store: Store, person: str = "zhang", *, needs_director: bool = False,
           rid: dt.datetime = OCC, **kwargs: object) -> int:
    args: dict[str, object] = {
        "category": "公出", "reason": "市里开会", "substitute_id": None, "late": False,
        "chair_id": "zhuren", "director_id": "juzhang" if needs_director else None,
    }
    args |= kwargs
    note = store.leave.add_leave(ORG, "series-1", rid, person, needs_director=needs_director,
                                 actor=person, **args)  # type: ignore[arg-type]
    return note.id


def test_leave_without_director_is_approved_by_the_chair(store: Store) -> None:
    note_id = _leave(store, substitute_id="li", late=True)
    note = store.leave.get_leave(note_id)
    assert note is not None
    assert (note.status, note.chair_status, note.director_status, note.version) == (
        "pending", "pending", None, 1)
    assert (note.substitute_id, note.late, note.needs_director) == ("li", True, False)
    with pytest.raises(StoreError, match="does not need the director"):
        store.leave.decide_leave(note_id, "director", True, actor="juzhang", expected_version=1)
    approved = store.leave.decide_leave(note_id, "chair", True, actor="zhuren", expected_version=1)
    assert (approved.status, approved.chair_status, approved.version) == ("approved", "approved", 2)
    stamp = store.audit.audit_log(f"leave:{note_id}")[0].at
    assert (approved.chair_by, approved.chair_at) == ("zhuren", stamp)
    with pytest.raises(StoreError, match="already approved by zhuren"):
        store.leave.decide_leave(note_id, "chair", False, actor="zhuren", expected_version=2)
    withdrawn = store.leave.withdraw_leave(note_id, actor="zhang", expected_version=2)
    assert (withdrawn.status, withdrawn.version) == ("withdrawn", 3)
    with pytest.raises(StoreError, match="is withdrawn"):
        store.leave.decide_leave(note_id, "chair", True, actor="zhuren", expected_version=3)
    with pytest.raises(StoreError, match="already withdrawn"):
        store.leave.withdraw_leave(note_id, actor="zhang", expected_version=3)
    assert _audit(store, f"leave:{note_id}") == [
        ("leave.create", "zhang"),
        ("leave.chair-approve", "zhuren"),
        ("leave.withdraw", "zhang"),
    ]
    last = store.audit.audit_log(f"leave:{note_id}")[0]
    assert json.loads(last.before)["status"] == "approved"
    assert json.loads(last.after)["status"] == "withdrawn"


@pytest.mark.parametrize("order", ["chair-first", "director-first"])
def test_leave_with_director_needs_both_steps(store: Store, order: str) -> None:
    note_id = _leave(store, needs_director=True)
    steps = ["chair", "director"] if order == "chair-first" else ["director", "chair"]
    first = store.leave.decide_leave(note_id, steps[0], True, actor="a", expected_version=1)
    assert (first.status, first.director_status is not None) == ("pending", True)
    second = store.leave.decide_leave(note_id, steps[1], True, actor="b", expected_version=2)
    assert (second.status, second.chair_status, second.director_status) == (
        "approved", "approved", "approved")
    assert second.director_by == ("b" if order == "chair-first" else "a")


@pytest.mark.parametrize("step", ["chair", "director"])
def test_leave_is_rejected_as_soon_as_one_step_rejects(store: Store, step: str) -> None:
    note_id = _leave(store, needs_director=True)
    rejected = store.leave.decide_leave(note_id, step, False, actor="x", expected_version=1)
    assert rejected.status == "rejected"
    other = "director" if step == "chair" else "chair"
    with pytest.raises(StoreError, match="is rejected"):
        store.leave.decide_leave(note_id, other, True, actor="y", expected_version=2)
    with pytest.raises(StoreError, match="already rejected"):
        store.leave.withdraw_leave(note_id, actor="zhang", expected_version=2)
    assert _audit(store, f"leave:{note_id}")[-1] == (f"leave.{step}-reject", "x")
    # a rejected note is closed: the person may file a new one
    assert store.leave.get_leave(_leave(store)).status == "pending"  # type: ignore[union-attr]


def test_leave_queries(store: Store) -> None:
    a = _leave(store, "zhang")
    b = _leave(store, "li", category="病假")
    c = _leave(store, "zhang", rid=OCC2)
    store.leave.add_leave("jiaoyuju", "series-9", OCC, "zhao", category="其他", reason="",
                          substitute_id=None, late=False, needs_director=False, chair_id=None,
                          director_id=None, actor="zhao")
    store.leave.decide_leave(b, "chair", False, actor="zhuren", expected_version=1)
    # the same instant written at another UTC offset is the same occurrence
    notes = store.leave.leave_for_occurrence("series-1", OCC.astimezone(dt.UTC))
    assert [n.id for n in notes] == [a, b]
    assert [n.id for n in store.leave.leave_notes(ORG)] == [a, b, c]
    assert [n.id for n in store.leave.leave_notes(ORG, person_id="zhang")] == [a, c]
    assert [n.id for n in store.leave.leave_notes(status="rejected")] == [b]
    assert len(store.leave.leave_notes()) == 4
    assert store.leave.get_leave(9999) is None
    with pytest.raises(StoreError, match="unknown leave status"):
        store.leave.leave_notes(status="open")
    with pytest.raises(StoreError, match="no leave note 9999"):
        store.leave.withdraw_leave(9999, actor="x", expected_version=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "年假"}, "unknown leave category"),
        ({"rid": dt.datetime(2026, 3, 2, 9, 30)}, "has no UTC offset"),
        ({"substitute_id": "zhang"}, "cannot be their own substitute"),
        ({"reason": None}, "reason must be text"),
    ],
)
def test_bad_leave_is_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        _leave(store, **kwargs)  # type: ignore[arg-type]
    assert store.leave.leave_notes() == [] and store.audit.audit_log() == []


def test_bad_leave_step_is_refused(store: Store) -> None:
    note_id = _leave(store)
    with pytest.raises(StoreError, match="unknown approval step"):
        store.leave.decide_leave(note_id, "secretary", True, actor="x", expected_version=1)


def test_one_open_leave_note_per_person_and_occurrence(store: Store) -> None:
    first = _leave(store)
    with pytest.raises(StoreError, match=f"already has an open leave note .*note {first}"):
        _leave(store, category="病假")
    store.leave.decide_leave(first, "chair", True, actor="zhuren", expected_version=1)
    with pytest.raises(StoreError, match="approved"):
        _leave(store)
    _leave(store, "li")  # another person, same occurrence
    store.leave.withdraw_leave(first, actor="zhang", expected_version=2)
    again = _leave(store)
    notes = store.leave.leave_notes(person_id="zhang")
    assert [n.status for n in notes] == ["withdrawn", "pending"]
    # the partial unique index itself holds, not just the check in add_leave
    with Session(store.engine) as session, pytest.raises(IntegrityError):
        row = session.get(LeaveNoteRow, first)
        assert row is not None
        row.status = "pending"
        session.commit()
    assert store.leave.get_leave(again).status == "pending"  # type: ignore[union-attr]


def test_concurrent_leave_notes_let_exactly_one_in(store: Store) -> None:
    results = _in_threads(4, lambda i: _leave(store, reason=f"writer {i}"))
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if not isinstance(r, int)]
    assert len(winners) == 1, results
    assert all(isinstance(r, StoreError) and "open leave note" in str(r) for r in losers), losers
    assert [n.id for n in store.leave.leave_notes()] == winners


def test_leave_version_conflict_keeps_the_first_decision(store: Store) -> None:
    note_id = _leave(store, needs_director=True)
    store.leave.decide_leave(note_id, "chair", True, actor="zhuren", expected_version=1)
    audit_before = store.audit.audit_log()
    with pytest.raises(ConcurrentChange, match=r"you had version 1; it is now version 2") as exc:
        store.leave.withdraw_leave(note_id, actor="zhang", expected_version=1)
    assert "reload the page" in str(exc.value)
    note = store.leave.get_leave(note_id)
    assert note is not None and (note.chair_status, note.status) == ("approved", "pending")
    assert store.audit.audit_log() == audit_before
    # two approvers racing on one version: one wins, the others are told to reload
    results = _in_threads(
        3,
        lambda i: store.leave.decide_leave(
            note_id, "director", i == 0, actor=f"d{i}", expected_version=2
        ),
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConcurrentChange) for r in results if r not in winners), results
    final = store.leave.get_leave(note_id)
    assert final == winners[0] and final.version == 3  # type: ignore[union-attr]


# -- meeting requests ------------------------------------------------------------------------


def _request(store: Store, **kwargs: object) -> int:
    args: dict[str, object] = {
        "section_id": "mishuke", "category": "zhuanti", "title": "安全生产专题会",
        "audience": ["zhang", "li", "zhang"], "start": "2026-03-10T09:00+08:00",
        "end": "2026-03-10T10:30+08:00", "room": "第一会议室", "important": True,
        "approver_id": "zhuren",
    }
    args |= kwargs
    return store.requests.add_request(ORG, actor="li", **args).id  # type: ignore[arg-type]


def test_meeting_requests(store: Store) -> None:
    req_id = _request(store)
    req = store.requests.get_request(req_id)
    assert req is not None
    assert (req.audience, req.start, req.end) == (
        ("zhang", "li"), "2026-03-10T09:00:00+08:00", "2026-03-10T10:30:00+08:00")
    assert (req.status, req.version, req.requested_by, req.note) == ("pending", 1, "li", "")
    other = _request(store, room="  ", important=False, title="第二个")
    assert store.requests.get_request(other).room is None  # type: ignore[union-attr]
    approved = store.requests.decide_request(req_id, True, actor="zhuren", expected_version=1,
                                             note="同意")
    stamp = store.audit.audit_log(f"request:{req_id}")[0].at
    assert (approved.status, approved.decided_by, approved.decided_at) == (
        "approved", "zhuren", stamp)
    assert (approved.note, approved.version) == ("同意", 2)
    with pytest.raises(StoreError, match="already approved by zhuren"):
        store.requests.decide_request(req_id, False, actor="zhuren", expected_version=2)
    withdrawn = store.requests.withdraw_request(other, actor="li", expected_version=1)
    assert withdrawn.status == "withdrawn"
    third = _request(store)
    assert store.requests.decide_request(third, False, actor="fu",
                                         expected_version=1).status == "rejected"
    assert [r.id for r in store.requests.meeting_requests(ORG)] == [req_id, other, third]
    assert [r.id for r in store.requests.meeting_requests(status="approved")] == [req_id]
    assert store.requests.meeting_requests("jiaoyuju") == []
    assert store.requests.get_request(999) is None
    assert _audit(store, f"request:{req_id}") == [
        ("request.create", "li"), ("request.approve", "zhuren")]
    assert _audit(store, f"request:{other}")[-1] == ("request.withdraw", "li")
    assert _audit(store, f"request:{third}")[-1] == ("request.reject", "fu")
    after = json.loads(store.audit.audit_log(f"request:{req_id}")[0].after)
    assert after["audience"] == ["zhang", "li"] and after["status"] == "approved"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": "2026-03-10T08:00+08:00"}, "ends .* before it starts"),
        ({"end": "2026-03-10T09:00+08:00"}, "ends .* before it starts"),
        ({"title": "  "}, "title must be a non-empty"),
        ({"category": ""}, "category must be a non-empty"),
        ({"section_id": ""}, "section must be a non-empty"),
        ({"audience": "zhang,li"}, "audience must be a list of person ids"),
        ({"audience": ["zhang", ""]}, "audience must be a list of person ids"),
        ({"audience": ["zhang", 3]}, "audience must be a list of person ids"),
        ({"audience": []}, "at least one person"),
        ({"start": "2026-03-10 09:00"}, "has no UTC offset"),
    ],
)
def test_bad_requests_are_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        _request(store, **kwargs)
    assert store.requests.meeting_requests() == [] and store.audit.audit_log() == []
    with pytest.raises(StoreError, match="unknown request status"):
        store.requests.meeting_requests(status="open")


def test_request_version_conflict(store: Store) -> None:
    req_id = _request(store)
    store.requests.decide_request(req_id, False, actor="zhuren", expected_version=1,
                                  note="时间冲突")
    with pytest.raises(ConcurrentChange, match=r"meeting request .* reload the page"):
        store.requests.decide_request(req_id, True, actor="fu", expected_version=1)
    req = store.requests.get_request(req_id)
    assert req is not None and (req.status, req.note, req.decided_by) == (
        "rejected", "时间冲突", "zhuren")
    assert len(store.audit.audit_log(f"request:{req_id}")) == 2
    with pytest.raises(StoreError, match="no meeting request 42"):
        store.requests.decide_request(42, True, actor="fu", expected_version=1)


# -- clash acknowledgements ------------------------------------------------------------------


def test_clash_acks(store: Store) -> None:
    assert store.acks.clash_acks() == {}
    assert store.acks.ack_clash("c1", "fp-1", actor="li", note="两会可同时开") is None
    store.acks.ack_clash("c2", "fp-2", actor="li")
    store.acks.ack_clash("c1", "fp-1b", actor="wang")  # the clash changed and was kept again
    assert store.acks.clash_acks() == {"c1": "fp-1b", "c2": "fp-2"}
    assert _audit(store, "clash:c1") == [("clash.keep", "li"), ("clash.keep", "wang")]
    latest = store.audit.audit_log("clash:c1")[0]
    assert json.loads(latest.before) == {"fingerprint": "fp-1", "by": "li"}
    assert json.loads(latest.after)["fingerprint"] == "fp-1b"
    with pytest.raises(StoreError, match="non-empty fingerprint"):
        store.acks.ack_clash("c3", "", actor="li")
    assert "c3" not in store.acks.clash_acks()


# -- decision payloads and merges ------------------------------------------------------------


def test_decision_payload_round_trip(store: Store) -> None:
    payload = {"merged_into": ["s-2", OCC2.isoformat()], "备注": "合并", "n": [1, 2.5, None, True]}
    d = store.decisions.add_decision(ORG, "s-1", OCC, "cancel", actor="li", source="web",
                                     payload=payload)
    assert d.payload == payload
    assert store.decisions.active_decision("s-1", OCC).payload == payload  # type: ignore[union-attr]
    plain = store.decisions.add_decision(ORG, "s-3", OCC, "cancel", actor="li", source="web")
    assert plain.payload is None
    latest = store.audit.audit_log(f"decision:s-1@{OCC.isoformat()}")[0]
    assert json.loads(latest.after)["payload"] == payload
    with pytest.raises(StoreError, match="payload must be a JSON object"):
        store.decisions.add_decision(ORG, "s-4", OCC, "cancel", actor="li", source="web",
                                     payload=["x"])  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="plain JSON"):
        store.decisions.add_decision(ORG, "s-4", OCC, "cancel", actor="li", source="web",
                                     payload={"at": T0})
    with pytest.raises(StoreError, match=r"merge of s-4 .* needs a new start"):
        store.decisions.add_decision(ORG, "s-4", OCC, "merge", actor="li", source="web")
    assert store.decisions.active_decision("s-4", OCC) is None


def test_stale_decisions_raise_concurrent_change(store: Store) -> None:
    store.decisions.add_decision(ORG, "s", OCC, "cancel", actor="li", source="web",
                                 expected_version=0)
    with pytest.raises(ConcurrentChange, match="reload the page"):
        store.decisions.add_decision(ORG, "s", OCC, "cancel", actor="wang", source="web",
                                     expected_version=0)
    with pytest.raises(ConcurrentChange):
        store.decisions.withdraw_decision("s", OCC, actor="wang", expected_version=2)


def test_add_merge_writes_both_rows(store: Store) -> None:
    keep, other = ("s-a", OCC.astimezone(dt.UTC)), ("s-b", OCC2)   # any offset of the instant
    store.decisions.add_decision(ORG, "s-b", OCC2, "move", actor="li", source="web",
                                 new_start=OCC2 + dt.timedelta(minutes=30))
    kept, cancelled = store.decisions.add_merge(
        ORG, keep=keep, other=other, new_start=OCC, new_end=OCC + dt.timedelta(hours=2),
        actor="zhuren", expected_versions=(0, 1), note="参会人员重合",
    )
    assert (kept.action, kept.recurrence_id, kept.version) == ("merge", OCC, 1)
    assert (kept.new_start, kept.new_end) == (OCC, OCC + dt.timedelta(hours=2))
    # the payload names the partner by its key text, as rows always did
    assert kept.payload == {"other": ["s-b", "2026-03-02T10:30:00+08:00"]}
    assert (cancelled.action, cancelled.version, cancelled.new_start) == ("cancel", 2, None)
    assert cancelled.payload == {"merged_into": ["s-a", "2026-03-02T09:30:00+08:00"]}
    assert (kept.source, kept.note, cancelled.created_by) == ("web", "参会人员重合", "zhuren")
    assert store.decisions.active_decisions(ORG) == [kept, cancelled]
    assert _audit(store, f"decision:s-a@{OCC.isoformat()}") == [("decision.merge", "zhuren")]
    assert _audit(store, f"decision:s-b@{OCC2.isoformat()}") == [
        ("decision.move", "li"), ("decision.cancel", "zhuren")]
    with pytest.raises(StoreError, match="with itself"):
        store.decisions.add_merge(ORG, keep=keep, other=("s-a", OCC), new_start=OCC, new_end=None,
                                  actor="zhuren")
    with pytest.raises(StoreError, match=r"new end .* is not after"):
        store.decisions.add_merge(ORG, keep=("s-c", OCC), other=("s-d", OCC), new_start=OCC2,
                                  new_end=OCC, actor="zhuren")


def test_add_merge_is_atomic(store: Store) -> None:
    other_before = store.decisions.add_decision(ORG, "s-b", OCC2, "cancel", actor="li",
                                                source="web")
    audit_before = store.audit.audit_log()
    # keep is fine (version 0); the second row, other, was changed meanwhile (version 1)
    with pytest.raises(ConcurrentChange, match="s-b"):
        store.decisions.add_merge(ORG, keep=("s-a", OCC), other=("s-b", OCC2), new_start=OCC,
                                  new_end=None, actor="zhuren", expected_versions=(0, 0))
    assert store.decisions.active_decision("s-a", OCC) is None
    assert store.decisions.decision_history("s-a", OCC) == []
    assert store.decisions.active_decisions(ORG) == [other_before]
    assert store.audit.audit_log() == audit_before


def test_add_merge_races_let_one_win(store: Store) -> None:
    results = _in_threads(
        3,
        lambda i: store.decisions.add_merge(
            ORG, keep=("s-a", OCC), other=("s-b", OCC2), new_start=OCC, new_end=None,
            actor=f"u{i}", expected_versions=(0, 0),
        ),
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, StoreError) for r in results if r not in winners), results
    history = store.decisions.decision_history
    assert len(history("s-a", OCC)) == len(history("s-b", OCC2)) == 1


# -- migration 0002 -> 0003 with existing rows -----------------------------------------------


def test_upgrade_from_0002_keeps_rows(fresh_db_url: str) -> None:
    engine = store_db.create_db_engine(store_db.resolve_url(fresh_db_url))
    try:
        with engine.begin() as conn:
            command.upgrade(store_db.alembic_config(conn), "0002")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO decision (organization, series_uid, recurrence_id, action, "
                "new_start, new_end, note, source, created_at, created_by, version, "
                "superseded_at) VALUES ('guanliban', 's-1', :rid, 'move', :new, NULL, '', "
                "'web', :at, 'li', 1, NULL)"
            ), {"rid": OCC.isoformat(), "new": OCC2.isoformat(), "at": T0.replace(tzinfo=None)})
            conn.execute(text(
                "INSERT INTO audit (at, actor, action, target, before, after) "
                "VALUES (:at, 'li', 'decision.move', 'decision:s-1', NULL, '{}')"
            ), {"at": T0.replace(tzinfo=None)})
    finally:
        engine.dispose()

    with open_store(fresh_db_url) as store:
        assert set(inspect(store.engine).get_table_names()) >= {
            "app_user", "leave_note", "meeting_request", "clash_ack"}
        old = store.decisions.active_decision("s-1", OCC)
        assert old is not None and (old.action, old.new_start, old.payload) == ("move", OCC2, None)
        assert old.created_at == T0 and len(store.audit.audit_log()) == 1
        # the old row is superseded by a merge; the partial unique index still guards it
        kept, _ = store.decisions.add_merge(ORG, keep=("s-1", OCC), other=("s-2", OCC),
                                            new_start=OCC,
                                            new_end=None, actor="zhuren", expected_versions=(1, 0))
        assert kept.version == 2 and store.decisions.active_decision("s-1", OCC) == kept
        with pytest.raises(StoreError), store._writing() as session:
            session.execute(
                text("UPDATE decision SET superseded_at = NULL WHERE series_uid = 's-1'")
            )
        _leave(store)
        with store.engine.begin() as conn:
            command.downgrade(store_db.alembic_config(conn), "0002")
        names = set(inspect(store.engine).get_table_names())
        assert "leave_note" not in names and "decision" in names
        columns = {c["name"] for c in inspect(store.engine).get_columns("decision")}
        assert "payload" not in columns
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM decision")).scalar() == 3
    with open_store(fresh_db_url) as again:  # and back up to the head
        assert again.decisions.active_decision("s-1", OCC).payload is None  # type: ignore[union-attr]
        assert again.leave.leave_notes() == []


def test_creating_the_same_user_at_once_from_several_workers(db_url: str) -> None:
    """Workers starting together on a fresh database all sync the directory: none fails."""
    stores = [open_store(db_url) for _ in range(4)]
    try:
        results = _in_threads(4, lambda i: stores[i].users.set_user(
            "racer", organization="guanliban", display_name=f"赛跑{i}", role="staff",
            actor=f"worker-{i}"))
        assert all(isinstance(r, UserRecord) for r in results), results
        assert stores[0].users.get_user("racer") is not None
    finally:
        for s in stores:
            s.close()


def test_a_deadlock_between_writers_is_a_concurrent_change(store: Store) -> None:
    """PostgreSQL breaks a deadlock (40P01) by failing one writer: that writer is told to
    reload, like any other concurrent change (the fault is injected: deadlocks are racy)."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    with pytest.raises(ConcurrentChange, match="reload"), store._writing():
        raise OperationalError("UPDATE decision", {},
                               psycopg.errors.DeadlockDetected("deadlock detected"))
    with pytest.raises(StoreError, match="write to") as info, store._writing():
        raise OperationalError("UPDATE decision", {}, psycopg.OperationalError("gone"))
    assert not isinstance(info.value, ConcurrentChange)
