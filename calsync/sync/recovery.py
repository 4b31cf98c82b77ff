"""Choosing conflicts for a bulk ``calsync resolve`` (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# --kind on the command line → the store's conflict kinds
KIND_CHOICES: dict[str, frozenset[str]] = {
    "deleted-on-server": frozenset({"deleted"}),
    "edited-on-server": frozenset({"edited", "edited-and-changed"}),
    "deleted": frozenset({"deleted"}),
    "edited": frozenset({"edited"}),
    "edited-and-changed": frozenset({"edited-and-changed"}),
}


def series_matches(uid: str, wanted: Iterable[str]) -> bool:
    """``wanted`` holds whole UIDs or their part before ``@`` (the series id)."""
    local = uid.split("@", 1)[0]
    return any(w in (uid, local) for w in wanted)


def select_conflicts(conflicts: Sequence[Any], orgs: Iterable[str] | None = None,
                     series: Iterable[str] | None = None,
                     kinds: Iterable[str] | None = None) -> list[Any]:
    """The open conflicts matching every filter given (None or empty: no filter)."""
    org_set = set(orgs or ())
    series_list = list(series or ())
    kind_set: set[str] = set()
    for k in kinds or ():
        kind_set |= KIND_CHOICES[k]
    return [c for c in conflicts
            if (not org_set or c.organization in org_set)
            and (not series_list or series_matches(c.uid, series_list))
            and (not kind_set or c.kind in kind_set)]
