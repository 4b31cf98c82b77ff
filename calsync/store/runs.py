"""Sync runs: when a publish started and finished, how, and what it counted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update

from calsync.errors import StoreError
from calsync.store.base import Repository, rowcount, utc
from calsync.store.models import SyncRunRow
from calsync.store.records import FINAL_RUN_STATUSES, SyncRun


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


class RunsRepository(Repository):
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
            if rowcount(session.execute(stmt)) != 1:
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
