"""The visibility rule itself: who a :class:`Viewer` is, and for one occurrence whether they see it
in full, as a 忙碌 block, or not at all; the busy blocks that stand in for what they may not see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from calsync.occurrence import (
    TZ,
    Occurrence,
    Series,
    local_part,
    uid_beside,
)

BUSY = "忙碌"
Visibility = Literal["full", "busy", "none"]
FULL: Visibility = "full"
BUSY_ONLY: Visibility = "busy"
NONE: Visibility = "none"
EXTERNAL = "external"   # a directory person outside the office (external = true): no login


@dataclass(frozen=True)
class Viewer:
    person_id: str
    organization: str
    role: str              # secretary | leader | staff (calsync.meetings.accounts.role_for)
    name: str = ""
    email: str = ""        # lowercased
    section: str | None = None


# Nobody in particular (the operator at a shell): public meetings in full, confidential ones
# as busy blocks, like any staff member who is not invited.
OPERATOR = Viewer("", "", "operator")


def names_viewer(viewer: Viewer, occ: Occurrence) -> bool:
    """Chair, attendee in any role/PARTSTAT, or substitute (DELEGATED-FROM) of ``occ``."""
    for a in occ.attendees:
        if viewer.person_id and a.person_id == viewer.person_id \
                and occ.organization == viewer.organization:
            return True
        if viewer.email and a.email.strip().lower() == viewer.email:
            return True
    return False


def invited(viewer: Viewer, occ: Occurrence) -> bool:
    if viewer.role == "secretary" and viewer.organization == occ.organization:
        return True
    return names_viewer(viewer, occ)


def visibility(viewer: Viewer, occ: Occurrence) -> Visibility:
    if invited(viewer, occ):
        return FULL
    if viewer.role == EXTERNAL:   # outside the office: what names them, nothing else
        return NONE
    if viewer.organization != occ.organization and viewer is not OPERATOR:
        return NONE
    return FULL if occ.klass != "CONFIDENTIAL" else BUSY_ONLY


def shows(viewer: Viewer, occ: Occurrence) -> bool:
    """May the viewer see more than 忙碌 and the time?"""
    return visibility(viewer, occ) == FULL


def busy_uid(occ: Occurrence) -> str:
    """The block's UID: its time, in the meeting's domain (the organization's)."""
    start, end = occ.start.astimezone(TZ), occ.end.astimezone(TZ)
    return uid_beside(occ.uid, f"busy-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}", occ.organization)


def busy_block(occ: Occurrence) -> Occurrence:
    """The "忙碌" block: the time, the status and the class, nothing that names the meeting
    (nor its chair: a duty leader's part would show in the published UID)."""
    uid = busy_uid(occ)
    return replace(occ, series=local_part(uid), uid=uid, nominal_start=occ.start,
                   meeting_types=(), summary=BUSY, description="", location="",
                   organizer=("", ""), attendees=(), clause="", provisional=False,
                   alarm_minutes=None, related_to=None, notes=(), audience=(), part="")


def busy_series(occs: Iterable[Occurrence]) -> list[Series]:
    """Single-event series of busy blocks; two confidential meetings at the same time are one
    block (the same UID: the viewer learns the time and nothing else)."""
    out: dict[str, Series] = {}
    for occ in occs:
        block = busy_block(occ)
        if block.uid not in out and block.status != "CANCELLED":
            out[block.uid] = Series(block.series, block.uid, block.organization, None,
                                    (block.start,), (block,))
    return [out[k] for k in sorted(out)]


def split_series(series: Series, keep: Iterable[Occurrence]) -> Series | None:
    """``series`` with only ``keep`` (others become EXDATEs when rendered); None if empty."""
    occs = tuple(keep)
    return replace(series, occurrences=occs) if occs else None


def for_viewer(viewer: Viewer, series: Iterable[Series]) -> list[Series]:
    """What the viewer may see of ``series``: full occurrences in their series, busy ones as
    separate busy blocks, the rest left out."""
    shown: list[Series] = []
    hidden: list[Occurrence] = []
    for s in series:
        full = []
        for occ in s.occurrences:
            v = visibility(viewer, occ)
            if v == FULL:
                full.append(occ)
            elif v == BUSY_ONLY:
                hidden.append(occ)
        kept = split_series(s, full)
        if kept is not None:
            shown.append(kept)
    return shown + busy_series(hidden)


def readers(occ: Occurrence, secretaries: Iterable[str]) -> frozenset[str]:
    """Person ids who see a confidential occurrence in full: the people it names and the
    secretaries of its organization."""
    return frozenset({a.person_id for a in occ.attendees if a.person_id} | set(secretaries))
