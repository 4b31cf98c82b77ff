"""Orchestration: policies + stored decisions → resources → CalDAV, and conflict resolution.

The pure core (generate, render, plan) never sees the database or the network; this module is
the thin shell the CLI, the web page and the scheduler share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from calsync.app.inputs import StoredInputs, dtstamps, read_inputs
from calsync.app.tasks_publish import (
    adopt_client_status,  # a decision's VTODO
    publish_tasks,  # decisions as VTODOs 议定事项
)
from calsync.ical.render import render_resources
from calsync.ical.resources import Resource
from calsync.meetings.clashes import busy_from_ics, find_clashes
from calsync.meetings.generate import Generation, generate
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet
from calsync.store import Store
from calsync.sync.apply import Progress
from calsync.sync.client import Target
from calsync.sync.layouts import collections as layout_collections
from calsync.sync.layouts import renderer, retired
from calsync.sync.publish import (
    CollectionSpec,
    PublishResult,
    Resolution,
    publish,
    read_watched,
    resolve,
)


@dataclass(frozen=True)
class Built:
    generation: Generation
    resources: tuple[Resource, ...]
    stamps: dict[str, dt.datetime]   # series UID → DTSTAMP


def build(policies: PolicySet, store: Store | None, start: dt.date, end: dt.date,
          orgs: list[str]) -> Built:
    """Generate with the stored inputs applied (decisions, approved leave and meeting
    requests), and render one resource per series (or per part of one)."""
    inputs = read_inputs(store, policies, orgs)
    gen = _generate(policies, inputs, start, end, orgs)
    stamps = dtstamps(policies, inputs.newest, gen.series)
    resources = tuple(r for s in gen.series for r in render_resources(s, stamps[s.uid]))
    return Built(gen, resources, stamps)


def generation(policies: PolicySet, store: Store | None, start: dt.date, end: dt.date,
               orgs: list[str]) -> Generation:
    """The occurrences with the stored inputs applied, without rendering iCalendar (pages,
    clash checks and statistics need no bytes)."""
    return _generate(policies, read_inputs(store, policies, orgs), start, end, orgs)


def _generate(policies: PolicySet, inputs: StoredInputs, start: dt.date, end: dt.date,
              orgs: list[str]) -> Generation:
    return generate(policies, start, end, orgs, inputs.inputs)


def policy_clashes(policies: PolicySet, occs: Iterable[Occurrence],
                   busy: Iterable[Any] = ()) -> list[Any]:
    """find_clashes with the policies' merge shares; the same-audience rule (篇二 二.3) looks
    at meetings held on demand (requests), not at the policies' fixed arrangement."""

    orgs = policies.organizations
    shares = {o: org.requests.merge_share for o, org in orgs.items()}

    def on_demand(occ: Occurrence) -> bool:
        types = orgs[occ.organization].meeting_types
        return any(t in types and types[t].on_demand for t in occ.meeting_types)

    return find_clashes(occs, busy, calendar=policies.calendar, merge_share=shares,
                        mergeable=on_demand)


def refresh_watched(store: Store, target: Target, urls: Iterable[str]) -> dict[str, int]:
    """Read each watched calendar whole (never written) and keep its events for clash
    checks; returns url -> number of objects."""

    counts = {}
    for url in urls:
        objects = read_watched(target, url)
        store.busy.update_busy(url, {str(i): (None, o.decode("utf-8", "replace"))
                                     for i, o in enumerate(objects)}, replace_all=True)
        counts[url] = len(objects)
    return counts


def stored_busy(store: Store | None, start: dt.date, end: dt.date) -> list[Any]:
    """The kept foreign and watched events, expanded over [start, end] (unreadable objects
    are skipped: they came from someone else's calendar)."""

    if store is None:
        return []
    by_source: dict[str, list[bytes]] = {}
    for (source, _href), (_etag, ics) in sorted(store.busy.busy_objects().items()):
        by_source.setdefault(source, []).append(ics.encode("utf-8"))
    out = []
    for source, objects in by_source.items():
        out.extend(busy_from_ics(objects, start, end, source))
    return out


def clash_view(policies: PolicySet, store: Store | None, start: dt.date, end: dt.date,
               orgs: list[str], busy: Iterable[Any] | None = None
               ) -> tuple[list[Any], list[Occurrence]]:
    """Clashes still to decide (a "keep" hides one while its inputs are unchanged), and the
    occurrences they were found in (decisions, leave and requests applied). ``busy``
    defaults to the foreign and watched events the last publish kept."""
    occs = generation(policies, store, start, end, orgs).occurrences()
    if busy is None:
        busy = stored_busy(store, start, end)
    found = policy_clashes(policies, occs, busy)
    acks = store.acks.clash_acks() if store is not None else {}
    return [c for c in found if acks.get(c.id) != c.fingerprint], occs


def collections(policies: PolicySet, built: Built, orgs: list[str],
                layout: str) -> list[CollectionSpec]:
    """The collections to publish and who reads each (calsync.sync.layouts)."""

    render = renderer(built.generation.series, built.resources, built.stamps)
    return layout_collections(policies, built.generation.series, orgs, layout, render)


def publish_orgs(policies: PolicySet, store: Store, target: Target, orgs: list[str],
                 start: dt.date, end: dt.date, layout: str = "org", dry_run: bool = False,
                 force: bool = False, progress: Progress | None = None,
                 stop: Callable[[], bool] | None = None, restore: bool | None = None,
                 settle: bool = False) -> tuple[Built, PublishResult]:
    """Build and publish; ``force`` (the CLI's ``--force``) passes the safety valve and, unless
    ``restore`` says otherwise, re-creates what the server lost; ``settle``: see
    calsync.sync.publish.publish."""

    built = build(policies, store, start, end, orgs)
    specs = collections(policies, built, orgs, layout)
    specs += retired(specs, store.sync_state.collection_urls(), target.url)
    result = publish(specs, store, target, dry_run=dry_run, force=force, progress=progress,
                     stop=stop, restore=force if restore is None else restore, settle=settle)

    publish_tasks(policies, store, target, orgs, built.generation.occurrences(), result,
                  dry_run=dry_run, force=force, progress=progress, stop=stop,
                  restore=force if restore is None else restore, settle=settle)
    return built, result


def resolve_and_record(policies: PolicySet, store: Store, conflict_id: int, keep: str,
                       actor: str, start: dt.date, end: dt.date) -> tuple[Resolution, int]:
    """Close a conflict; with ``keep="server"`` adopt the app's changes as decisions.

    A moved occurrence becomes a recorded move, a deleted or cancelled one a recorded
    cancellation; a series deleted as a whole cancels each of its occurrences in the
    horizon. Returns the resolution and how many decisions were recorded.
    """
    conflict = store.conflicts.get_conflict(conflict_id)
    resolution = resolve(store, conflict_id, keep, actor)
    if keep != "server" or conflict is None:
        return resolution, 0
    org = conflict.organization
    recorded = 0

    if conflict.server_ics and adopt_client_status(store, conflict.uid, conflict.server_ics,
                                                   actor):
        return resolution, 1
    # The conflict names the resource's UID: the series', or one of its parts' (a duty
    # leader's weeks); decisions are keyed by the series.
    occs = [o for o in generation(policies, store, start, end, [org]).occurrences()
            if o.published_uid == conflict.uid]
    series_uid = occs[0].uid if occs else conflict.uid
    if conflict.kind == "deleted" or not conflict.server_ics:
        for occ in occs:
            if occ.status != "CANCELLED":
                store.decisions.add_decision(org, occ.uid, occ.nominal_start, "cancel",
                                             actor=actor, source="calendar-app",
                                             note="日历应用中已删除")
                recorded += 1
        return resolution, recorded
    for change in resolution.changes:
        rid = _aware(dt.datetime.fromisoformat(change.recurrence_id))
        if change.kind == "moved" and change.new_start is not None:
            new_start = _aware(dt.datetime.fromisoformat(change.new_start))
            store.decisions.add_decision(org, series_uid, rid, "move", actor=actor,
                                         source="calendar-app", new_start=new_start,
                                         note="在日历应用中调整")
            recorded += 1
        elif change.kind == "cancelled":
            store.decisions.add_decision(org, series_uid, rid, "cancel", actor=actor,
                                         source="calendar-app", note="日历应用中已取消")
            recorded += 1
    return resolution, recorded


def _aware(value: dt.datetime) -> dt.datetime:
    # A floating time is Asia/Shanghai wall time (apps may also send RECURRENCE-IDs in UTC:
    # the store keys an instant alike at any offset).
    return value.replace(tzinfo=TZ) if value.tzinfo is None else value
