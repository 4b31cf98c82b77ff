"""Carry out a plan: conditional writes, each recorded in the store once it has landed.

Every write is bracketed: a write-ahead row (``Stored.pending``) before the request, the final
row after it. A process killed anywhere in between leaves a row the planner can settle on the
next run (see ``plan._settle_pending``): nothing is written twice, nothing duplicated.

The store is written in batches (``BATCH`` actions, or ``FLUSH_SECONDS``): one transaction
marks a batch's writes pending before the first request, and one records the final rows of
those that landed. A crash therefore never records a write that did not land; at worst the
next run confirms (or redoes, with the same conditional request) the batch's writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from calsync.occurrence import default_owner
from calsync.store.records import HEAD_ONLY
from calsync.sync.client import CalDAVClient, TransportError
from calsync.sync.errors import (
    PreconditionFailedTwice,
    PublishStopped,
    ServerError,
    ServerRefused,
)
from calsync.sync.plan import (
    UNLOADED,
    WRITE_KINDS,
    Action,
    Desired,
    Plan,
    ServerItem,
    Stored,
    plan,
)
from calsync.sync.store_protocol import ResourceRow, SyncStore

log = logging.getLogger(__name__)

PENDING_PREFIX = "calsync-pending:"
MAX_REPLANS = 2  # a 412 re-reads the resource and re-plans it at most this often
BATCH = 32  # actions per write-ahead transaction
FLUSH_SECONDS = 1.0  # final rows wait at most this long in memory


@dataclass(frozen=True)
class ProgressEvent:
    collection: str
    done: int
    total: int
    kind: str
    uid: str


Progress = Callable[[ProgressEvent], None]


# -- pure: what the store should hold before and after an action ----------------------------


def pending_before(a: Action, prev: Stored | None) -> Stored:
    """The write-ahead row for a write action."""
    if a.kind == "delete":
        base = prev or Stored(a.uid, a.href, None, a.key or "", b"", a.sequence)
        return replace(base, href=a.href, etag=None, pending="delete", prev_etag=a.etag)
    return Stored(a.uid, a.href, None, a.key or "", a.body or b"", a.sequence, a.kind, a.etag)


def stored_after(a: Action, etag: str | None = None) -> Stored | None:
    """The row once ``a`` is done (``etag``: what the server answered a write with)."""
    if a.kind in ("delete", "forget"):
        return None
    if a.kind in ("create", "update"):
        return Stored(a.uid, a.href, etag, a.key or "", a.body or b"", a.sequence)
    if a.kind in ("adopt", "refresh"):
        return Stored(a.uid, a.href, a.etag, a.key or "", a.body or b"", a.sequence)
    raise ValueError(f"{a.kind} does not change the store")


# -- the store, as the sync layer sees it ---------------------------------------------------


def org_of_uid(uid: str, default: str) -> str:
    """The organization a UID names by its default domain ``<org>.calsync``
    (calsync.occurrence.default_owner); anything else, a policy's own uid_domain included,
    belongs to ``default``: the collection's organization (the layouts give each of them its
    own collections, calsync.sync.layouts)."""
    return default_owner(uid) or default


class SyncState:
    """Adapter over ``calsync.store.Store`` for one collection.

    The write-ahead mark travels in the etag column (``calsync-pending:<kind>:<prev etag>``):
    a real ETag is a quoted string, so the two never mix, and no schema change is needed.
    """

    def __init__(self, store: SyncStore, collection_url: str, default_org: str) -> None:
        self.store = store
        self.url = collection_url
        self.default_org = default_org

    def load(self, orgs: frozenset[str], bodies: bool = True) -> dict[str, Stored]:
        """The stored rows; ``bodies=False`` leaves ``written_ics`` as ``UNLOADED`` (see
        ``with_bodies``) so an unchanged collection never reads megabytes it will not use."""
        if bodies:
            rows = self.store.sync_state.get_resources(self.url)
        else:
            rows = self.store.sync_state.get_resource_heads(self.url)
        return {uid: from_row(r) for uid, r in rows.items() if r.organization in orgs}

    def with_bodies(self, stored: dict[str, Stored], uids: Iterable[str]) -> None:
        """Load the real ``written_ics`` of ``uids`` into ``stored`` (in place)."""
        want = [u for u in uids if u in stored and stored[u].written_ics == UNLOADED]
        if want:
            rows = self.store.sync_state.get_resources(self.url, want)
            for uid, r in rows.items():
                stored[uid] = from_row(r)

    def open_conflicts(self, orgs: frozenset[str]) -> set[str]:
        out: set[str] = set()
        for org in sorted(orgs):
            for c in self.store.conflicts.open_conflicts(org):
                if c.collection_url == self.url:
                    out.add(c.uid)
        return out

    def save(self, s: Stored) -> None:
        if s.written_ics == UNLOADED:  # a head-only row must never overwrite the stored body
            raise AssertionError(f"{s.uid}: saving a row whose body was not loaded")
        etag = s.etag
        if s.pending:
            etag = f"{PENDING_PREFIX}{s.pending}:{s.prev_etag or ''}"
        self.store.sync_state.upsert_resource(
            org_of_uid(s.uid, self.default_org),
            self.url,
            s.uid,
            written_ics=_db_text(s.written_ics),
            content_hash=s.key,
            sequence=s.sequence,
            href=s.href,
            etag=etag,
        )

    def forget(self, uid: str) -> None:
        self.store.sync_state.delete_resource(self.url, uid)

    def save_many(self, rows: Mapping[str, Stored | None]) -> None:
        """Save (or forget, for None) several rows in one transaction."""
        upserts = []
        for uid, s in rows.items():
            if s is None:
                continue
            if s.written_ics == UNLOADED:
                raise AssertionError(f"{s.uid}: saving a row whose body was not loaded")
            etag = f"{PENDING_PREFIX}{s.pending}:{s.prev_etag or ''}" if s.pending else s.etag
            upserts.append({"organization": org_of_uid(uid, self.default_org), "uid": uid,
                            "written_ics": _db_text(s.written_ics), "content_hash": s.key,
                            "sequence": s.sequence, "href": s.href, "etag": etag})
        gone = [uid for uid, s in rows.items() if s is None]
        self.store.sync_state.save_resources(self.url, upserts, gone)

    def record_conflict(self, a: Action) -> None:
        assert a.conflict_kind is not None  # _record passes only conflicts that name one
        self.store.conflicts.record_conflict(
            org_of_uid(a.uid, self.default_org),
            self.url,
            a.uid,
            kind=a.conflict_kind,
            policy_ics=_db_text(a.policy_ics or b""),
            server_ics=_db_text(a.server_ics) if a.server_ics else None,
            server_etag=a.etag,
            href=a.href,
        )


def _db_text(data: bytes) -> str:
    # Server copies can be anything; PostgreSQL text refuses NUL and invalid UTF-8.
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")


def from_row(r: ResourceRow) -> Stored:
    """A store ``ResourceState`` as the planner's ``Stored``."""
    etag: str | None = r.etag
    pending = prev = None
    if etag and etag.startswith(PENDING_PREFIX):
        pending, _, prev_text = etag[len(PENDING_PREFIX) :].partition(":")
        etag, prev = None, (prev_text or None)
    return Stored(
        uid=r.uid,
        href=r.href,
        etag=etag,
        key=r.content_hash,
        written_ics=(
            UNLOADED if r.written_ics == HEAD_ONLY
            else (r.written_ics or "").encode("utf-8")
        ),
        sequence=r.sequence,
        pending=pending,
        prev_etag=prev,
    )


# -- I/O: applying --------------------------------------------------------------------------


@dataclass
class _Ctx:
    client: CalDAVClient
    state: SyncState
    collection: str  # path, as in the plan
    orgs: frozenset[str]
    desired: Mapping[str, Desired]
    stored: dict[str, Stored]
    planned: Plan  # its options re-plan a resource after a 412
    marked: set[str] = field(default_factory=set)  # write-ahead rows saved by the batch
    finals: dict[str, Stored | None] = field(default_factory=dict)  # landed, not yet saved
    flushed_at: float = field(default_factory=time.monotonic)

    def flush(self) -> None:
        if self.finals:
            self.state.save_many(self.finals)
            self.finals = {}
        self.flushed_at = time.monotonic()

    def due(self) -> bool:
        return (len(self.finals) >= BATCH
                or time.monotonic() - self.flushed_at >= FLUSH_SECONDS)


def apply_plan(
    client: CalDAVClient,
    state: SyncState,
    the_plan: Plan,
    orgs: frozenset[str],
    desired: Mapping[str, Desired],
    stored: Mapping[str, Stored],
    progress: Progress | None = None,
    done: list[Action] | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Action]:
    """Do every action of ``the_plan``; returns the actions as finally done (after 412s).

    Stops at the first transport failure with ``ServerError``, and before the next action
    once ``stop()`` is true with ``PublishStopped``: what landed is recorded, and ``done``
    (when given) holds it for the caller's report.
    """
    ctx = _Ctx(client, state, the_plan.collection, orgs, desired, dict(stored), the_plan)
    done = [] if done is None else done
    actions = the_plan.actions
    total = len(actions)
    for first in range(0, total, BATCH):
        chunk = actions[first:first + BATCH]
        marks = {a.uid: pending_before(a, ctx.stored.get(a.uid))
                 for a in chunk if a.kind in WRITE_KINDS}
        if marks:
            state.save_many(marks)
            ctx.marked = set(marks)
        current = None
        try:
            for i, action in enumerate(chunk, first + 1):
                if stop is not None and stop():
                    raise PublishStopped(state.url)
                current = action.uid
                try:
                    done.append(_do(ctx, action))
                except TransportError as exc:
                    raise ServerError(state.url, str(exc)) from None
                current = None
                if progress is not None:
                    progress(ProgressEvent(state.url, i, total, action.kind, action.uid))
                if ctx.due():
                    ctx.flush()
        except BaseException:
            # The landed writes are recorded; the marks of writes never sent are undone. The
            # write in flight keeps its mark: it may have landed (the next run settles it).
            ctx.marked.discard(current or "")
            for uid in ctx.marked:
                ctx.finals.setdefault(uid, ctx.stored.get(uid))
            ctx.marked = set()
            ctx.flush()
            raise
        ctx.flush()
    return done


def _do(ctx: _Ctx, a: Action) -> Action:
    for attempt in range(MAX_REPLANS + 1):
        if a.kind not in WRITE_KINDS:
            if a.uid in ctx.marked:  # a re-planned write that needs no request
                ctx.marked.discard(a.uid)
                ctx.finals[a.uid] = ctx.stored.get(a.uid)
            _record(ctx, a)
            return a
        prev = ctx.stored.get(a.uid)
        if attempt or a.uid not in ctx.marked:
            ctx.flush()  # keep the order of saves for this row
            ctx.state.save(pending_before(a, prev))
        ctx.marked.discard(a.uid)
        status, etag = _write(ctx.client, a)
        if status == 412 or (status == 404 and a.kind == "update"):
            _restore(ctx, a.uid, prev)
            if attempt == MAX_REPLANS:
                raise PreconditionFailedTwice(a.href or a.uid)
            a = _replan(ctx, a)
            continue
        if status == 404 and a.kind == "delete":
            a = replace(a, kind="forget", reason="already gone")
        elif status >= 300:
            _restore(ctx, a.uid, prev)
            raise ServerRefused(a.href or a.uid, status, a.kind.upper())
        _record(ctx, a, etag)
        return a
    raise AssertionError("unreachable")


def _restore(ctx: _Ctx, uid: str, prev: Stored | None) -> None:
    """Undo a write-ahead row for a write the server refused."""
    ctx.finals.pop(uid, None)
    if prev is not None:
        ctx.state.save(prev)
    else:
        ctx.state.forget(uid)


def _write(client: CalDAVClient, a: Action) -> tuple[int, str | None]:
    assert a.href is not None
    if a.kind == "delete":
        return client.delete(a.href, a.etag).status, None
    resp = client.put(a.href, a.body or b"", a.etag if a.kind == "update" else None)
    etag = resp.headers.get("etag")
    if resp.status < 300 and (not etag or etag.startswith("W/")):
        etag = client.etag_of(a.href)  # no (strong) ETag in the answer: ask for it
    return resp.status, etag


def _record(ctx: _Ctx, a: Action, etag: str | None = None) -> None:
    if a.kind == "unchanged" or (a.kind == "conflict" and not a.conflict_kind):
        return
    if a.kind == "conflict":
        ctx.state.record_conflict(a)
        log.warning("conflict (%s) on %s: %s", a.conflict_kind, a.uid, a.reason)
        return
    after = stored_after(a, etag)
    ctx.finals[a.uid] = after  # saved with the batch (ctx.flush)
    if after is None:
        ctx.stored.pop(a.uid, None)
    else:
        ctx.stored[a.uid] = after


def _replan(ctx: _Ctx, a: Action) -> Action:
    """Re-read one resource after a 412 and decide again; never a blind overwrite."""
    assert a.href is not None
    item = ctx.client.get(a.href)
    listing: dict[str, ServerItem] = {item.href: item} if item is not None else {}
    prev = ctx.stored.get(a.uid)
    if prev is not None and prev.href and prev.href != a.href:
        other = ctx.client.get(prev.href)
        if other is not None:
            listing[other.href] = other
    desired = {a.uid: ctx.desired[a.uid]} if a.uid in ctx.desired else {}
    stored = {a.uid: prev} if prev is not None else {}
    p = ctx.planned
    sub = plan(ctx.collection, ctx.orgs, desired, stored, listing, force=True,
               reclaim=p.reclaim, staff_readable=p.staff_readable, domains=p.domains)
    for b in sub.actions:
        if b.uid == a.uid:
            log.info("412 on %s: re-planned as %s (%s)", a.href, b.kind, b.reason)
            return b
    return replace(a, kind="unchanged", reason="nothing left to do after re-reading")
