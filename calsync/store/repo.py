"""The Store: sync state, conflicts, runs and the audit log.

Decisions, users, leave notes, meeting requests and clash acknowledgements live in mixins of
their own (decisions.py, users.py, leave.py, meeting_requests.py, acks.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from calsync.errors import StoreError
from calsync.store import db
from calsync.store.acks import AcksMixin
from calsync.store.adhoc import AdhocMixin
from calsync.store.agenda import AgendaMixin
from calsync.store.attendance import AttendanceMixin
from calsync.store.base import to_record, utc
from calsync.store.busy import BusyMixin
from calsync.store.collection_state import CollectionStateMixin
from calsync.store.decisions import DecisionsMixin
from calsync.store.feeds import FeedsMixin
from calsync.store.leave import LeaveMixin
from calsync.store.login_throttle import LoginThrottleMixin
from calsync.store.meeting_requests import MeetingRequestsMixin
from calsync.store.minutes import MinutesMixin
from calsync.store.models import AuditRow, SyncConflictRow, SyncResourceRow, SyncRunRow
from calsync.store.outbox import OutboxMixin
from calsync.store.records import (
    CONFLICT_KINDS,
    FINAL_RUN_STATUSES,
    HEAD_ONLY,
    RESOLUTIONS,
    AuditEntry,
    Conflict,
    ResourceState,
    SyncRun,
)
from calsync.store.resource_batch import ResourceBatchMixin
from calsync.store.series_decisions import SeriesDecisionsMixin
from calsync.store.users import UsersMixin


def open_store(url: str | None = None, instance_dir: Path | None = None) -> Store:
    """Open (and migrate to the newest schema) the calsync database.

    ``url`` wins, then ``CALSYNC_DATABASE_URL``, then ``calsync.sqlite3`` in the instance
    folder (``instance_dir``, else ``CALSYNC_INSTANCE``, else ``./instance``).
    """
    resolved = db.resolve_url(url, instance_dir)
    engine = db.create_db_engine(resolved)
    try:
        with engine.connect():
            pass
    except (SQLAlchemyError, UnicodeDecodeError) as exc:
        engine.dispose()
        raise db.connection_error(exc, resolved) from None
    try:
        db.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


def _run_record(row: SyncRunRow) -> SyncRun:
    return SyncRun(
        id=row.id,
        organization=row.organization,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts=json.loads(row.counts or "{}"),
        message=row.message,
    )


class Store(
    CollectionStateMixin, DecisionsMixin, UsersMixin, LeaveMixin, MeetingRequestsMixin, AcksMixin,
    FeedsMixin, BusyMixin, SeriesDecisionsMixin, OutboxMixin, AdhocMixin, AgendaMixin,
    LoginThrottleMixin, MinutesMixin, AttendanceMixin, ResourceBatchMixin,
):
    """calsync's database. Every method runs its own short transaction."""

    def __enter__(self) -> Store:
        return self

    # -- resources ---------------------------------------------------------------------------

    def get_resources(
        self, collection_url: str, uids: Iterable[str] | None = None
    ) -> dict[str, ResourceState]:
        """Everything calsync owns in one collection (or just ``uids``), by UID."""
        query = select(SyncResourceRow).where(SyncResourceRow.collection_url == collection_url)
        if uids is not None:
            query = query.where(SyncResourceRow.uid.in_(sorted(set(uids))))
        with self._reading() as session:
            return {row.uid: to_record(row, ResourceState) for row in session.scalars(query)}

    def collection_urls(self) -> dict[str, set[str]]:
        """Organization → the collections where calsync owns resources."""
        query = select(SyncResourceRow.organization, SyncResourceRow.collection_url).distinct()
        out: dict[str, set[str]] = {}
        with self._reading() as session:
            for org, url in session.execute(query):
                out.setdefault(org, set()).add(url)
        return out

    def get_resource_heads(self, collection_url: str) -> dict[str, ResourceState]:
        """Like ``get_resources`` without the stored bodies: ``written_ics`` is ``""`` for an
        empty body and ``HEAD_ONLY`` otherwise. A no-op publish needs no bodies, and for a
        few hundred year-long series they are tens of megabytes."""
        cols = [c for c in SyncResourceRow.__table__.columns if c.name != "written_ics"]
        size = func.length(SyncResourceRow.written_ics).label("size")
        query = select(*cols, size).where(SyncResourceRow.collection_url == collection_url)
        with self._reading() as session:
            out = {}
            for row in session.execute(query).mappings():
                data = {k: v for k, v in row.items() if k != "size"}
                data["written_ics"] = HEAD_ONLY if row["size"] else ""
                out[row["uid"]] = ResourceState(**data)
            return out

    def get_resource(self, collection_url: str, uid: str) -> ResourceState | None:
        query = select(SyncResourceRow).where(
            SyncResourceRow.collection_url == collection_url, SyncResourceRow.uid == uid
        )
        with self._reading() as session:
            row = session.scalar(query)
            return to_record(row, ResourceState) if row else None

    def upsert_resource(
        self,
        organization: str,
        collection_url: str,
        uid: str,
        *,
        written_ics: str,
        content_hash: str,
        sequence: int,
        href: str | None = None,
        etag: str | None = None,
        at: datetime | None = None,
    ) -> ResourceState:
        """Remember what calsync just wrote; replaces every field of an existing row."""
        values = {
            "organization": organization,
            "collection_url": collection_url,
            "uid": uid,
            "href": href,
            "etag": etag,
            "content_hash": content_hash,
            "written_ics": written_ics,
            "sequence": sequence,
            "updated_at": utc(at),
        }
        # INSERT .. ON CONFLICT: atomic on both dialects, no select-then-insert race.
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        stmt = dialect.insert(SyncResourceRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["collection_url", "uid"],
            set_={k: stmt.excluded[k] for k in values if k not in ("collection_url", "uid")},
        )
        with self._writing() as session:
            session.execute(stmt)
        resource = self.get_resource(collection_url, uid)
        assert resource is not None  # just written
        return resource

    def delete_resource(self, collection_url: str, uid: str) -> bool:
        """Forget a resource; False if calsync had no record of it."""
        stmt = delete(SyncResourceRow).where(
            SyncResourceRow.collection_url == collection_url, SyncResourceRow.uid == uid
        )
        with self._writing() as session:
            return session.execute(stmt).rowcount > 0  # type: ignore[attr-defined]

    # -- conflicts ---------------------------------------------------------------------------

    def record_conflict(
        self,
        organization: str,
        collection_url: str,
        uid: str,
        *,
        kind: str,
        policy_ics: str,
        server_ics: str | None = None,
        server_etag: str | None = None,
        href: str | None = None,
        at: datetime | None = None,
    ) -> Conflict:
        """Open a conflict, or refresh the open one for the same resource (idempotent).

        A refresh keeps the id and ``detected_at`` and takes the newest server and policy text.
        """
        if kind not in CONFLICT_KINDS:
            raise StoreError(
                f"unknown conflict kind {kind!r} (use one of {sorted(CONFLICT_KINDS)})"
            )
        now = utc(at)
        fields = {
            "organization": organization,
            "href": href,
            "kind": kind,
            "server_ics": server_ics,
            "server_etag": server_etag,
            "policy_ics": policy_ics,
        }
        for attempt in (1, 2):
            try:
                with self._writer.begin() as session:
                    row = session.scalar(
                        _open_conflict_query(collection_url, uid).with_for_update()
                    )
                    if row is None:
                        row = SyncConflictRow(
                            collection_url=collection_url, uid=uid, detected_at=now, **fields
                        )
                        session.add(row)
                        session.flush()
                        self._add_audit(
                            session,
                            at=now,
                            actor="sync",
                            action="conflict.detected",
                            target=f"conflict:{row.id}",
                            after={"collection_url": collection_url, "uid": uid, "kind": kind},
                        )
                    else:
                        for key, value in fields.items():
                            setattr(row, key, value)
                    return to_record(row, Conflict)
            except IntegrityError:
                # Another process opened the same conflict meanwhile: update that one instead.
                if attempt == 2:
                    raise StoreError(
                        f"could not record the conflict on {uid} in {collection_url}: another "
                        f"process keeps changing it (try the sync again)"
                    ) from None
            except SQLAlchemyError as exc:
                raise db.connection_error(exc, self.engine.url, "write to") from None
        raise AssertionError("unreachable")

    def get_conflict(self, conflict_id: int) -> Conflict | None:
        with self._reading() as session:
            row = session.get(SyncConflictRow, conflict_id)
            return to_record(row, Conflict) if row else None

    def open_conflicts(self, organization: str | None = None) -> list[Conflict]:
        """Unresolved conflicts, oldest first; all organizations unless one is given."""
        query = select(SyncConflictRow).where(SyncConflictRow.resolved_at.is_(None))
        if organization is not None:
            query = query.where(SyncConflictRow.organization == organization)
        query = query.order_by(SyncConflictRow.detected_at, SyncConflictRow.id)
        with self._reading() as session:
            return [to_record(row, Conflict) for row in session.scalars(query)]

    def resolve_conflict(
        self, conflict_id: int, keep: str, actor: str, *, at: datetime | None = None
    ) -> Conflict:
        """Close a conflict, keeping the ``"server"`` or the ``"policy"`` version."""
        if keep not in RESOLUTIONS:
            raise StoreError(f"resolve a conflict with one of {sorted(RESOLUTIONS)}, not {keep!r}")
        now = utc(at)
        with self._writing() as session:
            row = session.get(SyncConflictRow, conflict_id, with_for_update=True)
            if row is None:
                raise StoreError(
                    f"there is no conflict {conflict_id} (list them with open_conflicts)"
                )
            if row.resolved_at is not None:
                raise StoreError(
                    f"conflict {conflict_id} was already resolved by {row.resolved_by} at "
                    f"{row.resolved_at:%Y-%m-%d %H:%M} UTC (kept {row.resolution}); reload"
                )
            before = to_record(row, Conflict)
            row.resolved_at, row.resolution, row.resolved_by = now, keep, actor
            session.flush()
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action=f"conflict.keep-{keep}",
                target=f"conflict:{conflict_id}",
                before={"kind": before.kind, "uid": before.uid},
                after={"resolution": keep},
            )
            return to_record(row, Conflict)

    # -- sync runs ---------------------------------------------------------------------------

    def start_run(self, organization: str, *, at: datetime | None = None) -> SyncRun:
        """Record the start of a sync; its status is ``"running"`` until :meth:`finish_run`."""
        row = SyncRunRow(
            organization=organization,
            started_at=utc(at),
            status="running",
            counts="{}",
            message="",
        )
        with self._writing() as session:
            session.add(row)
            session.flush()
            return _run_record(row)

    def finish_run(
        self,
        run_id: int,
        status: str,
        *,
        counts: Mapping[str, int] | None = None,
        message: str = "",
        at: datetime | None = None,
    ) -> SyncRun:
        if status not in FINAL_RUN_STATUSES:
            raise StoreError(f"finish a run as one of {sorted(FINAL_RUN_STATUSES)}, not {status!r}")
        stmt = (
            update(SyncRunRow)
            .where(SyncRunRow.id == run_id, SyncRunRow.finished_at.is_(None))
            .values(
                finished_at=utc(at),
                status=status,
                counts=json.dumps(dict(counts or {}), sort_keys=True),
                message=message,
            )
        )
        with self._writing() as session:
            if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
                raise StoreError(f"sync run {run_id} does not exist or has already finished")
            row = session.get(SyncRunRow, run_id, populate_existing=True)
            assert row is not None
            return _run_record(row)

    def recent_runs(self, organization: str | None = None, limit: int = 20) -> list[SyncRun]:
        """The newest runs first."""
        query = select(SyncRunRow).order_by(SyncRunRow.started_at.desc(), SyncRunRow.id.desc())
        if organization is not None:
            query = query.where(SyncRunRow.organization == organization)
        with self._reading() as session:
            return [_run_record(row) for row in session.scalars(query.limit(limit))]

    # -- audit -------------------------------------------------------------------------------

    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        before: object = None,
        after: object = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Append to the audit log; ``before``/``after`` are stored as JSON."""
        with self._writing() as session:
            row = self._add_audit(
                session,
                at=utc(at),
                actor=actor,
                action=action,
                target=target,
                before=before,
                after=after,
            )
            session.flush()
            return to_record(row, AuditEntry)

    def audit_log(self, target: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """The newest entries first, optionally for one target."""
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc())
        if target is not None:
            query = query.where(AuditRow.target == target)
        with self._reading() as session:
            return [to_record(row, AuditEntry) for row in session.scalars(query.limit(limit))]


def _open_conflict_query(collection_url: str, uid: str) -> Select[tuple[SyncConflictRow]]:
    return select(SyncConflictRow).where(
        SyncConflictRow.collection_url == collection_url,
        SyncConflictRow.uid == uid,
        SyncConflictRow.resolved_at.is_(None),
    )
