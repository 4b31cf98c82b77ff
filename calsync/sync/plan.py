"""The sync planner: desired state + what calsync stored + what the server lists → actions.

Pure: no I/O, no clock. Publishing is two phases, like vdirsyncer: ``hrefs_to_fetch`` says
which bodies the planner needs (changed or unknown items only), then ``plan`` decides. The
types and the first phase live in calsync.sync.items (re-exported here).

Vocabulary. ``Stored.key`` is the ``policy_key`` (a cheap byte digest) of the *policy*
version calsync last published there; ``Stored.written_ics`` is the server content calsync
accepts as its own (normally the bytes it wrote; the server copy after `resolve --keep
server`; empty when the user's deletion was kept). A server copy counts as edited when its
meaning differs from ``written_ics``.

``Stored.pending`` is a write-ahead mark set before a write and cleared when it is recorded:
after a killed run it tells "landed" (adopt) from "never happened" (redo) from "edited".

Ours and not ours. An object is calsync's when the store has a row for its UID, or when it
carries ``X-CALSYNC-ORG`` naming one of the collection's organizations AND its UID is in one
of their UID domains (an app's copy of one of our events keeps the mark under a new UID: not
ours). Everything else is foreign and never touched. An object of ours that no series wants
in this collection is a *leftover* (an older layout, an old UID): it is deleted when the store
says calsync wrote it as it is now; a confidential one is deleted on calsync's mark alone, and
even over an app's edit where the organization's staff read the collection (leaving it
readable is the worst outcome; its readers have it in their own collection). A public one
without a record, or edited in an app, stays until ``publish --force`` (``reclaim``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from calsync.occurrence import default_domain, domain_of
from calsync.sync.errors import MalformedServerData, SafetyValveError
from calsync.sync.items import (
    CONFIDENTIAL_LEFTOVER,
    KIND_ORDER,
    UNLOADED,
    WRITE_KINDS,
    Action,
    Desired,
    Plan,
    ServerItem,
    Stored,
    alt_href,
    href_for,
    hrefs_to_fetch,
    needs_body,
    target_hrefs,
)
from calsync.sync.normalize import (
    facts,
    policy_key,
    semantic_key,
    sequence_of,
    with_sequence,
)

# ``_Seen.key`` of an item whose etag matches the store: not read, so taken as written.
UNREAD = "unread:as-written"


@dataclass(frozen=True)
class _Seen:
    """A server item as the planner understands it; ``key`` None means unreadable."""

    href: str
    etag: str | None
    ics: bytes | None
    key: str | None
    org: str | None = None
    confidential: bool = False
    mine: bool = False  # our mark and our UID domain: calsync wrote it, record or not


def _written_key(s: Stored) -> str | None:
    if not s.written_ics:
        return None
    try:
        return semantic_key(s.written_ics)
    except MalformedServerData:
        return None


class _Planner:
    def __init__(
        self,
        orgs: frozenset[str],
        desired: Mapping[str, Desired],
        stored: Mapping[str, Stored],
        listing: Mapping[str, ServerItem],
        restore_missing: bool = False,
        domains: frozenset[str] = frozenset(),
        reclaim: bool = False,
        staff_readable: bool = True,
    ) -> None:
        self.orgs, self.desired, self.stored, self.listing = orgs, desired, stored, listing
        # ``publish --force``: what the server lost is created again, not a conflict
        self.restore_missing = restore_missing
        self.domains = domains
        # ``publish --force``: leftovers of ours are deleted even when kept otherwise
        self.reclaim = reclaim
        # the organization's staff read this collection (not one confidential set of readers)
        self.staff_readable = staff_readable
        self.seen: dict[str, _Seen] = {}
        self.own: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.warnings: list[str] = []

    # -- reading the listing -------------------------------------------------------------

    def read_listing(self, open_conflicts: frozenset[str] = frozenset()) -> None:
        by_href = {s.href: s for s in self.stored.values() if s.href}
        for href in sorted(self.listing):
            item = self.listing[href]
            s = by_href.get(href)
            if item.ics is None:
                if s is not None and s.pending is None and item.etag == s.etag:
                    # unchanged since we wrote it: no need to read it
                    self._see(s.uid, _Seen(href, item.etag, None, UNREAD))
                elif s is not None and s.pending is None and s.uid in open_conflicts:
                    # left unread on purpose (hrefs_to_fetch): it waits for resolve
                    self._see(s.uid, _Seen(href, item.etag, None, UNREAD))
                elif s is not None:
                    raise ValueError(f"{href} changed: fetch its body (see hrefs_to_fetch)")
                else:
                    self.stats["foreign"] += 1  # not read: cannot be ours
                continue
            try:
                f = facts(item.ics)
            except MalformedServerData as exc:
                if s is not None:
                    self._see(s.uid, _Seen(href, item.etag, item.ics, None))
                else:
                    self.stats["unreadable"] += 1
                    self.warnings.append(f"{href}: {exc.detail}; left untouched")
                continue
            uid = f.uid
            mine = f.org in self.orgs and domain_of(uid) in self.domains
            seen = _Seen(href, item.etag, item.ics, f.key, f.org, f.confidential, mine)
            if mine or uid in self.stored:
                self._see(uid, seen)
            else:
                self.stats["foreign"] += 1

    def _see(self, uid: str, seen: _Seen) -> None:
        self.own.add(seen.href)
        old = self.seen.get(uid)
        if old is not None:
            s = self.stored.get(uid)
            keep = (
                old
                if s is not None and old.href == s.href
                else min(old, seen, key=lambda x: x.href)
            )
            other = seen if keep is old else old
            self.warnings.append(f"{uid} is on the server twice; {other.href} left untouched")
            seen = keep
        self.seen[uid] = seen

    # -- deciding ------------------------------------------------------------------------

    def decide(self, uid: str, open_conflict: bool, keep_policy: bool) -> Action | None:
        """One action for ``uid`` (creates get their href later)."""
        d, s, seen = self.desired.get(uid), self.stored.get(uid), self.seen.get(uid)
        if s is not None and s.pending == "delete" and seen is None:  # our delete landed
            if d is None:
                return Action("forget", uid, s.href, reason="deleted by an earlier run")
            return self._create(d, "re-added to policy", s.sequence)
        pending_create = s is not None and s.pending == "create"
        s, confirm = _settle_pending(s, seen)
        if pending_create and s is None and d is None:  # never landed, no longer wanted
            return Action("forget", uid, None, reason="unconfirmed create no longer wanted")
        if d is None and seen is not None and seen.mine:
            taken = self._take_back(uid, seen, s)
            if taken is not None:
                return taken
        if open_conflict and not keep_policy:
            href = seen.href if seen else (s.href if s else None)
            return Action("conflict", uid, href, reason="open conflict: run `calsync resolve`")
        if s is None:
            return self._unrecorded(uid, d, seen, keep_policy)
        if seen is None:
            if not s.written_ics:  # the user's deletion was kept
                if d is None:
                    return Action("forget", uid, None, reason="removed from policy")
                if d.key == s.key:
                    return Action("unchanged", uid, None, reason="deletion kept by resolve")
                return self._create(d, "policy changed after a kept deletion", s.sequence)
            if d is None:
                return Action("forget", uid, s.href, reason="already gone from the server")
            if keep_policy:
                return self._create(d, "kept policy over a deletion", s.sequence)
            if self.restore_missing:
                return self._create(d, "restored (publish --force)", s.sequence)
            return _conflict(uid, "deleted", None, d, s, "deleted in the app")
        if seen.key is None and not keep_policy:
            why = "server copy is unreadable"
            return _conflict(uid, "edited", seen, d, s, why)
        base = seen.etag
        churned = seen.etag != s.etag or seen.href != s.href or confirm
        if seen.etag != s.etag or seen.href != s.href:
            edited = seen.key != _written_key(s)
            if edited and d is not None and seen.key == d.semantic:
                return self._adopt(d, seen, "server already has the policy version")
            if edited and not keep_policy:
                kind = "edited" if d is not None and d.key == s.key else "edited-and-changed"
                why = "edited in the app" if d is not None else "edited in the app, removed"
                return _conflict(uid, kind, seen, d, s, why)
            if edited:  # keep policy: overwrite the edit
                s = replace(s, key="")
        if d is None:
            return Action("delete", uid, seen.href, base, reason="removed from policy")
        if d.key == s.key:
            if churned:
                why = "server copy reformatted" if not confirm else "earlier write confirmed"
                w = s.written_ics
                return Action(
                    "refresh", uid, seen.href, base, w, why, key=s.key, sequence=s.sequence
                )
            return Action("unchanged", uid, seen.href, reason="up to date")
        seq = max(s.sequence, sequence_of(seen.ics) if seen.ics else 0) + 1
        body = with_sequence(d.ics, seq)
        why = "policy changed" if s.key else "kept policy over an app edit"
        return Action("update", uid, seen.href, base, body, why, key=d.key, sequence=seq)

    def _take_back(self, uid: str, seen: _Seen, s: Stored | None) -> Action | None:
        """A leftover of ours (no series wants it here) that goes whatever else holds: a
        confidential one without a record (our mark is enough) or where staff read it, and
        any with ``reclaim``. None: the ordinary rules decide (delete if unedited)."""
        if seen.confidential and (s is None or self.staff_readable):
            return Action("delete", uid, seen.href, seen.etag, reason=CONFIDENTIAL_LEFTOVER)
        if self.reclaim:
            why = "leftover of calsync taken back (publish --force)"
            return Action("delete", uid, seen.href, seen.etag, reason=why)
        return None

    def _unrecorded(
        self, uid: str, d: Desired | None, seen: _Seen | None, keep_policy: bool
    ) -> Action | None:
        if seen is None:
            return self._create(d, "new in policy", -1) if d is not None else None
        if d is None:
            self.stats["orphan"] += 1
            self.warnings.append(
                f"{seen.href}: calsync wrote it (X-CALSYNC-ORG {seen.org}) and no series wants "
                f"it now, but there is no record of what was written, so an app's edit cannot "
                f"be ruled out; left in place (`calsync publish --force` removes it)")
            return None
        if seen.key == d.semantic:
            return self._adopt(d, seen, "server already has it (earlier run)")
        if seen.mine and seen.confidential and self.staff_readable:
            # an older layout's confidential copy where every staff member reads: replace it
            seq = sequence_of(seen.ics or b"") + 1
            body = with_sequence(d.ics, seq)
            why = "confidential copy of an older layout replaced"
            return Action("update", uid, seen.href, seen.etag, body, why, key=d.key, sequence=seq)
        if not keep_policy:  # no record of writing this version: someone may have edited it
            why = "on the server, but not a version calsync recorded writing"
            return _conflict(uid, "edited", seen, d, None, why)
        seq = sequence_of(seen.ics or b"") + 1
        body = with_sequence(d.ics, seq)
        return Action(
            "update", uid, seen.href, seen.etag, body, "kept policy", key=d.key, sequence=seq
        )

    def _create(self, d: Desired, reason: str, last_seq: int) -> Action:
        own = sequence_of(d.ics)
        # A first create keeps the generator's bytes; a re-create must outrank what was there.
        seq = own if last_seq < own else last_seq + 1
        body = d.ics if seq == own else with_sequence(d.ics, seq)
        return Action("create", d.uid, None, None, body, reason, key=d.key, sequence=seq)

    def _adopt(self, d: Desired, seen: _Seen, reason: str) -> Action:
        ics = seen.ics or b""
        seq = sequence_of(ics)
        return Action("adopt", d.uid, seen.href, seen.etag, ics, reason, key=d.key, sequence=seq)


def _conflict(
    uid: str, kind: str, seen: _Seen | None, d: Desired | None, s: Stored | None, why: str
) -> Action:
    href = seen.href if seen is not None else (s.href if s is not None else None)
    server, etag = (seen.ics, seen.etag) if seen is not None else (None, None)
    policy, seq = (d.ics if d else b""), (s.sequence if s else 0)
    return Action("conflict", uid, href, etag, None, why, kind, None, seq, server, policy)


def _settle_pending(s: Stored | None, seen: _Seen | None) -> tuple[Stored | None, bool]:
    """Turn a write-ahead row into what really happened; True if the store must be told."""
    if s is None or s.pending is None:
        return s, False
    landed = seen is not None and seen.key is not None and seen.key == _written_key(s)
    if s.pending == "create":
        if landed and seen is not None:
            return replace(s, pending=None, etag=seen.etag, href=seen.href), True
        return None, False
    if s.pending == "delete":  # (a landed delete, seen None, is handled by the caller)
        return (replace(s, pending=None, etag=s.prev_etag),
                seen is not None and seen.etag == s.prev_etag)
    # update
    if landed and seen is not None:
        return replace(s, pending=None, etag=seen.etag, href=seen.href), True
    if seen is not None and seen.etag == s.prev_etag:  # never landed: server has the old copy
        old = seen.ics or s.written_ics
        settled = replace(s, pending=None, etag=s.prev_etag, written_ics=old, key=policy_key(old))
        return settled, True
    return replace(s, pending=None, etag=s.prev_etag), False


def plan(
    collection: str,
    orgs: str | Iterable[str],
    desired: Mapping[str, Desired],
    stored: Mapping[str, Stored],
    listing: Mapping[str, ServerItem],
    open_conflicts: Iterable[str] = (),
    resolved_keep_policy: Iterable[str] = (),
    force: bool = False,
    restore_missing: bool = False,
    reclaim: bool = False,
    staff_readable: bool = True,
    domains: Iterable[str] | None = None,
) -> Plan:
    """Decide what to do in one collection; raises SafetyValveError unless ``force``.

    ``restore_missing`` (``publish --force``): a resource calsync wrote that is gone from
    the server is created again from the policy instead of opening a "deleted" conflict
    (open conflicts still wait for ``calsync resolve``). ``reclaim`` (``publish --force``):
    every leftover of ours goes, edited or not (see the module doc). ``staff_readable``: the
    organization's staff read this collection (the default: the safe assumption).
    ``domains``: the organizations' UID domains (calsync.occurrence.org_domains; their
    default ``<org>.calsync`` always counts)."""
    owners = frozenset([orgs] if isinstance(orgs, str) else orgs)
    doms = frozenset(domains) if domains is not None else frozenset()
    doms |= {default_domain(o) for o in owners}
    p = _Planner(owners, desired, stored, listing, restore_missing, doms, reclaim,
                 staff_readable)
    conflicts, keep = set(open_conflicts), set(resolved_keep_policy)
    p.read_listing(frozenset(conflicts - keep))
    uids = sorted(set(desired) | set(stored) | set(p.seen))
    actions: list[Action] = []
    creates: list[Action] = []
    for uid in uids:
        action = p.decide(uid, uid in conflicts, uid in keep)
        if action is None:
            continue
        (creates if action.kind == "create" else actions).append(action)
    freed = {a.href for a in actions if a.kind == "delete"}
    taken = (set(listing) - freed) | {a.href for a in actions if a.href}
    for a in creates:
        d = desired[a.uid]
        href = href_for(collection, d.name)
        if href in taken:
            href = alt_href(collection, d.name, d.uid)
        taken.add(href)
        actions.append(replace(a, href=href))
    actions.sort(key=lambda a: (KIND_ORDER.index(a.kind), a.uid))
    if not force:
        _safety_valve(collection, stored, p.seen, actions)
    stats = Counter(a.kind for a in actions) + p.stats
    return Plan(collection, tuple(actions), dict(sorted(stats.items())), tuple(p.warnings),
                frozenset(p.own), reclaim, staff_readable, doms)


def _safety_valve(
    collection: str, stored: Mapping[str, Stored], seen: Mapping[str, _Seen], actions: list[Action]
) -> None:
    present = [s for s in stored.values() if s.written_ics and s.pending is None]
    if present and not any(s.uid in seen for s in present):
        raise SafetyValveError(collection, len(present), len(present), 0)
    owned = {s.uid for s in present} | set(seen)
    # taking a confidential leftover away from readers it never had is never held back
    deletes = sum(1 for a in actions if a.kind == "delete" and a.reason != CONFIDENTIAL_LEFTOVER)
    if owned and deletes * 2 > len(owned):
        raise SafetyValveError(collection, len(owned), 0, deletes)


__all__ = [
    "CONFIDENTIAL_LEFTOVER", "KIND_ORDER", "UNLOADED", "UNREAD", "WRITE_KINDS", "Action",
    "Desired", "Plan", "ServerItem", "Stored", "href_for", "hrefs_to_fetch", "needs_body",
    "plan", "target_hrefs",
]
