"""``calsync directory import`` as a secretary runs it: the diff without --apply (nothing
written), --apply with a backup, exit 2 and row/column messages for a bad sheet, and the
shipped policies never written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calsync.policy import shipped_policies
from tests.support import directory_sheets as ds


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CALSYNC_POLICIES"}
    exe = shutil.which("calsync") or f"{sys.prefix}/bin/calsync"
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _sheet(tmp_path: Path) -> Path:
    rows = [r for r in ds.JIAOYUJU if r[0] != "谢　婷"]
    rows.append(("周　敏", "教育股", "科员", "13900000001", "zhou.min@jyj.example.org"))
    return ds.write_xlsx(tmp_path / "通讯录.xlsx", rows)


def test_preview_prints_the_diff_and_writes_nothing(root: Path, tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    before = (root / "jiaoyuju" / "directory.toml").read_bytes()
    r = _run("directory", "import", str(sheet), "--org", "jiaoyuju", "--policies", str(root),
             "--left-on", "2026-12-07", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("jiaoyuju (县教育局): directory.toml ← 通讯录.xlsx: 12 people read; "
                        "ignored columns: 序号, 备注")
    assert "  + zhoumin  周敏  教育股  科员  13900000001  zhou.min@jyj.example.org  (row 14)" \
        in lines
    assert "  - xie_keyuan  谢婷  教育督导室" in lines
    assert lines[-1].startswith("nothing written (add --apply")
    assert (root / "jiaoyuju" / "directory.toml").read_bytes() == before
    assert not list((root / "jiaoyuju").glob("directory.toml.bak-*"))


def test_apply_writes_with_a_backup_and_validate_accepts_it(root: Path, tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    before = (root / "jiaoyuju" / "directory.toml").read_text(encoding="utf-8")
    r = _run("directory", "import", str(sheet), "--org", "jiaoyuju", "--policies", str(root),
             "--apply", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "written (the old file is directory.toml.bak-" in r.stdout.splitlines()[-1]
    backups = list((root / "jiaoyuju").glob("directory.toml.bak-*"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == before
    text = (root / "jiaoyuju" / "directory.toml").read_text(encoding="utf-8")
    assert "[people.zhoumin]" in text and "left = " in text
    ok = _run("validate", "--policies", str(root), cwd=tmp_path)
    assert ok.returncode == 0 and "jiaoyuju: ok" in ok.stdout and "13 staff" in ok.stdout
    again = _run("directory", "import", str(sheet), "--org", "jiaoyuju", "--policies",
                 str(root), "--apply", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout.splitlines()[-1].endswith(
        "already up to date")


def test_a_bad_sheet_exits_2_naming_row_column_and_fix(root: Path, tmp_path: Path) -> None:
    rows = [("王五", "财务股", "科员", "139", "wang.wu@jyj.example.org")]
    path = tmp_path / "bad.csv"
    path.write_bytes(ds.csv_bytes(rows, encoding="gb18030"))
    r = _run("directory", "import", str(path), "--org", "jiaoyuju", "--policies", str(root),
             cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        "calsync: error: bad.csv, row 2, column 科室/股室: '财务股' is not a section of 县教育局 "
        "(use one of: 办公室, 教育股, 人事股, 教育督导室; or add [sections.…] to directory.toml)",
        "calsync: error: bad.csv, row 2, column 手机号码: '139' is not a phone number (write one "
        "mobile number of 11 digits, e.g. 13800138000)"]


def test_the_organization_must_be_named_and_shipped_policies_are_not_written(
        tmp_path: Path) -> None:
    sheet = _sheet(tmp_path)
    r = _run("directory", "import", str(sheet), cwd=tmp_path)
    assert r.returncode == 2
    assert "pass --org ID (one of guanliban, jiaoyuju)" in r.stderr
    r = _run("directory", "import", str(sheet), "--org", "jiaoyuju", "--apply", cwd=tmp_path)
    assert r.returncode == 2 and "the shipped policies are not edited" in r.stderr
