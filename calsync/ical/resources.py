"""What generation hands to the edges: one iCalendar resource per series."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """One calendar object resource (one series, or one standalone event).

    ``ics`` is a complete VCALENDAR (VTIMEZONE + master VEVENT + RECURRENCE-ID overrides),
    deterministic for the same inputs. ``name`` is the ASCII file stem (``zhoulihui`` →
    ``zhoulihui.ics``); ``uid`` is stable across runs, derived from policy ids.
    ``attendee_emails`` lets the per-person layout route a resource without parsing it.
    """

    organization: str
    name: str
    uid: str
    ics: bytes
    attendee_emails: tuple[str, ...] = ()
