"""Issue 14: policy mistakes that used to pass silently are an error (exit 2) or a warning,
each one line naming the file and the key: a person id in two organizations, overlapping
holiday ranges, a meeting chaired by the duty leader with no duty roster, `revised` in the
future."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calsync.cli import main
from calsync.policy import shipped_policies


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def validate(capsys, root: Path) -> tuple[int, list[str]]:
    code = main(["validate", "--policies", str(root)])
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_person_id_in_both_organizations_is_an_error(capsys, policies: Path) -> None:
    edit(policies / "jiaoyuju" / "directory.toml", "du_keyuan", "qian_keyuan")
    code, lines = validate(capsys, policies)
    assert code == 2
    [line] = lines
    assert line.startswith(f"{policies / 'jiaoyuju' / 'directory.toml'}: people.qian_keyuan:")
    assert "also in guanliban" in line and "unique" in line


def test_overlapping_holiday_ranges_are_an_error(capsys, policies: Path) -> None:
    (policies / "holidays").mkdir(exist_ok=True)
    table = policies / "holidays" / "2026.toml"
    shutil.copy(shipped_policies() / "holidays" / "2026.toml", table)
    edit(table, 'name = "清明节", start = 2026-04-04, end = 2026-04-06',
         'name = "清明节", start = 2026-04-04, end = 2026-05-02')
    code, lines = validate(capsys, policies)
    assert code == 2
    [line] = lines
    assert line.startswith(f"{table}: holidays[3]:") and "overlaps holidays[2] 清明节" in line


def test_a_duty_roster_without_rotation_is_an_error(capsys, policies: Path) -> None:
    """Only two months listed and no rotation: 周例会 had no CHAIR the other ten."""
    path = policies / "guanliban" / "directory.toml"
    edit(path, 'rotation = ["zhang_zhuren", "wang_fuzhuren", "li_fuzhuren", "zhao_jijian"]',
         "rotation = []")
    code, lines = validate(capsys, policies)
    assert code == 2
    [line] = lines
    assert line.startswith(f"{path}: duty_roster.rotation:")
    assert "周例会" in line and "without a chair" in line and "2026-03" in line


def test_revised_in_the_future_is_a_warning(policies: Path) -> None:
    org = policies / "guanliban" / "organization.toml"
    edit(org, "revised = 2026-11-01T09:00:00+08:00", "revised = 2099-01-01T09:00:00+08:00")
    done = subprocess.run([sys.executable, "-m", "calsync.cli", "validate", "--policies",
                           str(policies)], capture_output=True, timeout=60,
                          env={**os.environ})
    assert done.returncode == 0
    err = [line for line in done.stderr.decode().splitlines() if line.strip()]
    assert err == [f"calsync: warning: {org}: revised: 2099-01-01T09:00:00+08:00 is in the "
                   f"future (every event's DTSTAMP comes from it) (write when the policy was "
                   f"really last revised)"]
    assert "guanliban: ok" in done.stdout.decode()
