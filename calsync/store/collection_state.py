"""Per-collection RFC 6578 state: the last sync token and the listing it brings up to date."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from calsync.store.base import StoreBase, utc
from calsync.store.models import (
    BusyObjectRow,
    SyncCollectionRow,
    SyncConflictRow,
    SyncResourceRow,
)
from calsync.store.records import CollectionState


def _record(row: SyncCollectionRow) -> CollectionState:
    listing = json.loads(row.listing or "{}")
    return CollectionState(
        collection_url=row.collection_url,
        sync_token=row.sync_token,
        listing={str(k): (None if v is None else str(v)) for k, v in listing.items()},
        updated_at=row.updated_at,
    )


class CollectionStateMixin(StoreBase):
    def get_collection_state(self, collection_url: str) -> CollectionState | None:
        query = select(SyncCollectionRow).where(SyncCollectionRow.collection_url == collection_url)
        with self._reading() as session:
            row = session.scalar(query)
            return _record(row) if row else None

    def save_collection_state(
        self,
        collection_url: str,
        sync_token: str | None,
        listing: Mapping[str, str | None],
        *,
        at: datetime | None = None,
    ) -> CollectionState:
        """Replace the collection's token and listing (href -> etag of every member)."""
        values = {
            "collection_url": collection_url,
            "sync_token": sync_token,
            "listing": json.dumps(dict(sorted(listing.items())), ensure_ascii=False),
            "updated_at": utc(at),
        }
        # INSERT .. ON CONFLICT: two publishes of one collection must not race into a 2nd row.
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        stmt = dialect.insert(SyncCollectionRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["collection_url"],
            set_={k: stmt.excluded[k] for k in values if k != "collection_url"},
        )
        with self._writing() as session:
            session.execute(stmt)
        state = self.get_collection_state(collection_url)
        assert state is not None  # just written
        return state

    def forget_collection_state(self, collection_url: str) -> bool:
        """Drop the stored token and listing; False if there were none."""
        stmt = delete(SyncCollectionRow).where(SyncCollectionRow.collection_url == collection_url)
        with self._writing() as session:
            return session.execute(stmt).rowcount > 0  # type: ignore[attr-defined]

    # -- a collection whose address changed (same server, another host or port) -------------

    def relocate_collection(self, old_url: str, new_url: str, *, actor: str = "publish",
                            at: datetime | None = None) -> int:
        """Move calsync's rows of a collection to its new address: what it wrote and its
        conflicts. A resource already recorded at the new address keeps that row (the old one
        is dropped). The old address's token and cached foreign objects are dropped (the
        next publish reads the collection whole once). Returns the number of rows moved."""
        now = utc(at)
        with self._writing() as session:
            there = select(SyncResourceRow.uid).where(SyncResourceRow.collection_url == new_url)
            moved = session.execute(update(SyncResourceRow).where(
                SyncResourceRow.collection_url == old_url,
                SyncResourceRow.uid.not_in(there)).values(collection_url=new_url))
            session.execute(delete(SyncResourceRow).where(
                SyncResourceRow.collection_url == old_url))
            # an open conflict already at the new address (a run before the move) is the
            # newer one: the old address's open conflict on the same resource is closed
            open_there = select(SyncConflictRow.uid).where(
                SyncConflictRow.collection_url == new_url, SyncConflictRow.resolved_at.is_(None))
            session.execute(update(SyncConflictRow).where(
                SyncConflictRow.collection_url == old_url, SyncConflictRow.resolved_at.is_(None),
                SyncConflictRow.uid.in_(open_there)).values(
                    resolved_at=now, resolution="policy", resolved_by=actor))
            session.execute(update(SyncConflictRow).where(
                SyncConflictRow.collection_url == old_url).values(collection_url=new_url))
            session.execute(delete(SyncCollectionRow).where(
                SyncCollectionRow.collection_url == old_url))
            session.execute(delete(BusyObjectRow).where(BusyObjectRow.source == old_url))
            count = int(moved.rowcount or 0)  # type: ignore[attr-defined]
            self._add_audit(session, at=now, actor=actor, action="sync.relocate",
                            target=new_url, before={"collection_url": old_url},
                            after={"collection_url": new_url, "resources": count})
            return count
