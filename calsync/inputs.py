"""What the store adds to the policies before generation: decisions (moves, cancellations,
merges), approved leave and approved meeting requests. Thin: reading rows into core types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from calsync.decisions import Decision
from calsync.leave import Leave
from calsync.occurrence import TZ
from calsync.store import Store


def when(text: str | None) -> dt.datetime | None:
    # Stored with an offset; the core renders Asia/Shanghai (TZID), never a bare "UTC+08:00".
    return dt.datetime.fromisoformat(text).astimezone(TZ) if text else None


def _ref(value: Any) -> tuple[str, dt.datetime] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        at = when(str(value[1]))
        return (str(value[0]), at) if at is not None else None
    return None


def stored_decisions(store: Store, orgs: Iterable[str]) -> list[Decision]:
    out = []
    for org in orgs:
        for d in store.active_decisions(org):
            payload = getattr(d, "payload", None) or {}
            rid = when(d.recurrence_id)
            assert rid is not None
            out.append(Decision(
                series_uid=d.series_uid, recurrence_id=rid,
                action=d.action, new_start=when(d.new_start), new_end=when(d.new_end),
                note=d.note, ref=str(d.id), other=_ref(payload.get("other"))))
    return out


def approved_leave(store: Store, orgs: Iterable[str]) -> list[Leave]:
    out = []
    for org in orgs:
        for n in store.leave_notes(org, status="approved"):
            rid = when(n.recurrence_id)
            assert rid is not None
            out.append(Leave(n.series_uid, rid, n.person_id, n.substitute_id))
    return out


def approved_requests(store: Store, orgs: Iterable[str]) -> list[Any]:
    return [r for org in orgs for r in store.meeting_requests(org, status="approved")]


def newest_input(store: Store, org: str) -> dt.datetime | None:
    """The latest time a stored input of ``org`` changed (for DTSTAMP; never the clock)."""
    stamps: list[dt.datetime] = [d.created_at for d in store.active_decisions(org)]
    for n in store.leave_notes(org, status="approved"):
        stamps.extend(x for x in (n.chair_at, n.director_at) if x is not None)
    for r in store.meeting_requests(org, status="approved"):
        if r.decided_at is not None:
            stamps.append(r.decided_at)
    return max(stamps, default=None)
