"""Leave notes (请假) as the core sees them: who approves, and what approved leave publishes.

篇二 四.3: leave is asked beforehand from the chair; a unit head's (一把手) leave also needs the
director. 四.6: a substitute needs approval too, so only approved notes reach the calendar:
the absentee's ATTENDEE gets PARTSTAT=DECLINED, or DELEGATED + DELEGATED-TO with the
substitute added (DELEGATED-FROM). The reason never leaves the store; who reads it on the
page, and who files or decides leave, is calsync.access's (sees_leave_reason, may_file_leave,
leave_step).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from calsync.occurrence import Attendee, Occurrence
from calsync.policy.model import Organization

CATEGORIES = ("公出", "病假", "事假", "其他")
LATE_LABEL = "补假"  # entered after the meeting started


@dataclass(frozen=True)
class Leave:
    """An approved leave on one occurrence (the store's LeaveNote, without the reason)."""

    series_uid: str
    recurrence_id: dt.datetime
    person_id: str
    substitute_id: str | None = None


def approvers(org: Organization, occ: Occurrence, person_id: str) -> tuple[str | None, str | None]:
    """(chair step approver, director step approver or None when not needed).

    The chair approves; when the chair is the one asking (or there is none), the director
    does. A unit head's leave also needs the director, unless the director already approves
    as chair or is the one asking.
    """
    chair = occ.chair.person_id if occ.chair is not None else None
    first = chair if chair and chair != person_id else org.director
    if first == person_id:
        first = None  # the director chairing his own meeting: nobody above him in the policy
    person = org.people.get(person_id)
    director: str | None = None
    if person is not None and person.unit_head and org.director not in (None, person_id, first):
        director = org.director
    return first, director


def is_late(occ: Occurrence, entered_at: dt.datetime) -> bool:
    """篇二 四.3 asks for leave beforehand: a note entered after the start is 补假."""
    return entered_at >= occ.start


def due_people(occ: Occurrence) -> list[str]:
    """Person ids who may ask leave for this occurrence (internal attendees)."""
    return [a.person_id for a in occ.attendees if a.person_id]


def apply_leave(occ: Occurrence, leaves: Iterable[Leave], org: Organization) -> Occurrence:
    """The occurrence with every approved leave on it shown in the attendee list."""
    attendees = list(occ.attendees)
    changed = False
    for lv in leaves:
        idx = next((i for i, a in enumerate(attendees) if a.person_id == lv.person_id), None)
        if idx is None:
            continue  # no longer invited: nothing to show (the page still lists the note)
        absent = attendees[idx]
        sub = org.people.get(lv.substitute_id or "")
        if sub is None:
            attendees[idx] = replace(absent, partstat="DECLINED")
            changed = True
            continue
        attendees[idx] = replace(absent, partstat="DELEGATED", delegated_to=(sub.email,))
        there = next((i for i, a in enumerate(attendees) if a.person_id == sub.id), None)
        if there is not None:
            cur = attendees[there]
            attendees[there] = replace(cur, delegated_from=(*cur.delegated_from, absent.email))
        else:
            role = "REQ-PARTICIPANT" if absent.role == "CHAIR" else absent.role
            attendees.append(Attendee(sub.name, sub.email, role, "NEEDS-ACTION", sub.id,
                                      f"代{absent.name}参会", delegated_from=(absent.email,)))
        changed = True
    return replace(occ, attendees=tuple(attendees)) if changed else occ
