"""What the planner decides is what the store keeps: a row known only from a HEAD is never saved."""

from __future__ import annotations

import pytest

from calsync.sync.plan import UNLOADED
from tests.properties.test_sync_plan import ORG, want, written


def test_a_head_only_row_is_never_saved(store) -> None:  # type: ignore[no-untyped-def]
    from calsync.sync.apply import SyncState

    state = SyncState(store, "http://x/cal/", ORG)
    s = written(want(1))
    state.save(s)
    heads = state.load(frozenset({ORG}), bodies=False)
    assert heads[s.uid].written_ics == UNLOADED
    with pytest.raises(AssertionError, match="not loaded"):
        state.save(heads[s.uid])
    state.with_bodies(heads, [s.uid])
    assert heads[s.uid].written_ics == s.written_ics
