"""Clash acknowledgements: "keep both" hides a clash while its inputs stay unchanged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from calsync.errors import StoreError
from calsync.store.base import Repository, utc
from calsync.store.models import ClashAckRow


class AcksRepository(Repository):
    def ack_clash(
        self,
        clash_id: str,
        fingerprint: str,
        *,
        actor: str,
        note: str = "",
        at: datetime | None = None,
    ) -> None:
        """Keep a clash as it is; acknowledging it again replaces the fingerprint."""
        for value, what in ((clash_id, "clash id"), (fingerprint, "fingerprint")):
            if not isinstance(value, str) or not value.strip():
                raise StoreError(f"acknowledging a clash needs a non-empty {what}")
        now = utc(at)
        with self._writing() as session:
            row = session.get(ClashAckRow, clash_id, with_for_update=True)
            before = None if row is None else {"fingerprint": row.fingerprint, "by": row.acked_by}
            if row is None:
                row = ClashAckRow(clash_id=clash_id)
                session.add(row)
            row.fingerprint, row.acked_by, row.acked_at, row.note = fingerprint, actor, now, note
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="clash.keep",
                target=f"clash:{clash_id}",
                before=before,
                after={"fingerprint": fingerprint, "note": note},
            )

    def clash_acks(self) -> dict[str, str]:
        """Every acknowledged clash: clash id -> the fingerprint it was kept with."""
        query = select(ClashAckRow.clash_id, ClashAckRow.fingerprint)
        with self._reading() as session:
            return {clash_id: fp for clash_id, fp in session.execute(query)}
