"""Attendees' answers (iTIP ``METHOD:REPLY``, pure): which attendee said what about which
series or occurrence. Recording them is the store's (store.notices.record_reply)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from icalendar import Calendar

from calsync.errors import UsageError
from calsync.occurrence import TZ

PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION")


@dataclass(frozen=True)
class Answer:
    uid: str
    attendee: str          # lowercased address
    partstat: str
    recurrence_id: str     # "" for the whole series
    sequence: int
    comment: str = ""


def parse_reply(data: bytes | str) -> list[Answer]:
    """The answers of a REPLY (one per VEVENT); UsageError for anything else."""
    try:
        cal = Calendar.from_ical(data)
    except ValueError as exc:
        raise UsageError(f"not an iCalendar object ({exc}); send the reply's text/calendar "
                         f"part") from None
    method = str(cal.get("METHOD", "")).upper()
    if method != "REPLY":
        raise UsageError(f"METHOD is {method or 'missing'}, not REPLY (send the attendee's "
                         f"answer, not an invitation)")
    out = []
    for ev in cal.walk("VEVENT"):
        attendees = ev.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        if len(attendees) != 1:
            raise UsageError("a REPLY names exactly one ATTENDEE (RFC 5546 3.2.3)")
        addr = attendees[0]
        partstat = str(addr.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
        if partstat not in PARTSTATS:
            raise UsageError(f"unknown PARTSTAT {partstat} (one of {', '.join(PARTSTATS)})")
        rid = ev.get("RECURRENCE-ID")
        out.append(Answer(
            uid=str(ev.get("UID", "")),
            attendee=str(addr).lower().removeprefix("mailto:").strip(),
            partstat=partstat,
            recurrence_id=rid.dt.astimezone(TZ).isoformat() if rid is not None else "",
            sequence=int(ev.get("SEQUENCE", 0)),
            comment=str(ev.get("COMMENT", "")),
        ))
    if not out:
        raise UsageError("the REPLY holds no VEVENT")
    return out


def still_invited(answer: Answer, state: Mapping[str, Any] | None) -> bool:
    """Does the attendee's last notice of the UID (its ``state``: the occurrences it invited
    them to) still invite them to what they answer — the series (anything left), or the one
    occurrence the answer names? A cancelled series or occurrence, or an occurrence that was
    never theirs, takes no answer."""
    if not state:
        return False
    return not answer.recurrence_id or answer.recurrence_id in state
