"""Meeting statistics (篇二 二.3): "办公室以月和学期为单位，统计各股室所召开的会议次数".

Pure: occurrences (after decisions, merges and requests are applied) + the approved meeting
requests → how many meetings each section held per month and per semester.

A meeting belongs to a section when its series is
- an approved meeting request of that section (UID ``request-<id>@…``, see
  ``calsync.meeting_requests.series_uid``), or
- a per-section series of the policy (``per_section = true``, e.g. 科务会): the series id
  generation gives it, ``<type>-<section>[-<schedule>][-<year>]``.

Attribution is by series identity, never by summary text: a summary ends with （股室名） only
until a merge renames it (“…、…（合并召开）”), while the series and UID survive moves and
merges. A merged meeting counts once, for the section whose meeting was kept (the other is
cancelled). Cancelled occurrences do not count; a moved one counts in the month it was held.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from calsync.meeting_requests import series_uid
from calsync.occurrence import TZ, Occurrence
from calsync.policy.model import Organization, Semester


class RequestRef(Protocol):  # the store's MeetingRequest record (approved ones)
    id: int
    organization: str
    section_id: str


@dataclass(frozen=True)
class Row:
    section_id: str
    section_name: str
    months: tuple[int, ...]        # aligned with Stats.months
    semesters: tuple[int, ...]     # aligned with Stats.semesters
    total: int                     # meetings in the months shown


@dataclass(frozen=True)
class Stats:
    organization: str
    name: str
    start: dt.date | None          # the months' range (None: the months that had meetings)
    end: dt.date | None
    months: tuple[str, ...]        # YYYY-MM
    semesters: tuple[Semester, ...]
    rows: tuple[Row, ...]          # directory order; unknown sections (old requests) last

    @property
    def month_totals(self) -> tuple[int, ...]:
        return tuple(sum(r.months[i] for r in self.rows) for i in range(len(self.months)))

    @property
    def semester_totals(self) -> tuple[int, ...]:
        return tuple(sum(r.semesters[i] for r in self.rows) for i in range(len(self.semesters)))

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        return {
            "organization": self.organization, "name": self.name,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "months": list(self.months),
            "semesters": [{"name": s.name, "start": s.start.isoformat(),
                           "end": s.end.isoformat()} for s in self.semesters],
            "sections": [{"id": r.section_id, "name": r.section_name,
                          "months": dict(zip(self.months, r.months, strict=True)),
                          "semesters": dict(zip((s.name for s in self.semesters), r.semesters,
                                                strict=True)),
                          "total": r.total} for r in self.rows],
            "totals": {"months": dict(zip(self.months, self.month_totals, strict=True)),
                       "semesters": dict(zip((s.name for s in self.semesters),
                                             self.semester_totals, strict=True)),
                       "total": self.total},
        }


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


def overlapping(org: Organization, start: dt.date, end: dt.date) -> tuple[Semester, ...]:
    return tuple(s for s in org.semesters if s.start <= end and start <= s.end)


def window(org: Organization, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The dates to generate so that every semester touching [start, end] is counted whole."""
    sems = overlapping(org, start, end)
    return (min([start, *(s.start for s in sems)]), max([end, *(s.end for s in sems)]))


def section_counts(org: Organization, occurrences: Iterable[Occurrence],
                   requests: Iterable[RequestRef], *, start: dt.date | None = None,
                   end: dt.date | None = None) -> Stats:
    """Meetings held per section, per month and per semester (dates in Asia/Shanghai).

    With ``start``/``end`` the months are every month of that range (empty ones included) and
    the semesters those overlapping it; a semester counts all the given occurrences inside
    it (inclusive dates), so pass occurrences for ``window(org, start, end)``. Without a
    range: the months that had a meeting and every semester of the organization.
    """
    by_uid = {series_uid(org, r.id): r.section_id for r in requests
              if getattr(r, "organization", org.id) == org.id
              and getattr(r, "status", "approved") == "approved"}
    by_series = section_series(org)
    held: list[tuple[str, dt.date]] = []
    for occ in occurrences:
        if occ.organization != org.id or occ.kind != "meeting" or occ.status == "CANCELLED":
            continue
        section = section_of(org, occ, by_series, by_uid)
        if section is not None:
            held.append((section, occ.start.astimezone(TZ).date()))
    if start is not None and end is not None:
        months = months_between(start, end)
        semesters = overlapping(org, start, end)
    else:
        months = sorted({f"{d:%Y-%m}" for _, d in held})
        semesters = org.semesters
    col = {m: i for i, m in enumerate(months)}
    sections = list(org.sections) + sorted({s for s, _ in held} - set(org.sections))
    per_month = {s: [0] * len(months) for s in sections}
    per_sem = {s: [0] * len(semesters) for s in sections}
    for section, day in held:
        i = col.get(f"{day:%Y-%m}")
        if i is not None and (start is None or start <= day) and (end is None or day <= end):
            per_month[section][i] += 1
        for j, sem in enumerate(semesters):
            if sem.start <= day <= sem.end:
                per_sem[section][j] += 1
    rows = tuple(Row(s, org.sections[s].name if s in org.sections else s,
                     tuple(per_month[s]), tuple(per_sem[s]), sum(per_month[s]))
                 for s in sections)
    return Stats(org.id, org.short_name or org.name, start, end, tuple(months),
                 tuple(semesters), rows)
