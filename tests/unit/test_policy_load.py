"""``calsync.policy.load(policies_dir, instance)``: the one way the policies are read (issue 21
item 2). The instance's applied holiday tables replace the folder's years; attendance.toml is
read and checked with the other files; every problem is raised at once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from calsync.calendar.notice import Notice
from calsync.errors import PolicyError
from calsync.meetings import attendance_policy
from calsync.occurrence import Occurrence
from calsync.policy import PolicySet, load, shipped_policies
from calsync.policy.attendance import Rules
from calsync.policy.holiday_tables import write_table

MONDAY = dt.date(2026, 3, 2)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py"))
    return root


def test_the_instance_table_replaces_the_folder_s_year(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    assert load(None, inst).calendar.is_working_day(MONDAY)       # no table applied yet
    write_table(Notice(2026, None, {MONDAY: "测试假"}, {}), inst / "holidays")
    applied = load(None, inst)
    assert not applied.calendar.is_working_day(MONDAY)
    assert applied.calendar.years[2026].holidays == {MONDAY: "测试假"}
    assert load(None).calendar.is_working_day(MONDAY)              # the folder alone


def test_a_broken_instance_table_is_a_policy_problem(tmp_path: Path) -> None:
    folder = tmp_path / "inst" / "holidays"
    folder.mkdir(parents=True)
    (folder / "2026.toml").write_text("year = 2027\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load(None, tmp_path / "inst")
    (problem,) = err.value.problems
    assert problem.file == str(folder / "2026.toml") and problem.key == "year"


def test_attendance_rules_are_loaded_and_checked_with_the_policies(tmp_path: Path) -> None:
    shipped = load()
    ganbu = Occurrence("g", "g@x", "jiaoyuju", "meeting", ("ganbu",), "全局干部职工会",
                       shipped.organizations["jiaoyuju"].revised,
                       shipped.organizations["jiaoyuju"].revised,
                       shipped.organizations["jiaoyuju"].revised)
    assert shipped.attendance["jiaoyuju"].for_occurrence(ganbu).keeper == "section:ducha"
    root = _copy(tmp_path)
    (root / "jiaoyuju" / "attendance.toml").write_text(
        '[attendance]\nkeeper = "everyone"\nlate_after_minutes = 500\n', encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load(root)
    assert [(p.file, p.key) for p in err.value.problems] == [
        ("jiaoyuju/attendance.toml", "attendance.keeper"),
        ("jiaoyuju/attendance.toml", "attendance.late_after_minutes")]


def test_a_policy_set_built_by_hand_has_the_default_rules() -> None:
    shipped = load()
    bare = PolicySet(shipped.root, shipped.organizations, shipped.calendar)
    assert attendance_policy.org_rules(bare, "guanliban").default == Rules()
