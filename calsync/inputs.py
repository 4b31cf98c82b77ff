"""What the store adds to the policies before generation: decisions (moves, cancellations,
merges), approved leave and approved meeting requests. Thin: reading rows into core types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from calsync.decisions import Decision
from calsync.leave import Leave
from calsync.meeting_requests import series_uid
from calsync.occurrence import TZ, Series
from calsync.policy import PolicySet
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


def newest_inputs(store: Store, policies: PolicySet, orgs: Iterable[str]
                  ) -> dict[str, dt.datetime]:
    """Series UID → the latest time a stored input of that series changed (decisions, leave
    approvals, request approvals). DTSTAMP comes from it, so a decision on one series leaves
    every other series' bytes (and SEQUENCE) alone. Never the clock."""
    out: dict[str, dt.datetime] = {}

    def bump(uid: str, at: dt.datetime | None) -> None:
        if at is not None and (uid not in out or at > out[uid]):
            out[uid] = at

    for org in orgs:
        for d in store.active_decisions(org):
            bump(d.series_uid, d.created_at)
        for n in store.leave_notes(org, status="approved"):
            for at in (n.chair_at, n.director_at):
                bump(n.series_uid, at)
        for r in store.meeting_requests(org, status="approved"):
            bump(series_uid(policies.organizations[org], r.id), r.decided_at)
    return out


def dtstamps(policies: PolicySet, newest: Mapping[str, dt.datetime],
             series: Iterable[Series]) -> dict[str, dt.datetime]:
    """Series UID → DTSTAMP: the policy's revision or the series' newest stored input."""
    out = {}
    for s in series:
        revised = policies.organizations[s.organization].revised
        at = newest.get(s.uid)
        out[s.uid] = max(revised, at) if at is not None else revised
    return out
