"""The calendar views' geometry and content as pure functions (web/calendar_layout.py,
web/calendar_views.py, calsync/meetings/links.py): column assignment for overlapping meetings,
pinning to the 08:00–18:00 grid, the month's weeks, day marks from the holiday tables, the
marks of an occurrence, what a viewer may see of it, and the week link a notice carries."""

from __future__ import annotations

import datetime as dt
import itertools
from urllib.parse import parse_qs, urlsplit

import pytest
from calsync.web.calendar_layout import (
    ROWS,
    columns,
    month_weeks,
    row_labels,
    shift_month,
    span,
)
from calsync.web.calendar_views import by_day, day_info, entries, marks

from calsync import access
from calsync.meetings.links import anchor, week_path, week_url
from calsync.occurrence import TZ, Attendee, Occurrence
from calsync.policy import load_policies, shipped_policies


def t(hm: str) -> dt.time:
    return dt.time.fromisoformat(hm)


def m(hm: str) -> int:
    return t(hm).hour * 60 + t(hm).minute


def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# --- columns ------------------------------------------------------------------------------

def test_two_overlapping_meetings_get_two_columns() -> None:
    got = columns([(m("09:00"), m("10:00")), (m("09:30"), m("10:30"))])
    assert [(p.column, p.columns) for p in got] == [(0, 2), (1, 2)]
    assert [(p.left, p.width) for p in got] == [(0, 50), (50, 50)]


def test_separate_and_touching_meetings_keep_the_full_width() -> None:
    got = columns([(m("09:00"), m("10:00")), (m("10:00"), m("11:00")),
                   (m("14:00"), m("15:00"))])
    assert [(p.column, p.columns) for p in got] == [(0, 1), (0, 1), (0, 1)]


def test_four_meetings_at_once_side_by_side() -> None:
    """The four 科务会 on a Monday at 10:30 (shipped policies)."""
    got = columns([(m("10:30"), m("11:15"))] * 4)
    assert sorted(p.column for p in got) == [0, 1, 2, 3]
    assert {p.columns for p in got} == {4}


def test_a_chain_of_overlaps_reuses_a_freed_column() -> None:
    # A 9–10, B 9:30–11, C 10–11:30: A and C never overlap, so C takes A's column.
    got = columns([(m("09:00"), m("10:00")), (m("09:30"), m("11:00")),
                   (m("10:00"), m("11:30"))])
    assert [(p.column, p.columns) for p in got] == [(0, 2), (1, 2), (0, 2)]


def test_input_order_does_not_matter_and_results_come_back_in_input_order() -> None:
    spans = [(m("13:00"), m("14:00")), (m("09:00"), m("12:00")), (m("09:30"), m("10:00"))]
    got = columns(spans)
    assert [p.index for p in got] == [0, 1, 2]
    assert (got[1].column, got[2].column, got[0].columns) == (0, 1, 1)


def test_no_two_overlapping_intervals_share_a_column_exhaustively() -> None:
    """Every set of up to five intervals on a coarse half-hour lattice."""
    lattice = [(s, e) for s in range(0, 6) for e in range(s + 1, 7)]
    for n in range(1, 5):
        for combo in itertools.combinations(lattice, n):
            got = columns(combo)
            for (a, pa), (b, pb) in itertools.combinations(zip(combo, got, strict=True), 2):
                if overlap(a, b):
                    assert pa.column != pb.column and pa.columns == pb.columns, combo
                assert pa.column < pa.columns and pb.column < pb.columns


# --- pinning to the grid ------------------------------------------------------------------

def test_the_grid_is_0800_to_1800_in_half_hours() -> None:
    labels = row_labels()
    assert (ROWS, labels[0], labels[1], labels[-1]) == (20, "08:00", "08:30", "17:30")


def test_a_meeting_inside_the_grid_keeps_its_place() -> None:
    s = span(t("09:30"), t("10:30"))
    assert (s.start, s.end, s.before, s.after, s.first_row) == (570, 630, False, False, 3)
    assert (s.top, s.height) == (15.0, 10.0)


def test_meetings_outside_the_hours_are_pinned_to_the_edges() -> None:
    early = span(t("07:00"), t("08:30"))
    assert (early.start, early.end, early.before, early.first_row) == (480, 510, True, 0)
    late = span(t("19:00"), t("20:00"))
    assert (late.start, late.end, late.after, late.first_row) == (1050, 1080, True, 19)
    evening = span(t("17:00"), t("19:00"))
    assert (evening.start, evening.end, evening.after) == (1020, 1080, True)
    overnight = span(t("16:00"), t("01:00"), ends_next_day=True)
    assert (overnight.end, overnight.after) == (1080, True)


def test_a_short_block_is_at_least_one_row_high() -> None:
    s = span(t("16:30"), t("16:40"))
    assert (s.start, s.end) == (990, 1020)


# --- the month ----------------------------------------------------------------------------

def test_month_weeks_cover_the_month_in_whole_weeks_monday_first() -> None:
    weeks = month_weeks(dt.date(2026, 3, 18))   # 2026-03-01 is a Sunday
    assert weeks[0][0] == dt.date(2026, 2, 23) and weeks[-1][-1] == dt.date(2026, 4, 5)
    assert all(len(w) == 7 and w[0].weekday() == 0 for w in weeks)
    assert len(weeks) == 6
    assert len(month_weeks(dt.date(2021, 2, 1))) == 4   # Feb 2021: Monday 1st to Sunday 28th


def test_shift_month_crosses_years() -> None:
    assert shift_month(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 1)
    assert shift_month(dt.date(2026, 1, 31), -1) == dt.date(2025, 12, 1)


@pytest.fixture(scope="module")
def policies():
    return load_policies(shipped_policies())


def test_day_marks_come_from_the_holiday_table(policies) -> None:
    cal, today = policies.calendar, dt.date(2026, 2, 16)
    spring = day_info(cal, dt.date(2026, 2, 16), today)
    assert (spring.holiday, spring.tag, spring.today, spring.weekend) == ("春节", "休·春节",
                                                                         True, False)
    makeup = day_info(cal, dt.date(2026, 2, 14), today)    # a Saturday worked (调休)
    assert (makeup.makeup, makeup.tag, makeup.weekend, makeup.holiday) == (True, "补班", True,
                                                                         None)
    weekend = day_info(cal, dt.date(2026, 3, 7), today)
    assert (weekend.weekend, weekend.tag, weekend.css) == (True, "", "weekend")
    assert "today" in spring.css and "holiday" in spring.css and "makeup" in makeup.css


# --- marks and what a viewer sees ---------------------------------------------------------

def occ(summary: str, day: str, start: str, end: str, *, org: str = "guanliban",
        klass: str = "PUBLIC", status: str = "CONFIRMED", nominal: str | None = None,
        provisional: bool = False, kind: str = "meeting", people: tuple[str, ...] = (),
        uid: str | None = None) -> Occurrence:
    at = dt.datetime.fromisoformat(f"{day}T{start}").replace(tzinfo=TZ)
    to = dt.datetime.fromisoformat(f"{day}T{end}").replace(tzinfo=TZ)
    nom = dt.datetime.fromisoformat(nominal).replace(tzinfo=TZ) if nominal else at
    return Occurrence(summary, uid or f"{summary}@{org}.calsync", org, kind, (), summary, at,
                      to, nom, location="第一会议室", status=status, klass=klass,
                      provisional=provisional,
                      attendees=tuple(Attendee(p, f"{p}@example.org", person_id=p)
                                      for p in people))


def test_marks_of_an_occurrence() -> None:
    assert [k.label for k in marks(occ("a", "2026-03-02", "09:00", "10:00",
                                       status="CANCELLED"))] == ["已取消"]
    assert [k.label for k in marks(occ("b", "2026-03-02", "09:00", "10:00",
                                       status="TENTATIVE", provisional=True))] == ["待定", "暂定"]
    moved = marks(occ("c", "2026-03-03", "15:00", "16:00", nominal="2026-03-02T09:00"))
    assert [(k.label, k.title) for k in moved] == [("已调整", "原定 03月02日 09:00")]
    assert marks(occ("d", "2026-03-02", "09:00", "10:00")) == ()


STAFF = access.Viewer("qian_keyuan", "guanliban", "staff", "钱丽", "qian_keyuan@example.org")


def test_entries_apply_the_one_visibility_rule() -> None:
    secret = occ("主任办公会", "2026-03-04", "09:00", "11:00", klass="CONFIDENTIAL",
                 status="TENTATIVE", nominal="2026-03-03T09:00")
    twin = occ("党组会议", "2026-03-04", "09:00", "11:00", klass="CONFIDENTIAL")
    gone = occ("党组会议（取消）", "2026-03-05", "09:00", "11:00", klass="CONFIDENTIAL",
               status="CANCELLED")
    invited = occ("局党委会", "2026-03-05", "14:00", "15:00", klass="CONFIDENTIAL",
                  people=("qian_keyuan",))
    public = occ("周例会", "2026-03-02", "09:30", "10:30")
    other = occ("局务会", "2026-03-02", "09:30", "10:30", org="jiaoyuju")
    got = entries(STAFF, [secret, twin, gone, invited, public, other],
                  focus=anchor(secret.uid, secret.nominal_start.isoformat()))
    assert [(e.occ.summary, e.shown) for e in got] == [
        ("周例会", True), ("忙碌", False), ("局党委会", True)]
    busy = got[1]
    # 忙碌 and the time, nothing else: no marks, no anchor, not focusable, no place.
    assert (busy.marks, busy.anchor, busy.focus, busy.occ.location) == ((), None, False, "")
    assert "主任办公会" not in busy.occ.uid and busy.occ.start == secret.start
    assert "focus" not in busy.css and busy.css == "busy-block"


def test_by_day_puts_deadlines_on_top_and_timed_meetings_in_columns(policies) -> None:
    a = occ("科务会（秘书科）", "2026-03-02", "10:30", "11:15")
    b = occ("科务会（综合业务科）", "2026-03-02", "10:30", "11:15")
    c = occ("周例会", "2026-03-02", "09:30", "10:30")
    due = occ("议题材料截止", "2026-03-02", "16:30", "17:00", kind="deadline")
    days = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(7)]
    grid = by_day(days, entries(STAFF, [a, b, c, due]), policies.calendar, dt.date(2026, 3, 4))
    monday = grid[0]
    assert [e.occ.summary for e in monday.top] == ["议题材料截止"]
    placed = {blk.entry.occ.summary: (blk.place.column, blk.place.columns, blk.span.first_row)
              for blk in monday.blocks}
    assert placed["周例会"] == (0, 1, 3)
    assert {placed["科务会（秘书科）"][:2], placed["科务会（综合业务科）"][:2]} == {(0, 2), (1, 2)}
    assert [g.info.today for g in grid] == [False, False, True, False, False, False, False]


# --- the link a notice carries ------------------------------------------------------------

def test_week_link_selects_the_week_and_names_no_meeting() -> None:
    moved = occ("主任办公会", "2026-03-05", "09:00", "11:00", nominal="2026-03-04T09:00",
                klass="CONFIDENTIAL")
    path = week_path(moved)
    query = parse_qs(urlsplit(path).query)
    assert urlsplit(path).path == "/meetings"
    assert query["date"] == ["2026-03-05"]     # where it is now, not where it was planned
    assert query["focus"] == [anchor(moved.uid, moved.nominal_start.isoformat())]
    assert "主任办公会" not in path and "guanliban" not in path
    assert week_url("https://cal.example.org/", moved) == "https://cal.example.org" + path
    assert week_url(None, moved) is None


