"""calsync/ type-checks: `python3 -m mypy` from the repository root, with the configuration in
pyproject.toml ([tool.mypy]: files, the third-party modules without types, warn_unused_ignores),
exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_mypy_passes_on_calsync(tmp_path: Path) -> None:
    # A cache of its own: a run never reads a cache another checkout or mypy version wrote.
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy_cache")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
