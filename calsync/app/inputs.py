"""What the store adds to the policies before generation: decisions (moves, cancellations,
merges), approved leave and approved meeting requests, read into the meetings layer's one
bundle (calsync.meetings.inputs.Inputs). Thin: reading rows into core types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calsync.meetings.adhoc import series_uid as adhoc_uid
from calsync.meetings.decisions import Decision
from calsync.meetings.inputs import NO_INPUTS, Inputs
from calsync.meetings.leave import Leave
from calsync.meetings.requests import series_uid
from calsync.meetings.series_decisions import SeriesDecision
from calsync.occurrence import TZ, Series
from calsync.policy import PolicySet
from calsync.store import Decision as StoredDecision
from calsync.store import Store


def _ref(value: Any) -> tuple[str, dt.datetime] | None:
    """A merge's partner as its payload keeps it: [series uid, recurrence id ISO text]."""
    if isinstance(value, list | tuple) and len(value) == 2 and value[1]:
        # the core renders Asia/Shanghai (TZID), never a bare "UTC+08:00"
        return str(value[0]), dt.datetime.fromisoformat(str(value[1])).astimezone(TZ)
    return None


@dataclass(frozen=True)
class StoredInputs:
    """Everything the store adds to one generation, read once (one query per table and
    organization): the decisions, approved leave and approved requests generation applies
    (``inputs``), and per series UID the latest time one of its inputs changed (``newest``:
    DTSTAMP comes from it, so a decision on one series leaves every other series' bytes, and
    SEQUENCE, alone; never the clock)."""

    inputs: Inputs = NO_INPUTS
    newest: Mapping[str, dt.datetime] = field(default_factory=dict)


def read_inputs(store: Store | None, policies: PolicySet, orgs: Iterable[str]) -> StoredInputs:
    if store is None:
        return StoredInputs()
    decisions: list[Decision] = []
    leave: list[Leave] = []
    requests: list[Any] = []
    series: list[SeriesDecision] = []
    newest: dict[str, dt.datetime] = {}
    adhoc: list[Any] = []
    sitting_in: list[Any] = []
    agendas: dict[tuple[str, dt.datetime], str] = {}

    def bump(uid: str, at: dt.datetime | None) -> None:
        if at is not None and (uid not in newest or at > newest[uid]):
            newest[uid] = at

    for org in orgs:
        for d in store.decisions.active_decisions(org):
            decisions.append(_decision(d))
            bump(d.series_uid, d.created_at)
        for sd in store.series_decisions.active_series_decisions(org):
            series.append(SeriesDecision(sd.series_uid, sd.action,
                                         dt.date.fromisoformat(sd.since), sd.offset_minutes,
                                         sd.person_id, sd.substitute_id, sd.note))
            bump(sd.series_uid, sd.created_at)
        for n in store.leave.leave_notes(org, status="approved"):
            leave.append(Leave(n.series_uid, n.recurrence_id, n.person_id, n.substitute_id))
            for at in (n.chair_at, n.director_at):
                bump(n.series_uid, at)
        for r in store.requests.meeting_requests(org, status="approved"):
            requests.append(r)
            bump(series_uid(policies.organizations[org], r.id), r.decided_at)
        for a in store.adhoc.adhoc_meetings(org):
            adhoc.append(a)
            bump(adhoc_uid(policies.organizations[org], a.id), a.updated_at)
        for si in store.adhoc.sitting_in(org):
            sitting_in.append(si)
            bump(si.series_uid, si.created_at)
        for ag in store.agenda.approved_agendas(org):  # 篇一 二.4 / 三.4: the approved agenda
            agendas[(ag.series_uid, ag.recurrence_id)] = ag.text
            bump(ag.series_uid, ag.approved_at)
    return StoredInputs(Inputs(tuple(decisions), tuple(requests), tuple(leave), tuple(series),
                               tuple(adhoc), tuple(sitting_in), agendas), newest)


def _decision(d: StoredDecision) -> Decision:
    payload = d.payload or {}
    return Decision(
        series_uid=d.series_uid, recurrence_id=d.recurrence_id, action=d.action,
        new_start=d.new_start, new_end=d.new_end, note=d.note, ref=str(d.id),
        other=_ref(payload.get("other")))


def dtstamps(policies: PolicySet, newest: Mapping[str, dt.datetime],
             series: Iterable[Series]) -> dict[str, dt.datetime]:
    """Series UID → DTSTAMP: the policy's revision or the series' newest stored input."""
    out = {}
    for s in series:
        revised = policies.organizations[s.organization].revised
        at = newest.get(s.uid)
        out[s.uid] = max(revised, at) if at is not None else revised
    return out
