"""Provisional years: the Spring Festival from the lunar calendar when no table is shipped
(the shipped tables are cross-checked in tests/properties/test_holiday_tables_oracle.py)."""

from __future__ import annotations

import datetime as dt
import json

import icalendar

from calsync.calendar.lunar import lunar_new_year
from calsync.cli import main
from tests.support.gen_helpers import shipped


def test_2026_spring_festival_from_table_and_lunar() -> None:
    cal = shipped().calendar
    assert lunar_new_year(2026) == dt.date(2026, 2, 17)
    assert cal.spring_festival_holiday_start(2026) == (dt.date(2026, 2, 15), False)
    # No table for 2027: new year's eve from the lunar calendar, flagged provisional.
    assert lunar_new_year(2027) == dt.date(2027, 2, 6)
    assert cal.spring_festival_holiday_start(2027) == (dt.date(2027, 2, 5), True)


def test_year_without_data_is_law_only(tmp_path, capsys) -> None:
    code = main(
        [
            "occurrences",
            "--start",
            "2027-01-01",
            "--end",
            "2027-01-31",
            "--org",
            "guanliban",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "no holiday data for 2027" in err and "provisional" in err
    rows = json.loads(out)
    # 2027-01-01 is a Friday, 元旦 by law: nothing is held on it.
    assert rows and not any(r["start"].startswith("2027-01-01") for r in rows)
    # Only the first week (the notice may still bridge 元旦) is provisional.
    early = [r for r in rows if r["start"] < "2027-01-07"]
    assert early and all(r["provisional"] for r in early)
    assert not any(r["provisional"] for r in rows if r["start"] >= "2027-01-11")

    code = main(
        [
            "generate",
            "--start",
            "2027-01-01",
            "--end",
            "2027-01-31",
            "--org",
            "guanliban",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    events = [e for path in sorted((tmp_path / "guanliban").glob("zhoulihui*.ics"))
              for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")]
    provisional = [e for e in events if e.get("X-CALSYNC-PROVISIONAL") == "TRUE"]
    assert provisional and len(provisional) < len(events)
    assert all("暂定" in str(e.get("DESCRIPTION")) for e in provisional)
    assert all(str(e.get("STATUS")) == "TENTATIVE" for e in provisional)


def test_known_year_has_no_provisional_flag(capsys) -> None:
    assert (
        main(["occurrences", "--start", "2026-03-01", "--end", "2026-03-31", "--format", "json"])
        == 0
    )
    out, err = capsys.readouterr()
    assert "warning" not in err
    assert not any(r["provisional"] for r in json.loads(out))


def test_policy_folder_can_bring_its_own_year(tmp_path) -> None:
    import shutil

    from calsync.policy import load_policies

    root = tmp_path / "policies"
    shutil.copytree(shipped().root, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    (root / "holidays" / "2027.toml").write_text(
        'year = 2027\nsource = "test"\n'
        'holidays = [{ name = "元旦", start = 2027-01-01, end = 2027-01-03 }]\n'
        "workdays = []\n",
        encoding="utf-8",
    )
    cal = load_policies(root).calendar
    assert not cal.is_working_day(dt.date(2027, 1, 1))
    assert not cal.is_provisional(dt.date(2027, 1, 1))
