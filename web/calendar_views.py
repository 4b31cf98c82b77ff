"""What the week grid, the month and the phone's day list show: each occurrence as the one
visibility rule (calsync.access) lets the viewer see it, with its marks, placed on its day.

- full: the occurrence itself, its marks (已取消, 待定, 暂定, 已调整) and a link to its page;
- busy: :func:`calsync.access.busy_block` — 忙碌 and the time, nothing else (no marks, no link,
  no anchor: a focus link must not tell which busy block is which meeting); a cancelled
  confidential meeting is not busy, and two confidential meetings at the same time are one
  block, as in the feeds;
- none (another organization's): left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from calsync import access
from calsync.calendar.workdays import WorkCalendar
from calsync.meetings.links import anchor
from calsync.occurrence import TZ, Occurrence

from .calendar_layout import Placed, Span, columns, span


@dataclass(frozen=True)
class Mark:
    label: str
    css: str
    title: str


CANCELLED = Mark("已取消", "cancelled", "本次会议已取消")
TENTATIVE = Mark("待定", "pending tentative", "待定：须经决定或批准后召开")
PROVISIONAL = Mark("暂定", "pending provisional", "日期待国务院放假通知确定")
LEGEND = (PROVISIONAL, TENTATIVE, CANCELLED,
          Mark("已调整", "moved", "时间已调整（与制度规定的时间不同）"))


def marks(occ: Occurrence) -> tuple[Mark, ...]:
    out = []
    if occ.status == "CANCELLED":
        out.append(CANCELLED)
    if occ.status == "TENTATIVE":
        out.append(TENTATIVE)
    if occ.provisional:
        out.append(PROVISIONAL)
    if occ.moved:
        start = occ.nominal_start.astimezone(TZ)
        out.append(Mark("已调整", "moved", f"原定 {start:%m月%d日 %H:%M}"))
    return tuple(out)


@dataclass(frozen=True)
class Entry:
    occ: Occurrence          # the occurrence, or its busy block when not ``shown``
    shown: bool
    marks: tuple[Mark, ...] = ()
    anchor: str | None = None
    focus: bool = False

    @property
    def rid(self) -> str:
        return self.occ.nominal_start.isoformat()

    @property
    def day(self) -> dt.date:
        return self.occ.start.astimezone(TZ).date()

    @property
    def on_top(self) -> bool:
        """Drawn in the top row (deadlines, all-day or longer), not in the time grid."""
        return self.occ.kind == "deadline" or self.occ.end - self.occ.start >= dt.timedelta(
            days=1)

    @property
    def css(self) -> str:
        classes = [m.css.split()[-1] for m in self.marks]
        if not self.shown:
            classes.append("busy-block")
        if self.occ.kind == "deadline":
            classes.append("deadline")
        if self.focus:
            classes.append("focus")
        return " ".join(classes)


def entries(viewer: access.Viewer, occs: Iterable[Occurrence],
            focus: str | None = None) -> list[Entry]:
    """The viewer's entries, by start time."""
    out: list[Entry] = []
    busy_seen: set[str] = set()
    for occ in occs:
        seen = access.visibility(viewer, occ)
        if seen == access.FULL:
            key = anchor(occ.uid, occ.nominal_start.isoformat())
            out.append(Entry(occ, True, marks(occ), key, focus == key))
        elif seen == access.BUSY_ONLY and occ.status != "CANCELLED":
            block = access.busy_block(occ)
            if block.uid not in busy_seen:
                busy_seen.add(block.uid)
                out.append(Entry(block, False))
    return sorted(out, key=lambda e: (e.occ.start, e.occ.end, e.occ.summary))


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    today: bool
    weekend: bool
    holiday: str | None      # the festival's name on a day off (放假)
    makeup: bool             # a weekend day worked (调休补班)

    @property
    def css(self) -> str:
        return " ".join(c for c, on in (("today", self.today), ("weekend", self.weekend),
                                        ("holiday", bool(self.holiday)),
                                        ("makeup", self.makeup)) if on)

    @property
    def tag(self) -> str:
        if self.holiday:
            return f"休·{self.holiday}"
        return "补班" if self.makeup else ""


def day_info(calendar: WorkCalendar, day: dt.date, today: dt.date) -> DayInfo:
    holiday = calendar.holiday_name(day) if not calendar.is_working_day(day) else None
    return DayInfo(day, day == today, day.weekday() >= 5, holiday,
                   calendar.is_makeup_workday(day))


@dataclass(frozen=True)
class Block:
    entry: Entry
    span: Span
    place: Placed


@dataclass
class GridDay:
    info: DayInfo
    top: list[Entry] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)   # all of the day, for lists


def by_day(days: Iterable[dt.date], found: Iterable[Entry], calendar: WorkCalendar,
           today: dt.date) -> list[GridDay]:
    """One :class:`GridDay` per day: top-row items, and timed blocks in side-by-side columns."""
    grid = {d: GridDay(day_info(calendar, d, today)) for d in days}
    for e in found:
        if e.day in grid:
            grid[e.day].entries.append(e)
    for g in grid.values():
        timed = []
        for e in g.entries:
            if e.on_top:
                g.top.append(e)
            else:
                start, end = e.occ.start.astimezone(TZ), e.occ.end.astimezone(TZ)
                timed.append((e, span(start.time(), end.time(),
                                      ends_next_day=end.date() > start.date())))
        placed = columns([(s.start, s.end) for _, s in timed])
        g.blocks = [Block(e, s, p) for (e, s), p in zip(timed, placed, strict=True)]
    return list(grid.values())
