"""Hand-checked 2026 dates against the State Council notice of 2025-11-04.

2026 days off: 元旦 01-01..03, 春节 02-15..23, 清明 04-04..06, 劳动节 05-01..05,
端午 06-19..21, 中秋 09-25..27, 国庆 10-01..07; 调休 working weekends 01-04, 02-14, 02-28,
05-09, 09-20, 10-10.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.gen_helpers import dates_of, series_by_id, year_2026

D = dt.date


def test_zhoulihui_skips_the_spring_festival_week_and_moves_after_holidays() -> None:
    dates = dates_of(year_2026(), "zhoulihui")
    # The week of 02-16 is all holiday: no 周例会 at all (not on Saturday 02-14's make-up day).
    assert not [d for d in dates if D(2026, 2, 14) <= d <= D(2026, 2, 22)]
    for nominal, held in [
        (D(2026, 2, 23), D(2026, 2, 24)),
        (D(2026, 4, 6), D(2026, 4, 7)),
        (D(2026, 5, 4), D(2026, 5, 6)),
        (D(2026, 10, 5), D(2026, 10, 8)),
    ]:
        assert nominal not in dates
        assert held in dates
    # Never on a 调休 working weekend, always at 09:30.
    assert not {
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    } & set(dates)
    occs = series_by_id(year_2026(), "zhoulihui").occurrences
    assert {(o.start.hour, o.start.minute) for o in occs} == {(9, 30)}
    # 52 Mondays in 2026, one week without a working day after Monday.
    assert len(dates) == 51


def test_zhoulihui_chair_is_the_months_duty_leader() -> None:
    occs = {o.start.date(): o for o in series_by_id(year_2026(), "zhoulihui").occurrences}
    assert occs[D(2026, 1, 5)].chair.name == "张建国"  # rotation[0] in the anchor month
    assert occs[D(2026, 2, 2)].chair.name == "李红梅"  # explicit month
    assert occs[D(2026, 3, 2)].chair.name == "王立新"  # explicit month
    assert occs[D(2026, 4, 7)].chair.name == "赵志强"  # rotation: April is index 3
    assert occs[D(2026, 5, 6)].chair.name == "张建国"  # rotation wraps around


def test_kewuhui_monday_follows_zhoulihui_and_friday_moves_back() -> None:
    gen = year_2026()
    week = {o.nominal_start.date(): o for o in series_by_id(gen, "zhoulihui").occurrences}
    mon = series_by_id(gen, "kewuhui-mishuke-mon").occurrences
    assert len(mon) == len(week)
    for k in mon:
        z = week[k.nominal_start.date()]
        assert k.start == z.end
    fri = dates_of(gen, "kewuhui-mishuke-fri")
    # 06-19 (端午) and 09-25 (中秋) are holiday Fridays → Thursday of the same week.
    assert D(2026, 6, 18) in fri and D(2026, 6, 19) not in fri
    assert D(2026, 9, 24) in fri and D(2026, 9, 25) not in fri
    # 01-02 (元旦) and 01-01 are off; the previous working day, 2025-12-31, is outside the
    # range, so the range holds no Friday meeting that week.
    assert not [d for d in fri if d <= D(2026, 1, 4)]
    # 10-02 (国庆) and 10-01 are off; Wednesday 09-30 holds the 主任办公会 its supervisor
    # attends (issue 10: a holiday move avoids the organization's own meetings): Tuesday.
    assert [d for d in fri if D(2026, 9, 28) <= d <= D(2026, 10, 4)] == [D(2026, 9, 29)]


def test_kewuhui_supervisor_attends_his_sections() -> None:
    occ = series_by_id(year_2026(), "kewuhui-zonghe-fri").occurrences[0]
    roles = {a.name: a.role for a in occ.attendees}
    assert roles["吴海涛"] == "CHAIR"  # the chief chairs
    assert roles["王立新"] == "REQ-PARTICIPANT"  # 分管领导
    assert "李红梅" not in roles  # supervises other sections


def test_zhurenbangong_biweekly_roles_and_topic_deadline() -> None:
    gen = year_2026()
    occs = series_by_id(gen, "zhurenbangong").occurrences
    assert occs[0].start.date() == D(2026, 1, 7)
    roles = {a.name: a.role for a in occs[0].attendees}
    assert roles == {
        "张建国": "CHAIR",
        "王立新": "REQ-PARTICIPANT",
        "李红梅": "REQ-PARTICIPANT",
        "赵志强": "REQ-PARTICIPANT",
        "周晓燕": "NON-PARTICIPANT",
        "陈静": "NON-PARTICIPANT",
    }
    assert len(occs) == 26
    moved = {o.nominal_start.date(): o.start.date() for o in occs if o.moved}
    # 02-18 is in the Spring Festival holiday: the next working day, Tuesday 02-24, holds the
    # moved 周例会 and 科务会 (issue 10: avoid them), so Wednesday 02-25.
    assert moved == {D(2026, 2, 18): D(2026, 2, 25)}
    deadlines = {
        d.related_to: d for d in series_by_id(gen, "deadline-yiti-zhurenbangong").occurrences
    }
    assert len(deadlines) == 1  # one series: all point at the same meeting UID
    due = {
        d.nominal_start.date(): d
        for d in series_by_id(gen, "deadline-yiti-zhurenbangong").occurrences
    }
    # Two days before Wednesday 01-07 → Monday 01-05, 17:00.
    first = series_by_id(gen, "deadline-yiti-zhurenbangong").occurrences[0]
    assert first.end == dt.datetime(2026, 1, 5, 17, 0, tzinfo=first.end.tzinfo)
    # The moved meeting (02-25) takes its deadline along: 02-23 is inside the holiday, so
    # the previous regular working day, Friday 02-13.
    moved_deadline = due[D(2026, 2, 16)]
    assert moved_deadline.end.date() == D(2026, 2, 13)


def test_weekly_report_deadline_friday_1500_previous_working_day() -> None:
    occs = series_by_id(year_2026(), "deadline-zhoubao").occurrences
    ends = {o.end.date(): o.end for o in occs}
    assert ends[D(2026, 1, 9)].hour == 15
    assert D(2026, 6, 18) in ends and D(2026, 6, 19) not in ends  # 端午 Friday → Thursday
    assert D(2026, 9, 24) in ends and D(2026, 9, 25) not in ends  # 中秋 Friday → Thursday
    assert all(o.transparent and o.kind == "deadline" for o in occs)


def test_june_system_meeting_and_year_end_combined_meeting() -> None:
    gen = year_2026()
    june = series_by_id(gen, "xitong-2026").occurrences
    assert [o.start.date() for o in june] == [D(2026, 6, 25)]  # a Thursday in 06-24..30
    combined = series_by_id(gen, "zongjie-2026").occurrences
    assert len(combined) == 1
    occ = combined[0]
    assert occ.start.date() < D(2026, 2, 15)  # before the Spring Festival holiday
    assert occ.start.date() == D(2026, 2, 11)  # the 3rd working day before it
    assert set(occ.meeting_types) == {"zongjie", "xitong"}
    assert "总结表彰大会" in occ.summary and "系统工作会议" in occ.summary
    assert series_by_id(gen, "zongjie-2026").rule is None  # standalone: no RRULE, no RDATE


@pytest.mark.parametrize("year, expected", [(2024, D(2024, 2, 7)), (2025, D(2025, 1, 23))])
def test_combined_meeting_in_other_years(year: int, expected: dt.date) -> None:
    from calsync.meetings.generate import generate
    from tests.support.gen_helpers import shipped

    gen = generate(shipped(), D(year, 1, 1), D(year, 12, 31))
    occ = series_by_id(gen, f"zongjie-{year}").occurrences[0]
    assert occ.start.date() == expected
    assert not occ.provisional


def test_on_demand_types_generate_nothing_but_are_loaded() -> None:
    from tests.support.gen_helpers import shipped

    org = shipped().organizations["jiaoyuju"]
    names = [mt.name for mt in org.meeting_types.values()]
    assert names == [
        "局党委会",
        "局长办公会",
        "局务会",
        "民主生活会",
        "基层业务工作会",
        "全局干部职工会",
        "全县教育工作会",
    ]
    assert org.meeting_types["dangwei"].confidential
    assert not [s for s in year_2026().series if s.organization == "jiaoyuju"]
