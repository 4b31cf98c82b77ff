"""What a publish reads of one collection before planning, and what it keeps afterwards.

Reading: the stored rows (moved over from the collection's old address when the CalDAV
server now answers on another port or host), the listing, and the bodies the planner needs.
A body is read when the store's etag differs, for hrefs a create may land on, and for every
member not yet known to be someone else's: an object calsync wrote under an older layout or
UID must be recognised as calsync's (``X-CALSYNC-ORG``), not counted as foreign. Foreign
objects are cached with their etag (for clash checks), so each is read once, not every run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

from calsync.sync.apply import SyncState
from calsync.sync.client import CalDAVClient
from calsync.sync.listing import CollectionListing
from calsync.sync.normalize import try_semantic_key
from calsync.sync.plan import (
    Desired,
    Plan,
    ServerItem,
    Stored,
    hrefs_to_fetch,
    needs_body,
    target_hrefs,
)
from calsync.sync.store_protocol import SyncStore

log = logging.getLogger(__name__)

# href -> (etag, carries our mark) of the cached foreign objects (store.busy.busy_heads)
Cache = Mapping[str, tuple[str | None, bool]]


def read_state(
    dav: CalDAVClient,
    state: SyncState,
    orgs: frozenset[str],
    url: str,
    path: str,
    desired: Mapping[str, Desired],
    reader: CollectionListing,
    cache: Cache,
    reclaim: bool = False,
) -> tuple[dict[str, ServerItem] | None, dict[str, Stored], set[str]]:
    """Listing (None: collection missing), stored rows, open-conflict uids; bodies fetched.

    An open conflict's copy is not read again while it waits for ``calsync resolve``,
    unless no series wants it here (a leftover the plan may take back) or ``reclaim``."""
    stored = state.load(orgs, bodies=False)
    listing = reader.read()
    unknown = _unknown(listing or {}, stored, cache)
    if unknown:  # never on a no-op run: members are then ours or known foreign
        stored = _relocated(state, orgs, url, unknown) or stored
        unknown = _unknown(listing or {}, stored, cache)
    conflicts = state.open_conflicts(orgs)
    state.with_bodies(stored, [s.uid for s in stored.values()
                               if needs_body(s, listing or {}, desired, conflicts)])
    if listing is None:
        return None, stored, conflicts
    want = target_hrefs(path, desired, stored) | unknown
    waiting = set() if reclaim else {u for u in conflicts if u in desired}
    need = hrefs_to_fetch(stored, listing, want, waiting)
    if need:
        bodies = dav.multiget(url, need)
        for href in need:
            if href in bodies:
                listing[href] = bodies[href]
            else:
                listing.pop(href, None)  # gone between listing and multiget
    return listing, stored, conflicts


def _unknown(listing: Mapping[str, ServerItem], stored: Mapping[str, Stored],
             cache: Cache) -> set[str]:
    """Members with no row here that are not known to be someone else's."""
    known = {s.href for s in stored.values() if s.href}
    return {h for h, item in listing.items() if h not in known and not (
        item.etag is not None and h in cache and cache[h] == (item.etag, False))}


def _relocated(state: SyncState, orgs: frozenset[str], url: str,
               unknown: set[str]) -> dict[str, Stored] | None:
    """The rows of this collection stored under its old address (same path, another host or
    port: ``calsync serve`` restarted on another CalDAV port), moved to this one when the
    server holds what they describe at hrefs this address has no row for (a run at the new
    address that found no record may have recorded some resources already: those rows win)."""
    store = state.store
    here = urlsplit(url)
    best, best_hits = None, 0
    for org in sorted(orgs):
        for other in sorted(store.sync_state.collection_urls().get(org, ())):
            there = urlsplit(other)
            if other == url or there.path != here.path or there.netloc == here.netloc:
                continue
            rows = store.sync_state.get_resource_heads(other)
            hits = sum(1 for r in rows.values() if r.href in unknown)
            if hits > best_hits:
                best, best_hits = other, hits
    if best is None:
        return None
    moved = store.sync_state.relocate_collection(best, url)
    log.warning("%s: the collection's rows were stored under %s (the server's address "
                "changed); %d moved over", url, best, moved)
    stored = state.load(orgs, bodies=False)
    _close_spurious(state, orgs, stored)
    return stored


def _close_spurious(state: SyncState, orgs: frozenset[str], stored: dict[str, Stored]) -> None:
    """Conflicts a run at the new address opened only because it found no record: the
    server copy is exactly what calsync wrote, so there is nothing to decide."""
    store = state.store
    rows = store.sync_state.get_resources(state.url)
    for org in sorted(orgs):
        for c in store.conflicts.open_conflicts(org):
            row = rows.get(c.uid)
            if c.collection_url != state.url or row is None or not c.server_ics:
                continue
            if try_semantic_key(c.server_ics) == try_semantic_key(row.written_ics):
                store.conflicts.resolve_conflict(c.id, "policy", "publish")


def close_taken_back(state: SyncState, orgs: frozenset[str], conflicts: set[str],
                     done: tuple) -> None:
    """Open conflicts on resources this run deleted (a leftover taken back, see
    calsync.sync.plan): the server copy is gone, nothing is left to decide."""
    gone = {a.uid for a in done if a.kind == "delete"} & conflicts
    if not gone:
        return
    store = state.store
    for org in sorted(orgs):
        for c in store.conflicts.open_conflicts(org):
            if c.collection_url == state.url and c.uid in gone:
                store.conflicts.resolve_conflict(c.id, "policy", "publish")


def keep_foreign(dav: CalDAVClient, store: SyncStore, url: str,
                 listing: Mapping[str, ServerItem], stored: Mapping[str, Stored],
                 the_plan: Plan, cache: Cache) -> None:
    """Keep the collection's foreign objects for clash checks. Only new or changed ones are
    read (one multiget, none when nothing foreign changed), so a no-op stays one request.
    Objects of ours the plan left in place (leftovers, duplicates) are not foreign."""
    ours = ({a.href for a in the_plan.actions if a.href} | {s.href for s in stored.values()
                                                            if s.href} | the_plan.own_hrefs)
    foreign = {h: item for h, item in listing.items() if h not in ours}
    changed = {h: item for h, item in foreign.items()
               if item.etag is None or h not in cache or cache[h][0] != item.etag}
    need = [h for h, item in changed.items() if item.ics is None]
    bodies = dav.multiget(url, need) if need else {}
    got = {}
    for h, item in changed.items():
        body = item.ics if item.ics is not None else (bodies[h].ics if h in bodies else None)
        if body is not None:
            got[h] = (item.etag, body.decode("utf-8", "replace"))
    gone = set(cache) - set(foreign)
    if got or gone:
        store.busy.update_busy(url, got, gone)
