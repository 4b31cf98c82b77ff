"""Attendance (考勤) of one occurrence, pure: who was invited, who signed in, who was late,
who was on approved leave (with the substitute), who was absent without leave.

篇二 四.1–2: sign-in (签到) is taken at every meeting, and "会议考勤情况须及时向局长报告".
The counts obey ``present + late + leave + absent == invited`` by construction: every
invited person gets exactly one status. Substitutes who came in someone's place are not
invited themselves; they appear on the absentee's row (代会).

The statistics use :class:`Attendance` per occurrence (calsync.meetings.attendance_report
.attendance_by_occurrence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from calsync.occurrence import Attendee, Occurrence

PRESENT, LATE, LEAVE, ABSENT = "present", "late", "leave", "absent"
STATUS_LABELS = {PRESENT: "出席", LATE: "迟到", LEAVE: "请假", ABSENT: "缺席"}
# "code": the short code and a typed name, without a login — nobody vouched for who typed it,
# so the keeper's sheet and the reports say so (issue 20).
METHOD_LABELS = {"self": "本人签到", "code": "输入姓名（未核验）", "hand": "手工登记", "": ""}
TYPED_NAME = "code"


@dataclass(frozen=True)
class Attendance:
    """One occurrence's (or a sum of occurrences') counts."""

    invited: int
    present: int
    late: int
    leave: int
    absent: int

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def rate(self) -> float:
        """Share of the invited who came (on time or late); 0.0 when nobody was invited."""
        return self.attended / self.invited if self.invited else 0.0

    def __add__(self, other: Attendance) -> Attendance:
        return Attendance(self.invited + other.invited, self.present + other.present,
                          self.late + other.late, self.leave + other.leave,
                          self.absent + other.absent)


NONE = Attendance(0, 0, 0, 0, 0)


@dataclass(frozen=True)
class Window:
    """When sign-in is open for one occurrence and from when it counts as late."""

    opens: dt.datetime
    late_from: dt.datetime       # a sign-in at or after this instant is 迟到
    closes: dt.datetime

    def state(self, now: dt.datetime) -> str:
        """``early`` | ``open`` | ``closed``."""
        if now < self.opens:
            return "early"
        return "open" if now <= self.closes else "closed"

    def status_at(self, at: dt.datetime) -> str:
        return LATE if at > self.late_from else PRESENT


def window(occ: Occurrence, opens_before: int, late_after: int,
           closes_after_end: int) -> Window:
    """Opens ``opens_before`` minutes before the start, late after ``late_after`` minutes past
    the start, closes ``closes_after_end`` minutes after the end."""
    minutes = dt.timedelta(minutes=1)
    return Window(occ.start - opens_before * minutes, occ.start + late_after * minutes,
                  occ.end + closes_after_end * minutes)


@dataclass(frozen=True)
class MarkIn:
    """What the report needs of a stored mark (calsync.store.attendance.AttendanceMark)."""

    person_key: str
    status: str                  # present | late | absent
    method: str                  # self | code | hand
    signed_at: dt.datetime | None = None


@dataclass(frozen=True)
class LeaveIn:
    """An approved leave note (calsync.store.LeaveNote) without the reason."""

    person_id: str
    category: str
    substitute_id: str | None = None


@dataclass(frozen=True)
class Row:
    """One invited person's line of the report."""

    key: str
    name: str
    role: str                    # CHAIR | REQ-PARTICIPANT | … | NON-PARTICIPANT
    note: str
    status: str                  # present | late | leave | absent
    method: str = ""
    signed_at: dt.datetime | None = None
    leave_category: str = ""
    substitute: str = ""         # name of who came in their place
    substitute_signed: bool = False

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def person_key(a: Attendee) -> str:
    """How a mark names an attendee: the person id, else the mail address."""
    if a.person_id:
        return a.person_id
    return f"mailto:{a.email.strip().lower()}" if a.email else f"name:{a.name}"


def is_substitute_only(a: Attendee) -> bool:
    """An attendee added only because someone sent them (calsync.meetings.leave.apply_leave)."""
    return bool(a.delegated_from) and a.note.startswith("代") and a.note.endswith("参会")


def invited(occ: Occurrence) -> list[Attendee]:
    """The people the occurrence invites: chair, attendees, 列席 — not pure substitutes."""
    seen: set[str] = set()
    out = []
    for a in occ.attendees:
        k = person_key(a)
        if k in seen or is_substitute_only(a):
            continue
        seen.add(k)
        out.append(a)
    return out


def rows(occ: Occurrence, marks: Iterable[MarkIn], leaves: Iterable[LeaveIn],
         names: Mapping[str, str] | None = None) -> list[Row]:
    """Every invited person with exactly one status. A sign-in (or a hand mark present /
    late) wins over leave: they came after all. Otherwise approved leave — or a standing
    substitution (PARTSTAT DELEGATED/DECLINED from a series decision) — is 请假; the rest
    is 缺席."""
    by_key = {m.person_key: m for m in marks}
    leave_by = {lv.person_id: lv for lv in leaves}
    names = names or {}
    by_email = {a.email.strip().lower(): a for a in occ.attendees if a.email}
    out = []
    for a in invited(occ):
        k = person_key(a)
        m = by_key.get(k)
        lv = leave_by.get(a.person_id or "")
        row = partial(Row, key=k, name=a.name, role=a.role, note=a.note)
        if m is not None and m.status in (PRESENT, LATE):
            out.append(row(status=m.status, method=m.method, signed_at=m.signed_at))
            continue
        method = m.method if m is not None else ""
        sub_id = lv.substitute_id if lv is not None else None
        sub = next((by_email[e] for e in a.delegated_to if e in by_email), None)
        if lv is not None or a.partstat in ("DELEGATED", "DECLINED"):
            sub_name = names.get(sub_id or "", sub.name if sub else "") if sub_id or sub \
                else ""
            sub_key = sub_id or (person_key(sub) if sub else "")
            came = sub_key in by_key and by_key[sub_key].status in (PRESENT, LATE)
            out.append(row(status=LEAVE, method=method,
                           leave_category=lv.category if lv else "", substitute=sub_name,
                           substitute_signed=came))
            continue
        out.append(row(status=ABSENT, method=method))
    return out


def tally(report: Iterable[Row]) -> Attendance:
    counts = {PRESENT: 0, LATE: 0, LEAVE: 0, ABSENT: 0}
    n = 0
    for r in report:
        counts[r.status] += 1
        n += 1
    return Attendance(n, counts[PRESENT], counts[LATE], counts[LEAVE], counts[ABSENT])


def match_name(occ: Occurrence, name: str) -> list[Attendee]:
    """Attendees (substitutes included: they sign in too) whose name is ``name`` once
    spaces are ignored; more than one means the name does not tell who."""
    wanted = "".join(name.split())
    if not wanted:
        return []
    found: dict[str, Attendee] = {}
    for a in occ.attendees:
        if "".join(a.name.split()) == wanted:
            found.setdefault(person_key(a), a)
    return list(found.values())


def signable(occ: Occurrence) -> bool:
    """Only meetings that take place have a sign-in."""
    return occ.kind == "meeting" and occ.status != "CANCELLED"
