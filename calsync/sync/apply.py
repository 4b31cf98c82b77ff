"""Carry out a plan: conditional writes, each recorded in the store the moment it lands.

Every write is bracketed: a write-ahead row (``Stored.pending``) before the request, the final
row after it. A process killed anywhere in between leaves a row the planner can settle on the
next run (see ``plan._settle_pending``): nothing is written twice, nothing duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from calsync.store.records import HEAD_ONLY
from calsync.sync.client import CalDAVClient, TransportError
from calsync.sync.errors import PreconditionFailedTwice, ServerError, ServerRefused
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

log = logging.getLogger(__name__)

PENDING_PREFIX = "calsync-pending:"
MAX_REPLANS = 2  # a 412 re-reads the resource and re-plans it at most this often


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
    """Generated UIDs end in ``@<org>.calsync``; anything else belongs to ``default``."""
    if "@" in uid and uid.endswith(".calsync"):
        return uid.rsplit("@", 1)[1][: -len(".calsync")]
    return default


class SyncState:
    """Adapter over ``calsync.store.Store`` for one collection.

    The write-ahead mark travels in the etag column (``calsync-pending:<kind>:<prev etag>``):
    a real ETag is a quoted string, so the two never mix, and no schema change is needed.
    """

    def __init__(self, store: object, collection_url: str, default_org: str) -> None:
        self.store = store
        self.url = collection_url
        self.default_org = default_org

    def load(self, orgs: frozenset[str], bodies: bool = True) -> dict[str, Stored]:
        """The stored rows; ``bodies=False`` leaves ``written_ics`` as ``UNLOADED`` (see
        ``with_bodies``) so an unchanged collection never reads megabytes it will not use."""
        if bodies:
            rows = self.store.get_resources(self.url)  # type: ignore[attr-defined]
        else:
            rows = self.store.get_resource_heads(self.url)  # type: ignore[attr-defined]
        return {uid: from_row(r) for uid, r in rows.items() if r.organization in orgs}

    def with_bodies(self, stored: dict[str, Stored], uids: Iterable[str]) -> None:
        """Load the real ``written_ics`` of ``uids`` into ``stored`` (in place)."""
        want = [u for u in uids if u in stored and stored[u].written_ics == UNLOADED]
        if want:
            rows = self.store.get_resources(self.url, want)  # type: ignore[attr-defined]
            for uid, r in rows.items():
                stored[uid] = from_row(r)

    def open_conflicts(self, orgs: frozenset[str]) -> set[str]:
        out: set[str] = set()
        for org in sorted(orgs):
            for c in self.store.open_conflicts(org):  # type: ignore[attr-defined]
                if c.collection_url == self.url:
                    out.add(c.uid)
        return out

    def save(self, s: Stored) -> None:
        if s.written_ics == UNLOADED:  # a head-only row must never overwrite the stored body
            raise AssertionError(f"{s.uid}: saving a row whose body was not loaded")
        etag = s.etag
        if s.pending:
            etag = f"{PENDING_PREFIX}{s.pending}:{s.prev_etag or ''}"
        self.store.upsert_resource(  # type: ignore[attr-defined]
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
        self.store.delete_resource(self.url, uid)  # type: ignore[attr-defined]

    def record_conflict(self, a: Action) -> None:
        self.store.record_conflict(  # type: ignore[attr-defined]
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


def from_row(r: object) -> Stored:
    """A store ``ResourceState`` as the planner's ``Stored``."""
    etag: str | None = r.etag  # type: ignore[attr-defined]
    pending = prev = None
    if etag and etag.startswith(PENDING_PREFIX):
        pending, _, prev_text = etag[len(PENDING_PREFIX) :].partition(":")
        etag, prev = None, (prev_text or None)
    return Stored(
        uid=r.uid,  # type: ignore[attr-defined]
        href=r.href,  # type: ignore[attr-defined]
        etag=etag,
        key=r.content_hash,  # type: ignore[attr-defined]
        written_ics=(
            UNLOADED if r.written_ics == HEAD_ONLY  # type: ignore[attr-defined]
            else (r.written_ics or "").encode("utf-8")  # type: ignore[attr-defined]
        ),
        sequence=r.sequence,  # type: ignore[attr-defined]
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


def apply_plan(
    client: CalDAVClient,
    state: SyncState,
    the_plan: Plan,
    orgs: frozenset[str],
    desired: Mapping[str, Desired],
    stored: Mapping[str, Stored],
    progress: Progress | None = None,
) -> list[Action]:
    """Do every action of ``the_plan``; returns the actions as finally done (after 412s).

    Stops at the first transport failure with ``ServerError``: what landed is recorded.
    """
    ctx = _Ctx(client, state, the_plan.collection, orgs, desired, dict(stored))
    done: list[Action] = []
    total = len(the_plan.actions)
    for i, action in enumerate(the_plan.actions, 1):
        try:
            done.append(_do(ctx, action))
        except TransportError as exc:
            raise ServerError(state.url, str(exc)) from None
        if progress is not None:
            progress(ProgressEvent(state.url, i, total, action.kind, action.uid))
    return done


def _do(ctx: _Ctx, a: Action) -> Action:
    for attempt in range(MAX_REPLANS + 1):
        if a.kind not in WRITE_KINDS:
            _record(ctx, a)
            return a
        prev = ctx.stored.get(a.uid)
        ctx.state.save(pending_before(a, prev))
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
    if after is None:
        ctx.state.forget(a.uid)
        ctx.stored.pop(a.uid, None)
    else:
        ctx.state.save(after)
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
    sub = plan(ctx.collection, ctx.orgs, desired, stored, listing, force=True)
    for b in sub.actions:
        if b.uid == a.uid:
            log.info("412 on %s: re-planned as %s (%s)", a.href, b.kind, b.reason)
            return b
    return replace(a, kind="unchanged", reason="nothing left to do after re-reading")
