"""Which section a meeting series belongs to, by series identity (篇二 二.3, feeds).

A meeting belongs to a section when its series is
- an approved meeting request of that section (UID ``request-<id>@…``, see
  ``calsync.meetings.requests.series_uid``), or
- a per-section series of the policy (``per_section = true``, e.g. 科务会): the series id
  generation gives it, ``<type>-<section>[-<schedule>][-<year>]``.

Attribution is by series identity, never by summary text: a summary ends with （股室名） only
until a merge renames it (“…、…（合并召开）”), while the series and UID survive moves and
merges. The statistics of what was held (which section HOLDS a meeting, not who asked for it)
are in :mod:`calsync.meetings.held`.
"""

from __future__ import annotations

import datetime as dt

from calsync.occurrence import Occurrence
from calsync.policy.model import Organization


def section_series(org: Organization) -> dict[str, str]:
    """Per-section policy series id (without the ``-<year>`` of yearly ones) → section id.

    Mirrors ``generate._OrgBuilder._series_id``: type id, section id, and the schedule id when
    the type has more than one schedule, joined with "-".
    """
    out: dict[str, str] = {}
    for mt in org.meeting_types.values():
        if not mt.per_section:
            continue
        for section in org.sections.values():
            base = f"{mt.id}-{section.id}"
            if len(mt.schedules) > 1:
                for sched in mt.schedules:
                    out[f"{base}-{sched.id}"] = section.id
            else:
                out[base] = section.id
    return out


def section_of(org: Organization, occ: Occurrence, by_series: dict[str, str],
               by_uid: dict[str, str]) -> str | None:
    if occ.uid in by_uid:
        return by_uid[occ.uid]
    if occ.series in by_series:
        return by_series[occ.series]
    base, _, year = occ.series.rpartition("-")     # a yearly series: <sid>-<year>
    return by_series.get(base) if year.isdigit() else None


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
