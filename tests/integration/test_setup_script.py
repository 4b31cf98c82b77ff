"""scripts/test (the README's second command) requires what it needs: without Chromium and
without a way to install it, it stops with one line saying how, before running anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_missing_chromium_is_one_line_naming_the_install(tmp_path: Path) -> None:
    # Not root: a stub `id` answers as an ordinary user, so apt-get is not an option.
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "id").write_text("#!/bin/sh\necho 1000\n", "utf-8")
    (stub / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}",
           "CALSYNC_TEST_CHROMIUM": str(tmp_path / "no-chromium")}
    done = subprocess.run(["bash", str(REPO / "scripts" / "test"), "--collect-only", "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "apt-get install chromium" in lines[0] and str(tmp_path / "no-chromium") in lines[0]
    assert done.stdout == ""  # nothing ran: no install, no pytest


def test_unit_tests_need_no_chromium_and_run_only_tests_unit(tmp_path: Path) -> None:
    # `scripts/test -m unit`: the pure tests, without Chromium (as an ordinary user who could
    # not install it) and without the test extras; the other layers are not even collected.
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "id").write_text("#!/bin/sh\necho 1000\n", "utf-8")
    (stub / "id").chmod(0o755)
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}",
           "CALSYNC_TEST_CHROMIUM": str(tmp_path / "no-chromium")}
    done = subprocess.run(["bash", str(REPO / "scripts" / "test"), "-m", "unit",
                           "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "chromium" not in done.stderr.lower()
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert ids and all(line.startswith("tests/unit/") for line in ids), ids[:5]
    assert "tests/unit/test_test_layout.py::test_each_test_file_lives_in_a_layer_folder" in ids
