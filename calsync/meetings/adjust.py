"""Passes over one organization's generated series that need more than one occurrence at a
time: merges (the kept occurrence takes the other's people and agenda) and approved leave."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace

from calsync import access
from calsync.meetings.decisions import Decision
from calsync.meetings.leave import Leave, apply_leave
from calsync.meetings.merge import merged
from calsync.occurrence import Occurrence, Series
from calsync.policy.model import Organization

Key = tuple[str, dt.datetime]


def _index(series: list[Series]) -> dict[Key, Occurrence]:
    return {(o.uid, o.nominal_start): o for s in series for o in s.occurrences}


def apply_merges(series: list[Series], decisions: Mapping[Key, Decision],
                 org: Organization, before: Mapping[Key, Occurrence] | None = None,
                 warnings: list[str] | None = None) -> list[Series]:
    """Turn each kept occurrence of a stored merge into the merged meeting.

    The other occurrence is already cancelled by its own decision; its people and agenda
    are read from it as generated. A merge whose other occurrence is gone stays a plain
    move of the kept one (the page lists it for review).

    A merge that would show a confidential meeting to people who do not read it
    (calsync.access.may_merge; 篇二 四.5) is ignored whoever stored it: both occurrences stay
    as they were without it (``before``: as calsync.meetings.decisions.apply recorded them), and
    ``warnings`` says so without naming the meeting.
    """
    merges = {k: (d, d.other) for k, d in decisions.items() if d.action == "merge" and d.other}
    if not merges:
        return series
    found = _index(series)
    secretaries = access.secretaries_of(org)
    replaced: dict[Key, Occurrence] = {}
    for key, (d, other_key) in merges.items():
        keep = found.get(key)
        other = found.get(other_key)
        if keep is None or other is None:
            continue
        other = replace(other, status="CONFIRMED")
        if access.may_merge(keep, other, secretaries) is None:
            replaced[key] = merged(keep, other, org, keep.start, keep.end)
            continue
        if warnings is not None:
            warnings.append(f"merge ignored (it would show a confidential meeting to people "
                            f"it does not name; move one of them instead): {d.describe()}")
        old = before or {}
        if key in old:
            replaced[key] = old[key]
        ours = decisions.get(other_key)  # the merge's own cancel (same note), not a later one
        if (other_key in old and ours is not None and ours.action == "cancel"
                and ours.note == d.note):
            replaced[other_key] = old[other_key]
    if not replaced:
        return series
    return [replace(s, occurrences=tuple(replaced.get((o.uid, o.nominal_start), o)
                                         for o in s.occurrences)) for s in series]


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
