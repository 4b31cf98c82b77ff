"""Events calsync does not own, kept for clash checks (篇二 四.6: meetings of higher
authorities come first): foreign objects of the collections it publishes into and the objects
of watched calendars. Read during publish; the clash check never touches the network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import delete, select

from calsync.store.base import Repository, utc
from calsync.store.models import BusyObjectRow

Obj = tuple[str | None, str]  # (etag, ics)


class BusyRepository(Repository):
    def busy_objects(self, source: str | None = None) -> dict[tuple[str, str], Obj]:
        """(source, href) -> (etag, ics), of one source or all."""
        query = select(BusyObjectRow.source, BusyObjectRow.href, BusyObjectRow.etag,
                       BusyObjectRow.ics)
        if source is not None:
            query = query.where(BusyObjectRow.source == source)
        with self._reading() as session:
            return {(s, h): (e, i) for s, h, e, i in session.execute(query)}

    def busy_etags(self, source: str) -> dict[str, str | None]:
        """href -> etag of one source (no bodies: the publish compares these)."""
        query = select(BusyObjectRow.href, BusyObjectRow.etag).where(
            BusyObjectRow.source == source)
        with self._reading() as session:
            return {h: e for h, e in session.execute(query)}

    def busy_heads(self, source: str) -> dict[str, tuple[str | None, bool]]:
        """href -> (etag, carries X-CALSYNC-ORG) of one source, without bodies: a publish
        skips reading the marked-free ones again while their etag holds (they are not ours)."""
        marked = BusyObjectRow.ics.contains("X-CALSYNC-ORG")
        query = select(BusyObjectRow.href, BusyObjectRow.etag, marked).where(
            BusyObjectRow.source == source)
        with self._reading() as session:
            return {h: (e, bool(m)) for h, e, m in session.execute(query)}

    def update_busy(self, source: str, changed: Mapping[str, Obj], gone: Iterable[str] = (),
                    *, replace_all: bool = False, at: datetime | None = None) -> None:
        """Store new or changed objects and drop gone ones; ``replace_all``: the source is
        exactly ``changed`` (a watched calendar read whole)."""
        now = utc(at)
        with self._writing() as session:
            if replace_all:
                session.execute(delete(BusyObjectRow).where(BusyObjectRow.source == source))
            else:
                drop = sorted(set(gone) | set(changed))
                if drop:
                    session.execute(delete(BusyObjectRow).where(
                        BusyObjectRow.source == source, BusyObjectRow.href.in_(drop)))
            for href, (etag, ics) in sorted(changed.items()):
                session.add(BusyObjectRow(source=source, href=href, etag=etag,
                                          ics=ics.replace("\x00", "\ufffd"), fetched_at=now))
