"""``publish`` and ``resolve``: the sync entry points the CLI and the web app call.

Per collection: one listing request (a sync-collection REPORT from the stored RFC 6578 token
when the server has them, see ``listing.py``; else a PROPFIND), one calendar-multiget for the
bodies the planner needs (none on a no-op run), a pure plan, then conditional writes recorded
one by one. Every collection run is recorded as a sync_run row per organization.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

from calsync.ical.resources import Resource
from calsync.sync.apply import Progress, SyncState, apply_plan, org_of_uid
from calsync.sync.client import CalDAVClient, Target, TransportError, norm_href
from calsync.sync.errors import ServerError, SyncError, UnknownConflict
from calsync.sync.listing import CollectionListing
from calsync.sync.normalize import (
    InstanceChange,
    diff_instances,
    policy_key,
    sequence_of,
)
from calsync.sync.plan import Desired, Plan, Stored, plan
from calsync.sync.reading import close_taken_back, keep_foreign, read_state
from calsync.sync.settled import count_kinds, settled_report
from calsync.sync.store_protocol import SyncStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectionSpec:
    """One calendar collection to publish into, and what belongs in it."""

    slug: str  # path segment under the calendar home
    display_name: str
    organizations: tuple[str, ...]
    resources: tuple[Resource, ...]
    url: str | None = None  # an explicit collection URL wins over home + slug
    # Who may read it (person ids); None: the organizations' staff. The server's rights are
    # set from this (calsync.caldav_server.process); calsync itself only writes.
    readers: frozenset[str] | None = None
    # A collection calsync no longer wants: emptied without tripping the safety valve.
    retire: bool = False
    # UID domains of the organizations besides ``<org>.calsync`` (a policy's uid_domain):
    # an object with our X-CALSYNC-ORG is calsync's only under one of these
    uid_domains: tuple[str, ...] = ()


def org_layout(
    resources: Iterable[Resource], display_names: Mapping[str, str] | None = None
) -> list[CollectionSpec]:
    """One collection per organization, named by its (Chinese) display name."""
    by_org: dict[str, list[Resource]] = {}
    for r in resources:
        by_org.setdefault(r.organization, []).append(r)
    names = display_names or {}
    return [
        CollectionSpec(org, names.get(org, org), (org,), tuple(rs))
        for org, rs in sorted(by_org.items())
    ]


def per_person_layout(
    routes: Mapping[str, Iterable[Resource]], display_names: Mapping[str, str] | None = None
) -> list[CollectionSpec]:
    """One collection per person; the caller routes resources (``routes[slug]``)."""
    names = display_names or {}
    out = []
    for slug, rs in sorted(routes.items()):
        res = tuple(rs)
        orgs = tuple(sorted({r.organization for r in res}))
        out.append(CollectionSpec(slug, names.get(slug, slug), orgs, res))
    return out


@dataclass
class CollectionResult:
    url: str
    counts: dict[str, int] = field(default_factory=dict)
    actions: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    requests: int = 0
    # what the plan asked for, when the run stopped before the end (counts: what landed)
    planned: dict[str, int] = field(default_factory=dict)
    # After a successful run: what the next run will report if nothing changes meanwhile
    # (``to_json`` of a pure no-op, without "requests"); None when it would do more than
    # look. ``calsync publish`` keeps it as its witness (calsync.cli.publish_witness).
    settled: dict[str, object] | None = field(default=None, repr=False)

    def partial(self) -> str:
        """"created 59 of 62, updated 3 of 3; 3 not written" for a run cut short; else ""."""
        return partial_text(self.planned, self.counts)

    def to_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "counts": self.counts,
            "planned": self.planned,
            "actions": self.actions,
            "warnings": self.warnings,
            "error": self.error,
            "requests": self.requests,
        }


def partial_text(planned: Mapping[str, int], counts: Mapping[str, int]) -> str:
    """What landed of what was planned (``CollectionResult.partial``; also from its JSON)."""
    if not planned:
        return ""
    parts, missing = [], 0
    for kind, want in planned.items():
        if kind in ("unchanged", "conflict"):
            continue
        got = counts.get(kind, 0)
        missing += max(want - got, 0)
        parts.append(f"{_PAST.get(kind, kind)} {got} of {want}")
    text = ", ".join(parts) or "nothing planned"
    return f"{text}; {missing} not written" if missing else text


_PAST = {"create": "created", "update": "updated", "delete": "deleted", "adopt": "adopted",
         "refresh": "refreshed", "forget": "forgot"}


@dataclass
class PublishResult:
    dry_run: bool
    collections: list[CollectionResult] = field(default_factory=list)
    errors: list[SyncError] = field(default_factory=list)
    specs: list[CollectionSpec] = field(default_factory=list)  # what was asked for

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.collections)

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for c in self.collections:
            for k, v in c.counts.items():
                total[k] = total.get(k, 0) + v
        return dict(sorted(total.items()))

    def to_json(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "counts": self.counts(),
            "collections": [c.to_json() for c in self.collections],
        }

    def raise_first_error(self) -> None:
        if self.errors:
            raise self.errors[0]


def _specs(
    collections: Sequence[CollectionSpec] | Mapping[str, Sequence[Resource]],
) -> list[CollectionSpec]:
    if isinstance(collections, Mapping):
        return per_person_layout(collections)
    return list(collections)


def publish(
    collections: Sequence[CollectionSpec] | Mapping[str, Sequence[Resource]],
    store: SyncStore,
    target: Target,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    client: CalDAVClient | None = None,
    stop: Callable[[], bool] | None = None,
    restore: bool = False,
    settle: bool = False,
) -> PublishResult:
    """Make every collection match its resources; see the module doc for the request budget.

    A failing collection (server down, safety valve, refusal) is reported in the result and
    the others still run; ``result.raise_first_error()`` turns it into an exception.
    ``force`` passes the safety valve; ``restore`` (``publish --force`` sets both) re-creates
    what calsync wrote and the server lost instead of opening conflicts, and takes back every
    leftover of calsync (objects it wrote that no series wants, app-edited ones too; see
    calsync.sync.plan). ``stop()`` true
    (a service shutting down) ends the run before the next resource, what landed recorded.
    ``settle`` fills each ``CollectionResult.settled`` (for ``calsync publish``'s witness;
    it costs a read of the stored rows per collection, which nobody else needs).
    """
    result = PublishResult(dry_run, specs=_specs(collections))
    own = client is None
    dav = client or CalDAVClient(target)
    try:
        for spec in result.specs:
            if stop is not None and stop():
                break
            home = dav.target.url  # credentials stripped: URLs end up in messages and rows
            url = spec.url or urljoin(home.rstrip("/") + "/", spec.slug.strip("/") + "/")
            res = CollectionResult(url)
            result.collections.append(res)
            before = dav.requests
            runs = _start_runs(store, spec)
            try:
                _publish_one(dav, store, spec, url, res, dry_run, force, progress, stop,
                             restore, settle)
            except (TransportError, SyncError) as exc:
                err = exc if isinstance(exc, SyncError) else ServerError(url, str(exc))
                res.error = str(err)
                result.errors.append(err)
            except BaseException as exc:  # a store failure, a bug, ^C: still close the runs
                with contextlib.suppress(Exception):  # the store may be what failed
                    _finish_runs(store, runs, res, dry_run, f"{type(exc).__name__}: {exc}")
                raise
            finally:
                res.requests = dav.requests - before
            _finish_runs(store, runs, res, dry_run)
    finally:
        if own:
            dav.close()
    return result


def _start_runs(store: SyncStore, spec: CollectionSpec) -> list[int]:
    orgs = spec.organizations or (spec.slug,)
    return [store.runs.start_run(org).id for org in orgs]


def _finish_runs(
    store: SyncStore, runs: list[int], res: CollectionResult, dry_run: bool, crash: str = ""
) -> None:
    """Close the collection's run rows; the message names the collection (a path, no creds)."""
    error = crash or res.error
    status = "failed" if error else ("dry-run" if dry_run else "ok")
    where = norm_href(res.url)
    message = f"{where}: {error}" if error else where
    finish = store.runs.finish_run
    for run_id in runs:
        finish(run_id, status, counts=res.counts, message=message)


def _publish_one(
    dav: CalDAVClient,
    store: SyncStore,
    spec: CollectionSpec,
    url: str,
    res: CollectionResult,
    dry_run: bool,
    force: bool,
    progress: Progress | None,
    stop: Callable[[], bool] | None = None,
    restore: bool = False,
    settle: bool = False,
) -> None:
    orgs = frozenset(spec.organizations)
    path = norm_href(url)
    state = SyncState(store, url, spec.organizations[0] if spec.organizations else "")
    desired = {r.uid: Desired.of(r.uid, r.name, r.ics) for r in spec.resources}
    reader = CollectionListing(dav, store, url)
    cache = store.busy.busy_heads(url)
    listing, stored, conflicts = read_state(dav, state, orgs, url, path, desired, reader, cache,
                                            reclaim=restore)
    # Plan before creating a missing collection: a vanished calendar trips the safety valve.
    the_plan: Plan = plan(path, orgs, desired, stored, listing or {}, conflicts, (),
                          force or spec.retire, restore_missing=restore, reclaim=restore,
                          staff_readable=spec.readers is None, domains=spec.uid_domains)
    if listing is None and spec.retire:  # already gone: nothing left to empty
        for uid in stored:
            state.forget(uid)
        return
    if listing is None and not dry_run:
        dav.mkcalendar(url, spec.display_name)
    res.warnings = list(the_plan.warnings)
    for w in the_plan.warnings:
        log.warning("%s: %s", url, w)
    actions = the_plan.actions
    if not dry_run:
        done: list = []
        try:
            apply_plan(dav, state, the_plan, orgs, desired, stored, progress, done, stop)
        except SyncError:  # report what landed before the failure (the rows are saved)
            res.planned = count_kinds(the_plan.actions)
            res.actions = [a.to_json() for a in done]
            res.counts = {k: v for k, v in count_kinds(done).items() if k != "unchanged"}
            raise
        actions = tuple(done)
        if the_plan.writes:  # fold our writes into the listing (their etags are in the store)
            reader.wrote(the_plan.actions, actions, state.load(orgs))
        confirmed = True
        if the_plan.writes or listing is None:  # the token before our writes is behind now
            confirmed = reader.confirm()
        reader.save()  # only now: a failed run keeps the old token and re-reads its changes
        close_taken_back(state, orgs, conflicts, actions)
        keep_foreign(dav, store, url, listing or {}, stored, the_plan, cache)
        if settle and confirmed and not spec.retire:
            res.settled = settled_report(state, path, orgs, desired, reader)
    res.actions = [a.to_json() for a in actions]
    counts = count_kinds(actions)
    for extra in ("foreign", "unreadable", "orphan"):
        if the_plan.stats.get(extra):
            counts[extra] = the_plan.stats[extra]
    res.counts = dict(sorted(counts.items()))


def read_watched(target: Target, url: str) -> list[bytes]:
    """The objects of a read-only watched calendar (never written): 1 PROPFIND + multiget."""
    with CalDAVClient(target) as dav:
        return dav.read_watched(url)


# -- resolve ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    conflict_id: int
    uid: str
    keep: str
    changes: tuple[InstanceChange, ...]  # what the app did, per occurrence (keep="server")


def resolve(store: SyncStore, conflict_id: int, keep: str, actor: str = "cli") -> Resolution:
    """Close a conflict. ``keep="policy"``: the next publish overwrites the server copy.

    ``keep="server"``: the server copy becomes what calsync considers published, so the
    next publish leaves it alone until the policy itself changes; ``changes`` lists the
    moved/cancelled occurrences so the caller can turn them into decisions.
    """
    c = store.conflicts.get_conflict(conflict_id)
    if c is None or c.resolved_at is not None:
        raise UnknownConflict(conflict_id, closed=c is not None)
    if keep not in ("policy", "server"):
        raise ValueError(f"keep must be 'policy' or 'server', not {keep!r}")
    row = store.sync_state.get_resource(c.collection_url, c.uid)
    state = SyncState(store, c.collection_url, c.organization)
    server = (c.server_ics or "").encode("utf-8")
    policy = (c.policy_ics or "").encode("utf-8")
    seq = max(row.sequence if row else 0, sequence_of(server) if server else 0)
    changes: tuple[InstanceChange, ...] = ()
    if row is not None and server:
        try:
            changes = tuple(diff_instances(row.written_ics.encode("utf-8"), server))
        except SyncError:
            changes = ()
    if keep == "policy":
        if not server:  # deleted in the app: forget it, the next publish creates it again
            state.forget(c.uid)
        else:  # treat the app's copy as ours, so the policy diff overwrites it (If-Match)
            key = policy_key(server)
            state.save(Stored(c.uid, c.href, c.server_etag, key, server, seq))
    elif not policy:  # edited in the app and dropped from policy: it becomes the user's
        state.forget(c.uid)
    else:
        pkey = policy_key(policy)
        state.save(Stored(c.uid, c.href if server else None, c.server_etag, pkey, server, seq))
    store.conflicts.resolve_conflict(conflict_id, keep, actor)
    log.info("conflict %s on %s resolved: keep %s", conflict_id, c.uid, keep)
    return Resolution(conflict_id, c.uid, keep, changes)


__all__ = [
    "CollectionResult",
    "CollectionSpec",
    "PublishResult",
    "Resolution",
    "Target",
    "org_layout",
    "org_of_uid",
    "per_person_layout",
    "publish",
    "read_watched",
    "resolve",
]
