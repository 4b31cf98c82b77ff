"""The database store, on SQLite and PostgreSQL (fixtures in tests/support/db_fixtures.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.errors import CalsyncError, StoreError
from calsync.occurrence import TZ
from calsync.store import Store, open_store, resolve_url
from calsync.store.db import head_revision
from calsync.store.models import Base, DecisionRow, SyncConflictRow, SyncResourceRow

TABLES = {
    "sync_resource",
    "sync_conflict",
    "decision",
    "series_decision",
    "adhoc_meeting",
    "sitting_in",
    "agenda_topic",
    "agenda",
    "minutes",  # 纪要与议定事项 (migration 0013)
    "action_item",
    "action_note",
    "signin_sheet",
    "attendance_mark",
    "audit",
    "sync_run",
    "sync_collection",
    "app_user",
    "login_throttle",
    "leave_note",
    "meeting_request",
    "clash_ack",
    "feed_token",
    "feed_state",
    "busy_object",
    "notice",
    "notice_reply",
}
COLL = "https://dav.example.org/cal/guanliban/"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
OCC = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _in_threads(n: int, fn: Callable[[int], object]) -> list[object]:
    """Run ``fn(i)`` in n threads released together; results or raised exceptions."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except BaseException as exc:  # collected and asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), f"threads still running after 30 s: {results}"
    return results


# -- opening and migrations ------------------------------------------------------------------


def test_migrations_create_every_table(fresh_db_url: str) -> None:
    with open_store(fresh_db_url) as store:
        tables = set(inspect(store.engine).get_table_names())
        with store.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert tables == TABLES | {"alembic_version"}
    assert version == [head_revision()]


def test_models_match_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_opening_twice_is_idempotent(fresh_db_url: str) -> None:
    with open_store(fresh_db_url) as store:
        store.sync_state.upsert_resource("o", COLL, "u1", written_ics="A", content_hash="h",
                                         sequence=0)
    with open_store(fresh_db_url) as again, open_store(fresh_db_url) as third:
        assert set(inspect(again.engine).get_table_names()) == TABLES | {"alembic_version"}
        assert set(third.sync_state.get_resources(COLL)) == {"u1"}
        with again.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


def test_concurrent_open_store_from_threads(fresh_db_url: str, tmp_path: Path) -> None:
    # Two threads race on the same new database, two more migrate another one meanwhile.
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    results = _in_threads(4, lambda i: open_store(fresh_db_url if i < 2 else other))
    stores = [r for r in results if isinstance(r, Store)]
    try:
        assert [r for r in results if not isinstance(r, Store)] == []
        for s in stores:
            assert set(inspect(s.engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        for s in stores:
            s.close()


OPEN_IN_SUBPROCESS = """
import pathlib, sys, time
from calsync.store import open_store
ready, go = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.002)
open_store(sys.argv[1]).close()
"""


def test_concurrent_open_store_from_several_processes(fresh_db_url: str, tmp_path: Path) -> None:
    # Threads share one in-process lock; only separate processes exercise the database lock.
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    env = os.environ | {"PYTHONPATH": path}
    go = tmp_path / "go"
    readies = [tmp_path / f"ready{i}" for i in range(2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_IN_SUBPROCESS, fresh_db_url, str(ready), str(go)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ready in readies
    ]
    deadline = time.monotonic() + 30
    while not all(r.exists() for r in readies) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    stderrs = [p.communicate(timeout=60)[1] for p in procs]
    # the last line of each failing child's traceback
    failures = [
        e.strip().splitlines()[-1:] for p, e in zip(procs, stderrs, strict=True) if p.returncode
    ]
    assert failures == []
    with open_store(fresh_db_url) as store:
        assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}


def test_database_newer_than_calsync_is_refused(fresh_db_url: str) -> None:
    with open_store(fresh_db_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer schema than this calsync"):
        open_store(fresh_db_url)


def test_sqlite_uses_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_url_comes_from_argument_then_env_then_instance_folder(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    instance = tmp_path / "inst" / "nested"
    monkeypatch.setenv("CALSYNC_INSTANCE", str(instance))
    monkeypatch.delenv("CALSYNC_DATABASE_URL", raising=False)
    if backend == "postgresql":
        # a plain postgresql:// URL in the environment is rewritten to the psycopg driver
        url = request.getfixturevalue("postgres_url").replace("postgresql+psycopg", "postgresql")
        monkeypatch.setenv("CALSYNC_DATABASE_URL", url)
    with open_store() as store:
        assert store.dialect == backend
    assert (instance / "calsync.sqlite3").exists() == (backend == "sqlite")
    explicit = tmp_path / "explicit.sqlite3"
    with open_store(f"sqlite:///{explicit}") as store:
        assert store.dialect == "sqlite"
    assert explicit.exists()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg(scheme: str) -> None:
    url = resolve_url(f"{scheme}://u:pw@db.example:5433/calsync")
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port, url.database, url.password) == ("db.example", 5433, "calsync", "pw")


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgresql://calsync:Sup3r-S3cret@127.0.0.1:1/calsync", "is PostgreSQL running"),
        ("postgres://nobody_here:Sup3r-S3cret@127.0.0.1:5432/calsync", "user name and password"),
        ("postgresql://calsync@127.0.0.1:1/calsync?password=Sup3r-S3cret", "host and port"),
        ("mysql://calsync:Sup3r-S3cret@127.0.0.1/calsync", "postgresql://"),
        ("sqlite:////nonexistent-dir/Sup3r-S3cret/calsync.sqlite3", "writable folder"),
    ],
    ids=["pg-refused", "pg-bad-login", "pg-query-password", "unsupported", "sqlite-bad-path"],
)
def test_errors_say_how_to_fix_and_mask_passwords(url: str, hint: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert isinstance(caught.value, CalsyncError)
    assert hint in message
    if "sqlite" not in url:
        assert "Sup3r-S3cret" not in message
        assert "***" in message


# -- resources -------------------------------------------------------------------------------


def test_resource_round_trip(store: Store) -> None:
    assert store.sync_state.get_resources(COLL) == {}
    first = store.sync_state.upsert_resource(
        "guanliban",
        COLL,
        "u1",
        written_ics="BEGIN:VCALENDAR",
        content_hash="a" * 64,
        sequence=0,
        at=T0.astimezone(CST),
    )
    assert (first.href, first.etag, first.sequence) == (None, None, 0)
    assert first.updated_at == T0 and first.updated_at.tzinfo == UTC
    store.sync_state.upsert_resource("guanliban", COLL, "u2", written_ics="X", content_hash="b",
                                     sequence=0)
    store.sync_state.upsert_resource(
        "guanliban", COLL + "other/", "u1", written_ics="Y", content_hash="c", sequence=0
    )
    second = store.sync_state.upsert_resource(
        "guanliban",
        COLL,
        "u1",
        written_ics="NEW",
        content_hash="d" * 64,
        sequence=3,
        href="/cal/u1.ics",
        etag='"e1"',
        at=T0 + timedelta(hours=1),
    )
    assert second.id == first.id
    got = store.sync_state.get_resources(COLL)
    assert set(got) == {"u1", "u2"}
    assert got["u1"] == second
    assert (second.written_ics, second.href, second.etag, second.sequence) == (
        "NEW",
        "/cal/u1.ics",
        '"e1"',
        3,
    )
    assert store.sync_state.delete_resource(COLL, "u1") is True
    assert store.sync_state.delete_resource(COLL, "u1") is False
    assert store.sync_state.get_resource(COLL, "u1") is None
    assert set(store.sync_state.get_resources(COLL + "other/")) == {"u1"}


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.runs.start_run("o", at=datetime(2026, 3, 1, 8, 0))


def test_unique_constraints_hold(store: Store) -> None:
    def insert(*rows: object) -> None:
        with Session(store.engine) as session, session.begin():
            session.add_all(rows)

    def resource() -> SyncResourceRow:
        return SyncResourceRow(
            organization="o",
            collection_url=COLL,
            uid="u",
            content_hash="h",
            written_ics="",
            sequence=0,
            updated_at=T0,
        )

    def conflict(resolved: datetime | None = None) -> SyncConflictRow:
        return SyncConflictRow(
            organization="o",
            collection_url=COLL,
            uid="u",
            kind="edited",
            policy_ics="",
            detected_at=T0,
            resolved_at=resolved,
        )

    def decision(superseded: datetime | None = None) -> DecisionRow:
        return DecisionRow(
            organization="o",
            series_uid="s",
            recurrence_id=OCC,
            action="cancel",
            note="",
            source="cli",
            created_at=T0,
            created_by="t",
            version=1,
            superseded_at=superseded,
        )

    insert(resource(), conflict(T0), conflict(), decision(T0), decision())
    for duplicate in (resource(), conflict(), decision()):
        with pytest.raises(IntegrityError):
            insert(duplicate)
    insert(conflict(T0), decision(T0))  # history rows may repeat


# -- conflicts -------------------------------------------------------------------------------


def test_conflict_record_is_idempotent_and_resolves(store: Store) -> None:
    first = store.conflicts.record_conflict(
        "guanliban",
        COLL,
        "u1",
        kind="edited",
        policy_ics="P1",
        server_ics="S1",
        server_etag='"1"',
        href="/u1.ics",
        at=T0,
    )
    again = store.conflicts.record_conflict(
        "guanliban",
        COLL,
        "u1",
        kind="edited-and-changed",
        policy_ics="P2",
        server_ics="S2",
        server_etag='"2"',
        href="/u1.ics",
        at=T0 + timedelta(hours=1),
    )
    store.conflicts.record_conflict("jiaoyuju", COLL + "j/", "u1", kind="deleted", policy_ics="P")
    assert again.id == first.id and again.detected_at == T0
    assert (again.kind, again.server_etag, again.policy_ics) == ("edited-and-changed", '"2"', "P2")
    assert [c.id for c in store.conflicts.open_conflicts("guanliban")] == [first.id]
    assert len(store.conflicts.open_conflicts()) == 2

    resolved = store.conflicts.resolve_conflict(first.id, "server", "li_secretary",
                                                at=T0 + timedelta(1))
    assert (resolved.resolution, resolved.resolved_by) == ("server", "li_secretary")
    assert not resolved.is_open and store.conflicts.get_conflict(first.id) == resolved
    assert store.conflicts.open_conflicts("guanliban") == []
    with pytest.raises(StoreError, match="already resolved by li_secretary"):
        store.conflicts.resolve_conflict(first.id, "policy", "wang")
    with pytest.raises(StoreError, match="no conflict 999"):
        store.conflicts.resolve_conflict(999, "policy", "wang")
    reopened = store.conflicts.record_conflict("guanliban", COLL, "u1", kind="deleted",
                                               policy_ics="P3")
    assert reopened.id != first.id and reopened.is_open
    actions = [e.action for e in store.audit.audit_log(f"conflict:{first.id}")]
    assert actions == ["conflict.keep-server", "conflict.detected"]


def test_concurrent_conflict_records_share_one_row(store: Store) -> None:
    results = _in_threads(
        4, lambda i: store.conflicts.record_conflict("o", COLL, "race", kind="edited",
                                                     policy_ics=f"P{i}")
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len(store.conflicts.open_conflicts()) == 1


# -- decisions -------------------------------------------------------------------------------


def test_decisions_supersede_and_are_audited(store: Store) -> None:
    moved = store.decisions.add_decision(
        "guanliban",
        "series-1",
        OCC,
        "move",
        actor="li",
        source="web",
        new_start=OCC + timedelta(days=1),
        note="room busy",
        at=T0,
    )
    # the same instant written at another UTC offset is the same occurrence
    cancelled = store.decisions.add_decision(
        "guanliban",
        "series-1",
        OCC.astimezone(dt.UTC),
        "cancel",
        actor="wang",
        source="calendar-app",
        at=T0 + timedelta(minutes=5),
    )
    other = store.decisions.add_decision("jiaoyuju", "series-2", OCC, "cancel", actor="li",
                                         source="cli")
    assert moved.recurrence_id == OCC and moved.new_start == OCC + timedelta(days=1)
    assert (moved.version, cancelled.version, other.version) == (1, 2, 1)
    history = store.decisions.decision_history("series-1", OCC)
    assert [(d.id, d.action, d.is_active) for d in history] == [
        (moved.id, "move", False),
        (cancelled.id, "cancel", True),
    ]
    assert history[0].superseded_at == T0 + timedelta(minutes=5)
    assert store.decisions.active_decisions("guanliban") == [cancelled]
    assert store.decisions.active_decision("series-1", OCC) == cancelled

    audit = store.audit.audit_log(f"decision:series-1@{OCC.isoformat()}")
    assert [(e.action, e.actor) for e in audit] == [
        ("decision.cancel", "wang"),
        ("decision.move", "li"),
    ]
    assert json.loads(audit[0].before)["id"] == moved.id
    assert json.loads(audit[0].after)["id"] == cancelled.id
    assert audit[1].before is None

    withdrawn = store.decisions.withdraw_decision("series-1", OCC, actor="li", expected_version=2)
    assert withdrawn.id == cancelled.id and not withdrawn.is_active
    assert store.decisions.active_decisions("guanliban") == []
    latest = store.audit.audit_log(f"decision:series-1@{OCC.isoformat()}")[0]
    assert latest.action == "decision.withdraw"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "split"}, "unknown decision action"),
        ({"source": "email"}, "unknown decision source"),
        ({"action": "move"}, "needs a new start"),
        ({"new_start": OCC + timedelta(days=1)}, "takes no new start"),
        ({"recurrence_id": OCC.replace(tzinfo=None)}, "has no UTC offset"),
        ({"recurrence_id": "2026-03-02T09:30:00+08:00"}, "must be a datetime"),
    ],
)
def test_bad_decisions_are_refused(store: Store, kwargs: dict[str, object], message: str) -> None:
    args = {"action": "cancel", "source": "web", "recurrence_id": OCC} | kwargs
    with pytest.raises(StoreError, match=message):
        store.decisions.add_decision(
            "o", "s", args.pop("recurrence_id"), args.pop("action"), actor="t",  # type: ignore[arg-type]
            **args,  # type: ignore[arg-type]
        )
    assert store.decisions.active_decisions("o") == []


def test_stale_version_is_refused(store: Store) -> None:
    store.decisions.add_decision("o", "s", OCC, "cancel", actor="li", source="web",
                                 expected_version=0)
    current = store.decisions.add_decision(
        "o",
        "s",
        OCC,
        "move",
        actor="wang",
        source="web",
        new_start=dt.datetime(2026, 3, 3, 9, 30, tzinfo=TZ),
        expected_version=1,
    )
    audit_before = store.audit.audit_log()
    with pytest.raises(StoreError) as caught:
        store.decisions.add_decision("o", "s", OCC, "cancel", actor="li", source="web",
                                     expected_version=1)
    assert "you had version 1; wang saved version 2" in str(caught.value)
    assert "reload" in str(caught.value)
    with pytest.raises(StoreError, match="you had version 0"):
        store.decisions.add_decision("o", "s", OCC, "cancel", actor="li", source="web",
                                     expected_version=0)
    with pytest.raises(StoreError, match="you had version 1"):
        store.decisions.withdraw_decision("s", OCC, actor="li", expected_version=1)
    assert store.decisions.active_decisions("o") == [current]
    assert store.audit.audit_log() == audit_before


def test_concurrent_edits_of_one_version_let_exactly_one_win(store: Store) -> None:
    store.decisions.add_decision("o", "s", OCC, "cancel", actor="li", source="web")
    results = _in_threads(
        4,
        lambda i: store.decisions.add_decision(
            "o",
            "s",
            OCC,
            "move",
            actor=f"user{i}",
            source="web",
            new_start=dt.datetime(2026, 3, 3, 9, 30, tzinfo=TZ),
            expected_version=1,
        ),
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, StoreError) and "reload" in str(r) for r in losers), losers
    assert [d.version for d in store.decisions.decision_history("s", OCC)] == [1, 2]


# -- runs and audit --------------------------------------------------------------------------


def test_sync_runs(store: Store) -> None:
    first = store.runs.start_run("guanliban", at=T0)
    assert (first.status, first.finished_at, first.counts) == ("running", None, {})
    done = store.runs.finish_run(
        first.id,
        "ok",
        counts={"created": 3, "updated": 1},
        message="4 changes",
        at=T0 + timedelta(seconds=9),
    )
    assert (done.status, done.counts, done.message) == (
        "ok",
        {"created": 3, "updated": 1},
        "4 changes",
    )
    assert done.finished_at == T0 + timedelta(seconds=9)
    with pytest.raises(StoreError, match="already finished"):
        store.runs.finish_run(first.id, "failed")
    with pytest.raises(StoreError, match="finish a run as one of"):
        store.runs.finish_run(first.id, "running")
    second = store.runs.start_run("guanliban", at=T0 + timedelta(hours=1))
    store.runs.start_run("jiaoyuju", at=T0 + timedelta(hours=2))
    assert [r.id for r in store.runs.recent_runs("guanliban")] == [second.id, first.id]
    assert len(store.runs.recent_runs(limit=1)) == 1


def test_audit_log(store: Store) -> None:
    entry = store.audit.record(
        "li",
        "policy.edit",
        "policy:guanliban",
        before={"weekday": "MO"},
        after={"weekday": "TU", "at": T0},
        at=T0,
    )
    store.audit.record("wang", "login", "user:wang", at=T0 + timedelta(seconds=1))
    assert json.loads(entry.after) == {"weekday": "TU", "at": T0.isoformat()}
    assert [e.actor for e in store.audit.audit_log()] == ["wang", "li"]
    assert store.audit.audit_log("policy:guanliban") == [entry]
