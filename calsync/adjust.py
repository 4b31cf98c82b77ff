"""Passes over one organization's generated series that need more than one occurrence at a
time: merges (the kept occurrence takes the other's people and agenda) and approved leave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace

from calsync.decisions import Decision
from calsync.leave import Leave, apply_leave
from calsync.merge import merged
from calsync.occurrence import Occurrence, Series
from calsync.policy.model import Organization

Key = tuple[str, dt.datetime]


def _index(series: list[Series]) -> dict[Key, Occurrence]:
    return {(o.uid, o.nominal_start): o for s in series for o in s.occurrences}


def apply_merges(series: list[Series], decisions: Mapping[Key, Decision],
                 org: Organization) -> list[Series]:
    """Turn each kept occurrence of a stored merge into the merged meeting.

    The other occurrence is already cancelled by its own decision; its people and agenda
    are read from it as generated. A merge whose other occurrence is gone stays a plain
    move of the kept one (the page lists it for review).
    """
    merges = {k: d for k, d in decisions.items() if d.action == "merge" and d.other}
    if not merges:
        return series
    found = _index(series)
    out = []
    for s in series:
        occs = []
        for o in s.occurrences:
            d = merges.get((o.uid, o.nominal_start))
            other = found.get(d.other) if d is not None and d.other else None
            if d is not None and other is not None:
                o = merged(o, replace(other, status="CONFIRMED"), org, o.start, o.end)
            occs.append(o)
        out.append(replace(s, occurrences=tuple(occs)))
    return out


def apply_leave_notes(series: list[Series], leave: Iterable[Leave],
                      org: Organization) -> list[Series]:
    by_occ: dict[Key, list[Leave]] = {}
    for lv in leave:
        by_occ.setdefault((lv.series_uid, lv.recurrence_id), []).append(lv)
    if not by_occ:
        return series
    out = []
    for s in series:
        occs = tuple(apply_leave(o, by_occ.get((o.uid, o.nominal_start), ()), org)
                     for o in s.occurrences)
        out.append(replace(s, occurrences=occs))
    return out
