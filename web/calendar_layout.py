"""Geometry of the calendar views (pure: no Flask, no store).

The week is a time grid from 08:00 to 18:00 in half-hour rows. A meeting outside those hours
is pinned to the edge it falls beyond (a 07:30 meeting starts at the top row, a 19:00 one sits
in the last row) and keeps its real time in its text. Meetings of one day that overlap are
laid side by side: :func:`columns` gives each one a column and the number of columns of the
group of meetings it overlaps (directly or through others), so blocks never cover each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

DAY_START = dt.time(8, 0)
DAY_END = dt.time(18, 0)
SLOT_MINUTES = 30


def minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


GRID_START = minutes(DAY_START)
GRID_END = minutes(DAY_END)
ROWS = (GRID_END - GRID_START) // SLOT_MINUTES


@dataclass(frozen=True)
class Span:
    """Where a block is drawn, in minutes after midnight (already pinned to the grid)."""

    start: int
    end: int
    before: bool = False      # really starts before 08:00
    after: bool = False       # really ends after 18:00 (or starts after it)

    @property
    def top(self) -> float:
        """Offset from the top of the grid, as a percentage of its height."""
        return round(100 * (self.start - GRID_START) / (GRID_END - GRID_START), 4)

    @property
    def height(self) -> float:
        return round(100 * (self.end - self.start) / (GRID_END - GRID_START), 4)

    @property
    def first_row(self) -> int:
        """The half-hour row (0 = 08:00–08:30) the block starts in."""
        return (self.start - GRID_START) // SLOT_MINUTES


def span(start: dt.time, end: dt.time, *, ends_next_day: bool = False) -> Span:
    """The drawn span of a meeting from ``start`` to ``end`` (local times of one day):
    pinned inside 08:00–18:00, at least one row high."""
    s, e = minutes(start), minutes(end)
    if ends_next_day or e < s:
        e = 24 * 60
    before, after = s < GRID_START, e > GRID_END
    s = min(max(s, GRID_START), GRID_END - SLOT_MINUTES)
    e = min(max(e, s + SLOT_MINUTES), GRID_END)
    return Span(s, e, before, after)


@dataclass(frozen=True)
class Placed:
    index: int        # position in the input
    column: int       # 0-based
    columns: int      # columns of its overlap group

    @property
    def left(self) -> float:
        return round(100 * self.column / self.columns, 4)

    @property
    def width(self) -> float:
        return round(100 / self.columns, 4)


def columns(spans: Sequence[tuple[int, int]]) -> list[Placed]:
    """Side-by-side columns for half-open intervals ``(start, end)`` of one day.

    Intervals are taken by start (then longer first); each goes into the leftmost column whose
    last interval has ended. A group is a run of intervals linked by overlaps; all of a group
    share its column count. Two intervals that overlap never share a column; intervals that
    only touch (one ends when the next starts) may. Returned in input order.
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1], i))
    placed: dict[int, tuple[int, int]] = {}   # index -> (column, group number)
    group_columns: list[int] = []
    column_ends: list[int] = []
    group_end = None
    for i in order:
        start, end = spans[i]
        end = max(end, start)
        if group_end is None or start >= group_end:   # a new group begins
            group_columns.append(0)
            column_ends = []
            group_end = end
        col = next((c for c, e in enumerate(column_ends) if e <= start), len(column_ends))
        if col == len(column_ends):
            column_ends.append(end)
        else:
            column_ends[col] = end
        group_end = max(group_end, end)
        group = len(group_columns) - 1
        group_columns[group] = max(group_columns[group], col + 1)
        placed[i] = (col, group)
    return [Placed(i, placed[i][0], group_columns[placed[i][1]]) for i in range(len(spans))]


def row_labels() -> list[str]:
    """The time gutter: 08:00, 08:30 … 17:30."""
    out = []
    for r in range(ROWS):
        m = GRID_START + r * SLOT_MINUTES
        out.append(f"{m // 60:02d}:{m % 60:02d}")
    return out


def month_weeks(day: dt.date) -> list[list[dt.date]]:
    """The weeks (Monday first) that cover the month of ``day``, whole weeks."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    monday = first - dt.timedelta(days=first.weekday())
    weeks = []
    while monday < following:
        weeks.append([monday + dt.timedelta(days=i) for i in range(7)])
        monday += dt.timedelta(days=7)
    return weeks


def shift_month(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` away from ``day``'s."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
