"""The planner's vocabulary (what is wanted, stored, listed; actions; a plan) and its first
phase: which server bodies a plan needs (``hrefs_to_fetch``). Pure; see calsync.sync.plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from urllib.parse import quote

from calsync.sync.normalize import policy_key, semantic_key

WRITE_KINDS = frozenset({"create", "update", "delete"})
# Deletes first so a create can reuse a freed href; no-write kinds last.
KIND_ORDER = ("delete", "update", "create", "adopt", "refresh", "forget", "conflict", "unchanged")
# The reason of a confidential leftover's delete: never held back by the safety valve.
CONFIDENTIAL_LEFTOVER = "confidential leftover: no series wants it here"


@dataclass(frozen=True)
class Desired:
    """One generated resource. ``key`` is its ``policy_key``; ``semantic`` (parsed on first
    use) is only needed when it must be compared with a server copy."""

    uid: str
    name: str
    ics: bytes
    key: str

    @classmethod
    def of(cls, uid: str, name: str, ics: bytes) -> Desired:
        return cls(uid, name, ics, policy_key(ics))

    @cached_property
    def semantic(self) -> str:
        return semantic_key(self.ics)


# ``Stored.written_ics`` of a row read without its body: only rows the planner will surely
# leave unchanged (same href and etag on the server, same policy key, nothing pending).
UNLOADED = b"\x00head-only"


@dataclass(frozen=True)
class Stored:
    uid: str
    href: str | None
    etag: str | None
    key: str
    written_ics: bytes
    sequence: int
    pending: str | None = None  # "create" | "update" | "delete": write not yet confirmed
    prev_etag: str | None = None  # server etag before the pending write


@dataclass(frozen=True)
class ServerItem:  # uid/ics only once fetched
    href: str
    etag: str | None
    uid: str | None = None
    ics: bytes | None = None


@dataclass(frozen=True)
class Action:
    """One step. ``etag`` is the If-Match precondition for writes, the etag to record for
    ``adopt``/``refresh``. ``body`` is what to PUT (``adopt``: the server copy to record)."""

    kind: str
    uid: str
    href: str | None
    etag: str | None = None
    body: bytes | None = None
    reason: str = ""
    conflict_kind: str | None = None
    key: str | None = None  # policy key to record after this action
    sequence: int = 0
    server_ics: bytes | None = None  # conflicts: the server copy, for the record
    policy_ics: bytes | None = None  # conflicts: what the policy wants

    def to_json(self) -> dict[str, object]:
        """JSON-able summary, without bodies."""
        data = asdict(self)
        for big in ("body", "server_ics", "policy_ics"):
            data.pop(big)
        return data


@dataclass(frozen=True)
class Plan:
    collection: str
    actions: tuple[Action, ...]
    stats: Mapping[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    # hrefs of every object recognised as calsync's (kept leftovers and duplicates too):
    # never cached as someone else's event for clash checks
    own_hrefs: frozenset[str] = frozenset()
    # how it was planned, for re-planning one resource after a 412 (apply._replan)
    reclaim: bool = False
    staff_readable: bool = True
    domains: frozenset[str] = frozenset()

    @property
    def writes(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind in WRITE_KINDS)


def href_for(collection: str, name: str) -> str:
    """Where a new resource goes: ``<collection>/<name>.ics``."""
    return f"{collection.rstrip('/')}/{quote(name, safe='-_.~@:+')}.ics"


def alt_href(collection: str, name: str, uid: str) -> str:
    digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
    return href_for(collection, f"{name}-{digest}")


def target_hrefs(
    collection: str, desired: Mapping[str, Desired], stored: Mapping[str, Stored]
) -> set[str]:
    """Hrefs a create could land on: the only unknown items that may be ours."""
    out: set[str] = set()
    for d in desired.values():
        if d.uid not in stored or stored[d.uid].pending == "create":
            out |= {href_for(collection, d.name), alt_href(collection, d.name, d.uid)}
    return out


def needs_body(
    s: Stored, listing: Mapping[str, ServerItem], desired: Mapping[str, Desired],
    open_conflicts: Collection[str] = frozenset(),
) -> bool:
    """Whether planning ``s`` may read or rewrite its stored body (see ``UNLOADED``)."""
    item = listing.get(s.href) if s.href else None
    d = desired.get(s.uid)
    return (s.pending is not None or item is None or item.etag is None or item.etag != s.etag
            or d is None or d.key != s.key or s.uid in open_conflicts)


def hrefs_to_fetch(
    stored: Mapping[str, Stored],
    listing: Mapping[str, ServerItem],
    want: Iterable[str] | None = None,
    skip_uids: Iterable[str] = (),
) -> set[str]:
    """Bodies the planner needs: items whose etag differs from the store, and unknown items.

    ``skip_uids`` (open conflicts) are not read again: nothing is planned for them until
    they are resolved, and the conflict already holds the server copy. ``want`` narrows
    unknown items to the hrefs that may hold ours (``target_hrefs``) so
    foreign events are not downloaded on every run; it is ignored when a stored item is
    missing from its href (then every unknown body is read to find it by UID).
    """
    by_href = {s.href: s for s in stored.values() if s.href}
    skip = set(skip_uids)
    lost = any(
        s.href not in listing and s.pending is None and s.written_ics and s.uid not in skip
        for s in stored.values()
    )
    wanted = None if want is None or lost else set(want)
    out: set[str] = set()
    for href, item in listing.items():
        s = by_href.get(href)
        if s is not None:
            if s.uid in skip and not s.pending:
                continue  # an open conflict waits for `calsync resolve`: its copy is recorded
            if s.pending or item.etag is None or item.etag != s.etag:
                out.add(href)
        elif wanted is None or href in wanted:
            out.add(href)
    return out
