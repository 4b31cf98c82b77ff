"""Secretaries' decisions on single occurrences, applied at every generation.

A decision names an occurrence by its series UID and nominal start (its RECURRENCE-ID), so a
regeneration or a policy edit never undoes it; one whose occurrence no longer exists is
reported as stale, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from calsync.meetings.describe import confirmed_note
from calsync.occurrence import Occurrence


@dataclass(frozen=True)
class Decision:
    series_uid: str
    recurrence_id: dt.datetime         # the occurrence's nominal start
    action: str                        # move | cancel | merge | confirm
    new_start: dt.datetime | None = None
    new_end: dt.datetime | None = None
    note: str = ""
    ref: str = ""                      # the store's id, for messages
    other: tuple[str, dt.datetime] | None = None  # merge: the occurrence merged into this one

    def describe(self) -> str:
        what = (f"{self.action} to {self.new_start:%Y-%m-%d %H:%M}"
                if self.action in ("move", "merge") and self.new_start else self.action)
        return f"{self.series_uid} {self.recurrence_id:%Y-%m-%d %H:%M}: {what}"


def apply(occurrences: list[Occurrence], decisions: dict[tuple[str, dt.datetime], Decision],
          used: set[tuple[str, dt.datetime]],
          before: dict[tuple[str, dt.datetime], Occurrence] | None = None) -> list[Occurrence]:
    """Return the occurrences with the decisions on them applied; record which were used.

    ``before`` receives each occurrence a merge or a cancel applies to as it was without the
    decision, so a merge refused later (calsync.meetings.adjust) can be undone, never
    half-applied."""
    out = []
    for occ in occurrences:
        key = (occ.uid, occ.nominal_start)
        decision = decisions.get(key)
        if decision is None:
            out.append(occ)
            continue
        used.add(key)
        if before is not None and decision.action in ("merge", "cancel"):
            before[key] = occ
        out.append(_apply_one(occ, decision))
    return out


def _apply_one(occ: Occurrence, d: Decision) -> Occurrence:
    note = f"（{d.note}）" if d.note else ""
    if d.action == "confirm":  # 篇一 五.1/六.1: the decision or approval is recorded
        if occ.status != "TENTATIVE":
            return occ
        kept = tuple(n for n in occ.notes if not n.startswith("待定："))
        # a date still waiting for the State Council's notice stays tentative (暂定)
        return replace(occ, status="TENTATIVE" if occ.provisional else "CONFIRMED",
                       notes=(*kept, confirmed_note(d.note)))
    if d.action == "cancel":
        return replace(occ, status="CANCELLED", notes=(*occ.notes, f"本次会议已取消。{note}"))
    start = d.new_start or occ.start
    end = d.new_end or start + (occ.end - occ.start)
    if d.action == "merge":  # summary, people and agenda follow in generate (both are needed)
        return replace(occ, start=start, end=end)
    moved = f"本次会议由{occ.nominal_start:%Y-%m-%d %H:%M}调整至{start:%Y-%m-%d %H:%M}。{note}"
    # A decision replaces any holiday move note: it says where the meeting really is.
    notes = (*tuple(n for n in occ.notes if not n.startswith("因节假日")), moved)
    return replace(occ, start=start, end=end, notes=notes)
