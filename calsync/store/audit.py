"""The audit log: every stored input change appends a row (most repositories write theirs in
the same transaction as the change); this appends one on its own and reads them back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from calsync.store.base import Repository, to_record, utc
from calsync.store.models import AuditRow
from calsync.store.records import AuditEntry


class AuditRepository(Repository):
    def record(
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

    def latest_audit_id(self) -> int:
        """The newest audit row's id (0 when none): every stored input change writes one, so
        this is a cheap "did anything change" stamp for the feeds' cache."""
        with self._reading() as session:
            return int(session.scalar(select(func.max(AuditRow.id))) or 0)
