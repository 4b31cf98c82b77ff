"""What the next run of a collection will report if nothing changes (pure, from stored state).

``calsync publish`` keeps it as its witness (calsync.cli.publish_witness), so a no-op can be
answered without loading the engine; the report must then be exactly the one a full no-op
run prints, which is why it is the planner's own output on the state this run reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from calsync.sync.apply import SyncState
from calsync.sync.errors import SyncError
from calsync.sync.listing import CollectionListing
from calsync.sync.plan import Action, Desired, ServerItem, needs_body, plan


def count_kinds(actions: Iterable[Action]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    return dict(sorted(counts.items()))


def settled_report(state: SyncState, path: str, orgs: frozenset[str],
                   desired: Mapping[str, Desired],
                   reader: CollectionListing) -> dict[str, object] | None:
    """The next run's report if nothing changes: the pure planner on the state this run
    reached. Only a collection that holds exactly our rows (no foreign member, no open
    conflict, a saved token) and whose next plan is all "unchanged" counts as settled."""
    if reader.token is None:
        return None
    stored = state.load(orgs, bodies=False)
    if state.open_conflicts(orgs) or set(reader.listing) != {s.href for s in stored.values()}:
        return None
    listing = {h: ServerItem(h, e) for h, e in reader.listing.items()}
    state.with_bodies(stored, [s.uid for s in stored.values()
                               if needs_body(s, listing, desired, set())])
    try:
        again = plan(path, orgs, desired, stored, listing)
    except SyncError:
        return None
    if again.warnings or any(a.kind != "unchanged" for a in again.actions) or any(
            again.stats.get(k) for k in ("foreign", "unreadable", "orphan")):
        return None
    return {"url": reader.url, "counts": count_kinds(again.actions), "planned": {},
            "actions": [a.to_json() for a in again.actions], "warnings": [], "error": None}
