"""A collection's server state (href -> etag), read through RFC 6578 sync tokens when possible.

A full listing costs one request whose size grows with the collection; a sync-collection
REPORT from the last token costs one request listing only what changed. The stored listing
(every member, foreign ones included: the planner needs them all) plus that delta is what the
planner sees.

After a run that wrote, ``confirm`` asks once more what changed since the token read BEFORE
the writes: when that is exactly our writes (their hrefs, the etags recorded from the PUTs),
the new token is taken, so the next run starts from an empty delta and a no-op is known as
one (``calsync publish``'s witness relies on it). When it is anything else — an app's edit in
between, a server that returned no etag — the old token is kept: the next delta reports our
writes again (their etags equal the recorded ones, so they are no change) along with the
rest. Anything a crashed or failed run left unrecorded is re-delivered the same way (the token
is only saved after a successful run), which is why the delta never needs to be trusted more
than a full listing would be.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from calsync.sync.client import CalDAVClient
from calsync.sync.plan import Action, ServerItem, Stored
from calsync.sync.store_protocol import SyncStore

log = logging.getLogger(__name__)


class CollectionListing:
    """The listing of one collection across a publish: read, fold in our writes, save."""

    def __init__(self, dav: CalDAVClient, store: SyncStore, url: str) -> None:
        self.dav = dav
        self.store = store
        self.url = url
        self.token: str | None = None
        self.listing: dict[str, str | None] = {}
        self.changes = 0  # members the delta reported as really changed or removed

    def read(self) -> dict[str, ServerItem] | None:
        """Every member's href and etag (bodies not fetched); None if the collection is gone."""
        saved = self.store.sync_state.get_collection_state(self.url)
        token = saved.sync_token if saved is not None else None
        known: dict[str, str | None] = dict(saved.listing) if saved and token else {}
        delta = self.dav.sync_collection(self.url, token, known)
        if delta is None:
            if saved is not None:  # a re-created collection starts a new token history
                self.store.sync_state.forget_collection_state(self.url)
            return None
        changed, removed, self.token = delta
        listing = {h: e for h, e in known.items() if h not in removed}
        # A reported etag equal to the recorded one is our own write (or a re-delivery).
        self.changes = sum(1 for h, e in changed.items() if h not in known or known[h] != e)
        self.changes += sum(1 for h in removed if h in known)
        listing.update(changed)
        self.listing = listing
        if token:
            log.debug("%s: %d change(s) since the last sync token", self.url, self.changes)
        if self.token is None and saved is not None:  # tokens stopped working: stop trying
            self.store.sync_state.forget_collection_state(self.url)
        return {h: ServerItem(h, e) for h, e in listing.items()}

    def wrote(
        self, planned: Iterable[Action], done: Iterable[Action], rows: Mapping[str, Stored]
    ) -> None:
        """Fold this run's writes in: new etags (from the store rows) and deleted hrefs."""
        was_delete = {a.uid for a in planned if a.kind == "delete"}
        for a in done:
            if a.href is None:
                continue
            if a.kind == "delete" or (a.kind == "forget" and a.uid in was_delete):
                self.listing.pop(a.href, None)
            elif a.kind in ("create", "update"):
                row = rows.get(a.uid)
                if row is not None and row.href == a.href and row.pending is None:
                    self.listing[a.href] = row.etag

    def confirm(self) -> bool:
        """After this run's writes (folded in by ``wrote``): take the server's new token if
        what changed since the old one is exactly what we wrote; one request. True if taken."""
        had_token = self.token is not None
        delta = self.dav.sync_collection(self.url, self.token, self.listing)
        if delta is None:
            return False
        changed, removed, token = delta
        ours = all(e is not None and self.listing.get(h) == e for h, e in changed.items())
        ours = ours and not removed & set(self.listing)
        # An initial sync (no old token) lists every member: all of ours must be there.
        ours = ours and (had_token or set(changed) == set(self.listing))
        if ours and token is not None:
            self.token = token
            return True
        log.info("%s: changed by someone else while we wrote; the next run reads it", self.url)
        return False

    def save(self) -> None:
        """Remember token + listing; only after a successful run (see the module doc)."""
        if self.token is not None:
            self.store.sync_state.save_collection_state(
                self.url, self.token, self.listing
            )
