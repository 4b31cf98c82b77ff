"""Decisions on a whole series, applied at every generation before per-occurrence ones.

``offset``: every occurrence from ``since`` on starts ``offset_minutes`` later (or earlier),
e.g. one section's 科务会 staggered after the other's so their common 分管领导 can attend
both. ``delegate``: the person sends the substitute (DELEGATED) or, with none, does not attend
(DECLINED), e.g. a supervisor who goes to the other section's meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calsync.meetings.leave import Leave, apply_leave
from calsync.occurrence import Occurrence, join_uid, split_uid
from calsync.policy.model import Organization


@dataclass(frozen=True)
class SeriesDecision:
    series_uid: str                  # a series UID, or a group's (covers all its schedules)
    action: str                      # offset | delegate
    since: dt.date
    offset_minutes: int = 0
    person_id: str | None = None
    substitute_id: str | None = None
    note: str = ""


def covers(target: str, uid: str) -> bool:
    """Does a decision on ``target`` apply to series ``uid``? A group target such as
    ``kewuhui-ducha@…`` covers every schedule of it (``kewuhui-ducha-mon``, ``-fri``)."""
    if target == uid:
        return True
    (base, domain), (name, other) = split_uid(target), split_uid(uid)
    return domain == other and name.startswith(base + "-")


def group_uid(org: Organization, occ: Occurrence) -> str:
    """The UID a series decision on ``occ``'s series names: without the schedule suffix
    when its meeting type has several schedules (one decision for Monday and Friday)."""
    name, domain = split_uid(occ.uid)
    mt = org.meeting_types.get(occ.meeting_types[0]) if occ.meeting_types else None
    for sched in mt.schedules if mt is not None and len(mt.schedules) > 1 else ():
        if name.endswith("-" + sched.id):
            return join_uid(name[:-len(sched.id) - 1], domain)
    return occ.uid


def offset_note(d: SeriesDecision) -> str:
    later = "推迟" if d.offset_minutes > 0 else "提前"
    why = f"（{d.note}）" if d.note else ""
    return f"本系列自{d.since:%Y-%m-%d}起每次{later}{abs(d.offset_minutes)}分钟召开{why}。"


def apply(occs: list[Occurrence], decisions: Iterable[SeriesDecision],
          org: Organization) -> list[Occurrence]:
    """The occurrences of one series with its series decisions applied."""
    mine = list(decisions)
    if not mine:
        return occs
    out = []
    for occ in occs:
        for d in mine:
            if occ.nominal_start.date() < d.since:
                continue
            if d.action == "offset":
                delta = dt.timedelta(minutes=d.offset_minutes)
                occ = replace(occ, start=occ.start + delta, end=occ.end + delta,
                              notes=(*occ.notes, offset_note(d)))
            elif d.action == "delegate" and d.person_id:
                occ = apply_leave(occ, [Leave(occ.uid, occ.nominal_start, d.person_id,
                                              d.substitute_id)], org)
        out.append(occ)
    return out
