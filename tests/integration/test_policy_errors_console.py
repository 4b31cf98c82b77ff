"""`python -m calsync.cli validate` on a broken policy, as a shell runs it: one problem line on
stderr, exit 2, no traceback (the in-process cases are tests/unit/test_policy_errors.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_policy_errors import (
    GLB_MEET,
    ZL0,
    _assert_problem_line,
    _copy_policies,
    setting,
)


def test_console_path_has_no_traceback(tmp_path: Path) -> None:
    root = _copy_policies(tmp_path)
    case = setting(GLB_MEET, f"{ZL0}.time", "25:00", "not a time")
    case.edit(root)
    env = {k: v for k, v in os.environ.items() if k != "CALSYNC_POLICIES"}
    proc = subprocess.run(
        [sys.executable, "-m", "calsync.cli", "validate", "--policies", str(root)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    _assert_problem_line(lines, root / case.file, case.key, case.says)
    assert lines == [
        f"{root / GLB_MEET}: {ZL0}.time: '25:00' is not a time "
        '(write HH:MM in 24-hour form, e.g. "09:30")'
    ]
