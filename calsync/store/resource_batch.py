"""Several sync-state rows of one collection saved in one transaction (publishing batches)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from calsync.store.base import StoreBase, utc
from calsync.store.models import SyncResourceRow

_FIELDS = ("organization", "uid", "written_ics", "content_hash", "sequence", "href", "etag")


class ResourceBatchMixin(StoreBase):
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
