"""Law-only years (no State Council notice yet): the statutory days of 《全国年节及纪念日放假办法》
(2024 revision) are off, and only what the coming notice can still move is provisional."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from functools import cache
from pathlib import Path

import icalendar
import pytest

from calsync.calendar.notice import parse_notice
from calsync.calendar.statutory import (
    MAKEUP_SPAN,
    OFF_SPAN,
    distance_to_statutory,
    statutory_days,
)
from calsync.cli import main
from calsync.cli.serve import holiday_years_line
from calsync.meetings.generate import Generation, generate
from calsync.policy import load_policies, shipped_policies
from tests.support.gen_helpers import shipped

NOTICES = Path(__file__).parents[1] / "fixtures" / "notices"
# The statutory days of 2027 that fall on a weekday (the list).
STATUTORY_WEEKDAYS_2027 = [dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 8),
                           dt.date(2027, 4, 5), dt.date(2027, 6, 9), dt.date(2027, 9, 15),
                           dt.date(2027, 10, 1)]


@cache
def year_2027() -> Generation:
    return generate(shipped(), dt.date(2027, 1, 1), dt.date(2027, 12, 31))


def test_statutory_days_of_2027_from_the_lunar_calendar() -> None:
    days = statutory_days(2027)
    assert days == {
        dt.date(2027, 1, 1): "元旦",
        dt.date(2027, 2, 5): "春节", dt.date(2027, 2, 6): "春节", dt.date(2027, 2, 7): "春节",
        dt.date(2027, 2, 8): "春节",
        dt.date(2027, 4, 5): "清明节",
        dt.date(2027, 5, 1): "劳动节", dt.date(2027, 5, 2): "劳动节",
        dt.date(2027, 6, 9): "端午节",
        dt.date(2027, 9, 15): "中秋节",
        dt.date(2027, 10, 1): "国庆节", dt.date(2027, 10, 2): "国庆节",
        dt.date(2027, 10, 3): "国庆节",
    }
    assert [d for d in days if d.weekday() < 5] == STATUTORY_WEEKDAYS_2027
    # 2020: 中秋 fell on 国庆.
    assert statutory_days(2020)[dt.date(2020, 10, 1)] == "中秋节、国庆节"


def test_the_spans_are_measured_on_the_2010_to_2026_notices() -> None:
    """OFF_SPAN / MAKEUP_SPAN: the farthest any notice put a weekday off / a make-up day."""
    off = makeup = 0
    for path in sorted(NOTICES.glob("*.txt")):
        n = parse_notice(path.read_text(encoding="utf-8"))
        off = max(off, *(distance_to_statutory(d) for d in n.holidays if d.weekday() < 5))
        makeup = max(makeup, *(distance_to_statutory(d) for d in n.workdays))
    assert (off, makeup) == (OFF_SPAN, MAKEUP_SPAN) == (5, 9)


def test_2027_no_meeting_or_deadline_on_a_statutory_weekday() -> None:
    occs = year_2027().occurrences()
    assert len(occs) > 400
    kinds = {o.kind for o in occs}
    assert kinds == {"meeting", "deadline"}
    on_holiday = [(o.start.date(), o.summary) for o in occs
                  if o.start.date() in STATUTORY_WEEKDAYS_2027]
    assert on_holiday == []
    # The weekly meetings of those days were moved, and say why.
    moved = [o for o in occs if o.nominal_start.date() == dt.date(2027, 10, 1)]
    assert moved and all(o.moved for o in moved)
    assert any("国庆节" in o.full_description() for o in moved if o.kind == "meeting")


def test_2027_provisional_only_near_holidays() -> None:
    occs = year_2027().occurrences()
    provisional = [o for o in occs if o.provisional]
    # Near a holiday: within the measured spans of a statutory day (the occurrence's own day,
    # where the rule put it, or — for a deadline — its meeting's).
    assert 0 < len(provisional) < len(occs) // 3
    for o in provisional:
        days = (o.start.date(), o.nominal_start.date())
        assert (min(distance_to_statutory(d) for d in days) <= MAKEUP_SPAN
                or o.related_to or "暨" in o.summary), o
        assert "日期待国务院放假通知确定" in o.full_description()
    # A plain March week: meetings, none of them provisional.
    march = [o for o in occs if dt.date(2027, 3, 8) <= o.start.date() <= dt.date(2027, 3, 12)]
    assert len(march) >= 10 and not any(o.provisional for o in march)
    # All of May 1–2's week moves with the notice; all of August is safe.
    assert all(o.provisional for o in occs
               if dt.date(2027, 4, 28) <= o.start.date() <= dt.date(2027, 5, 7))
    assert not any(o.provisional for o in occs if o.start.month == 8)


def test_the_year_end_meeting_of_a_law_only_year_is_provisional() -> None:
    occ = next(o for o in year_2027().occurrences() if "总结表彰大会" in o.summary)
    # The 3rd regular working day before 除夕 (2027-02-05): 02-04, 02-03, 02-02.
    assert occ.start.date() == dt.date(2027, 2, 2)
    assert occ.provisional


def test_late_december_waits_for_the_next_years_notice() -> None:
    cal = shipped().calendar
    assert [d.day for d in (dt.date(2026, 12, 21) + dt.timedelta(days=i) for i in range(11))
            if cal.is_provisional(d)] == [26, 27, 28, 29, 30, 31]
    assert not cal.is_provisional(dt.date(2026, 3, 10))
    assert not cal.is_provisional(dt.date(2027, 1, 1))  # off by law whatever the notice says
    assert not cal.is_working_day(dt.date(2027, 1, 1))
    assert cal.holiday_name(dt.date(2027, 2, 8)) == "春节"


def test_rendered_2027_events_are_tentative(tmp_path: Path, capsys) -> None:
    assert main(["occurrences", "--start", "2027-01-01", "--end", "2027-12-31",
                 "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "no holiday data for 2027: law-only" in err
    rows = json.loads(out)
    assert any(r["provisional"] for r in rows) and not all(r["provisional"] for r in rows)
    assert {r["status"] for r in rows if r["provisional"]} == {"TENTATIVE"}
    # 系统工作会议 / 总结表彰大会 wait for a recorded decision (篇一 五.1, 六.1): 待定 anyway
    waiting = {t for org in shipped().organizations.values()
               for t, mt in org.meeting_types.items() if mt.needs_confirmation}
    assert {r["status"] for r in rows
            if not r["provisional"] and not waiting & set(r["meeting_types"])} == {"CONFIRMED"}
    assert main(["generate", "--start", "2027-01-01", "--end", "2027-12-31", "--org",
                 "guanliban", "--out", str(tmp_path)]) == 0
    events = []
    for path in (tmp_path / "guanliban").glob("*.ics"):
        events += icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    provisional = [e for e in events if e.get("X-CALSYNC-PROVISIONAL") == "TRUE"]
    assert provisional
    for e in provisional:
        assert str(e.get("STATUS")) == "TENTATIVE"
        assert "日期待国务院放假通知确定" in str(e.get("DESCRIPTION"))
    # The master of a weekly series is a plain week: CONFIRMED.
    masters = [e for e in events if e.get("RRULE") and not e.get("X-CALSYNC-PROVISIONAL")]
    assert masters and all(str(e.get("STATUS")) == "CONFIRMED" for e in masters)


def test_serve_logs_the_law_only_years() -> None:
    line = holiday_years_line(shipped(), dt.date(2026, 12, 2))
    assert "law-only" in line and "2027" in line and "2026" not in line.split(":", 2)[2]
    assert "law-only" not in holiday_years_line(shipped(), dt.date(2025, 5, 1))


# -- 调休 make-up days and "working days before": an explicit policy setting -------------------

def _policies(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("__pycache__",
                                                                            "*.py"))
    path = root / "guanliban" / "meetings.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return root


SETTING = "count_makeup_days = false"


def _year_end(root: Path | None) -> dt.date:
    policies = load_policies(root) if root else shipped()
    gen = generate(policies, dt.date(2026, 1, 1), dt.date(2026, 12, 31), ["guanliban"])
    return next(o for o in gen.occurrences() if "总结表彰大会" in o.summary).start.date()


def test_makeup_saturdays_are_not_counted_as_the_policy_says(tmp_path: Path) -> None:
    # 2026: the holiday starts 02-15; 02-14 is a 调休 working Saturday.
    assert _year_end(None) == dt.date(2026, 2, 11)
    assert _year_end(_policies(tmp_path, SETTING, "count_makeup_days = true")) == dt.date(
        2026, 2, 12)


def test_the_setting_is_required(tmp_path: Path, capsys) -> None:
    root = _policies(tmp_path, SETTING, "")
    assert main(["validate", "--policies", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{root / 'guanliban' / 'meetings.toml'}: "
                   "meeting_types.zongjie.schedules[0].count_makeup_days: is required for "
                   "kind = before-spring-festival (write count_makeup_days = false (调休 "
                   "working weekends not counted) or true)"]


@pytest.mark.parametrize("new, problem", [
    ('count_makeup_days = "no"', "must be true or false"),
])
def test_the_setting_must_be_a_boolean(tmp_path: Path, capsys, new: str, problem: str) -> None:
    root = _policies(tmp_path, SETTING, new)
    assert main(["validate", "--policies", str(root)]) == 2
    err = capsys.readouterr().err
    assert "count_makeup_days: " + problem in err


def test_the_setting_only_applies_to_the_year_end_schedule(tmp_path: Path, capsys) -> None:
    root = _policies(tmp_path, "makeup_weekends = false", "makeup_weekends = false\n"
                     "count_makeup_days = true")
    assert main(["validate", "--policies", str(root)]) == 2
    err = capsys.readouterr().err
    assert "count_makeup_days: only applies to kind = before-spring-festival (remove it)" in err
