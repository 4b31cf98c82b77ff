"""Sync conflicts: a resource someone edited on the server while calsync wanted to change it.

A conflict is opened by a publish (idempotently: a refresh keeps its id) and closed by a person
keeping the server's or the policy's version; both are audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from calsync.errors import StoreError
from calsync.store import db
from calsync.store.base import Repository, to_record, utc
from calsync.store.models import SyncConflictRow
from calsync.store.records import CONFLICT_KINDS, RESOLUTIONS, Conflict


class ConflictsRepository(Repository):
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


def _open_conflict_query(collection_url: str, uid: str) -> Select[SyncConflictRow]:
    return select(SyncConflictRow).where(
        SyncConflictRow.collection_url == collection_url,
        SyncConflictRow.uid == uid,
        SyncConflictRow.resolved_at.is_(None),
    )
