"""Statistics of what was held (篇二 二.3 "以月和学期为单位，统计各股室所召开的会议次数"; 篇一 四.4
考核). Pure: occurrences (decisions, merges, requests and ad-hoc meetings applied) → per
holding section, per month and per period (semester, or calendar half-year), how many meetings
were scheduled, held, cancelled and still to come, with attendance rates where sign-in data
exists.

- **Held** = ended (``end <= now``) and not cancelled. A cancelled occurrence (a secretary's
  decision, the other half of a merge) is never held; a moved one counts where it was held.
- **Scheduled** = every meeting occurrence of the plan in that month, cancelled ones included,
  so ``scheduled == held + cancelled + upcoming`` in every cell.
- **Holding section** (calsync.meetings.holding) = the section that holds the meeting under the
  policy, not who asked for it: a per-section series (科务会) → that section; a requested
  category any section may ask for (基层业务工作会, ``requested_by`` empty or ``any_section``)
  → the requesting section; everything else (局党委会, 局务会, 周例会, 主任办公会 …, whoever filed
  it) → the organization's organizer section (办公室 / 秘书科: it convenes, notifies, records).
- **Periods**: the organization's semesters when its policy defines them, else calendar
  half-years (管理办: 上半年 1–6月, 下半年 7–12月).

Attendance comes from outside (issue 12 items 1–2) as a mapping keyed by
``(series UID, recurrence id ISO)`` of objects shaped like :class:`AttendanceLike`.
Rates add up the counts (attended = present + late, over invited), not the per-meeting rates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from calsync.meetings.holding import SectionRef, holder
from calsync.meetings.stats import months_between
from calsync.occurrence import TZ, Occurrence
from calsync.policy.model import Organization

AttendanceKey = tuple[str, str]   # (series UID, recurrence id = nominal start ISO)


class AttendanceLike(Protocol):
    """What the statistics read of one occurrence's attendance (calsync.meetings.attendance)."""

    @property
    def invited(self) -> int: ...
    @property
    def present(self) -> int: ...
    @property
    def late(self) -> int: ...
    @property
    def leave(self) -> int: ...
    @property
    def absent(self) -> int: ...


@dataclass(frozen=True)
class Period:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Cell:
    scheduled: int = 0
    held: int = 0
    cancelled: int = 0
    invited: int = 0        # over held meetings with attendance data
    attended: int = 0       # present + late
    leave: int = 0
    absent: int = 0
    with_attendance: int = 0

    @property
    def upcoming(self) -> int:
        return self.scheduled - self.held - self.cancelled

    @property
    def rate(self) -> float | None:
        """Attendance rate (attended / invited) over the held meetings that have sign-in data."""
        return self.attended / self.invited if self.invited else None

    def __add__(self, other: Cell) -> Cell:
        return Cell(*(a + b for a, b in zip(_fields(self), _fields(other), strict=True)))

    def to_json(self) -> dict[str, object]:
        return {"scheduled": self.scheduled, "held": self.held, "cancelled": self.cancelled,
                "upcoming": self.upcoming, "invited": self.invited, "attended": self.attended,
                "leave": self.leave, "absent": self.absent,
                "with_attendance": self.with_attendance,
                "attendance_rate": round(self.rate, 4) if self.rate is not None else None}


def _fields(c: Cell) -> tuple[int, ...]:
    return (c.scheduled, c.held, c.cancelled, c.invited, c.attended, c.leave, c.absent,
            c.with_attendance)


@dataclass(frozen=True)
class Counted:
    """One meeting occurrence as the statistics see it."""

    occ: Occurrence
    section: str
    held: bool
    cancelled: bool
    attendance: AttendanceLike | None = None

    @property
    def day(self) -> dt.date:
        return self.occ.start.astimezone(TZ).date()

    @property
    def month(self) -> str:
        return f"{self.day:%Y-%m}"

    def cell(self) -> Cell:
        a = self.attendance if self.held else None
        if a is None:
            return Cell(1, int(self.held), int(self.cancelled))
        return Cell(1, 1, 0, a.invited, a.present + a.late, a.leave, a.absent, 1)


@dataclass(frozen=True)
class Row:
    section_id: str
    section_name: str
    months: tuple[Cell, ...]     # aligned with HeldStats.months
    periods: tuple[Cell, ...]    # aligned with HeldStats.periods

    @property
    def total(self) -> Cell:
        return sum(self.months, Cell())


@dataclass(frozen=True)
class HeldStats:
    organization: str
    name: str
    section_word: str            # 股室 / 科室
    start: dt.date
    end: dt.date
    now: dt.datetime
    months: tuple[str, ...]      # YYYY-MM
    periods: tuple[Period, ...]
    period_kind: str             # semester | half-year
    rows: tuple[Row, ...]        # directory order; unknown sections (old requests) last
    meetings: tuple[Counted, ...]  # every counted occurrence inside [start, end], by time

    @property
    def month_totals(self) -> tuple[Cell, ...]:
        return tuple(sum((r.months[i] for r in self.rows), Cell())
                     for i in range(len(self.months)))

    @property
    def period_totals(self) -> tuple[Cell, ...]:
        return tuple(sum((r.periods[i] for r in self.rows), Cell())
                     for i in range(len(self.periods)))

    @property
    def total(self) -> Cell:
        return sum((r.total for r in self.rows), Cell())

    def row(self, section_id: str) -> Row:
        return next(r for r in self.rows if r.section_id == section_id)

    def section_name(self, section_id: str) -> str:
        return next((r.section_name for r in self.rows if r.section_id == section_id),
                    section_id)


def half_years(start: dt.date, end: dt.date) -> tuple[Period, ...]:
    out = []
    for year in range(start.year, end.year + 1):
        for name, a, b in (("上半年", dt.date(year, 1, 1), dt.date(year, 6, 30)),
                           ("下半年", dt.date(year, 7, 1), dt.date(year, 12, 31))):
            if a <= end and start <= b:
                out.append(Period(f"{year}年{name}", a, b))
    return tuple(out)


def periods_for(org: Organization, start: dt.date, end: dt.date) -> tuple[Period, ...]:
    """The semesters overlapping [start, end]; calendar half-years when the policy has none."""
    if not org.semesters:
        return half_years(start, end)
    return tuple(Period(s.name, s.start, s.end) for s in org.semesters
                 if s.start <= end and start <= s.end)


def window(org: Organization, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The dates to generate so that every period touching [start, end] is counted whole."""
    ps = periods_for(org, start, end)
    return (min([start, *(p.start for p in ps)]), max([end, *(p.end for p in ps)]))


def attendance_key(occ: Occurrence) -> AttendanceKey:
    # the sign-in store's key: the recurrence id in canonical ISO text
    return (occ.uid, occ.recurrence_key)


def counted(org: Organization, occurrences: Iterable[Occurrence], now: dt.datetime, *,
            requests: Iterable[SectionRef] = (), adhoc: Iterable[SectionRef] = (),
            attendance: Mapping[AttendanceKey, AttendanceLike] | None = None) -> list[Counted]:
    """Every meeting occurrence of ``org`` with its holding section and held/cancelled state."""
    section_of = holder(org, requests, adhoc)
    out = []
    for occ in occurrences:
        if occ.organization != org.id or occ.kind != "meeting":
            continue
        cancelled = occ.status == "CANCELLED"
        held = not cancelled and occ.end <= now
        att = attendance.get(attendance_key(occ)) if attendance and held else None
        out.append(Counted(occ, section_of(occ), held, cancelled, att))
    out.sort(key=lambda c: (c.occ.start, c.occ.uid))
    return out


def held_stats(org: Organization, occurrences: Iterable[Occurrence], now: dt.datetime, *,
               start: dt.date, end: dt.date, requests: Iterable[SectionRef] = (),
               adhoc: Iterable[SectionRef] = (),
               attendance: Mapping[AttendanceKey, AttendanceLike] | None = None) -> HeldStats:
    """Per holding section: every month of [start, end] and every period overlapping it
    (counted whole: pass occurrences for ``window(org, start, end)``)."""
    items = counted(org, occurrences, now, requests=requests, adhoc=adhoc,
                    attendance=attendance)
    months = months_between(start, end)
    periods = periods_for(org, start, end)
    col = {m: i for i, m in enumerate(months)}
    sections = list(org.sections) + sorted({c.section for c in items} - set(org.sections))
    per_month = {s: [Cell()] * len(months) for s in sections}
    per_period = {s: [Cell()] * len(periods) for s in sections}
    inside = []
    for c in items:
        cell = c.cell()
        if start <= c.day <= end:
            inside.append(c)
            i = col[c.month]
            per_month[c.section][i] = per_month[c.section][i] + cell
        for j, p in enumerate(periods):
            if p.start <= c.day <= p.end:
                per_period[c.section][j] = per_period[c.section][j] + cell
    rows = tuple(Row(s, org.sections[s].name if s in org.sections else s,
                     tuple(per_month[s]), tuple(per_period[s])) for s in sections)
    return HeldStats(org.id, org.short_name or org.name, org.words.section, start, end,
                     now.astimezone(TZ), tuple(months), periods,
                     "semester" if org.semesters else "half-year", rows, tuple(inside))
