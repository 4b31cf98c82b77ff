"""Sync state: what calsync wrote into each collection (one row per resource), several such
rows saved in one transaction (publishing batches), and each collection's RFC 6578 state (the
last sync token and the listing it brings up to date)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from calsync.store.base import Repository, rowcount, to_record, utc
from calsync.store.models import (
    BusyObjectRow,
    SyncCollectionRow,
    SyncConflictRow,
    SyncResourceRow,
)
from calsync.store.records import HEAD_ONLY, CollectionState, ResourceState

_FIELDS = ("organization", "uid", "written_ics", "content_hash", "sequence", "href", "etag")


def _record(row: SyncCollectionRow) -> CollectionState:
    listing = json.loads(row.listing or "{}")
    return CollectionState(
        collection_url=row.collection_url,
        sync_token=row.sync_token,
        listing={str(k): (None if v is None else str(v)) for k, v in listing.items()},
        updated_at=row.updated_at,
    )


class SyncStateRepository(Repository):
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
            return rowcount(session.execute(stmt)) > 0

    # -- several resources in one transaction (publishing batches) ----------------------------

    def save_resources(
        self,
        collection_url: str,
        upserts: Iterable[Mapping[str, object]],
        forget: Iterable[str] = (),
        *,
        at: datetime | None = None,
    ) -> None:
        """Upsert rows (each a mapping of ``organization, uid, written_ics, content_hash,
        sequence, href, etag``) and delete the ``forget`` UIDs, all or nothing."""
        rows = [{k: row[k] for k in _FIELDS} | {"collection_url": collection_url,
                                                 "updated_at": utc(at)} for row in upserts]
        gone = sorted(set(forget))
        if not rows and not gone:
            return
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        with self._writing() as session:
            for values in rows:  # one statement per row: bodies can be large
                stmt = dialect.insert(SyncResourceRow).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["collection_url", "uid"],
                    set_={k: stmt.excluded[k] for k in values
                          if k not in ("collection_url", "uid")},
                )
                session.execute(stmt)
            if gone:
                session.execute(delete(SyncResourceRow).where(
                    SyncResourceRow.collection_url == collection_url,
                    SyncResourceRow.uid.in_(gone)))

    # -- per-collection RFC 6578 state --------------------------------------------------------

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
            return rowcount(session.execute(stmt)) > 0

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
            count = rowcount(moved)
            self._add_audit(session, at=now, actor=actor, action="sync.relocate",
                            target=new_url, before={"collection_url": old_url},
                            after={"collection_url": new_url, "resources": count})
            return count
