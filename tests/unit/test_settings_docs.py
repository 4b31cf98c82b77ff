"""docs/configuration.md is generated from calsync/settings.py and committed: the page must be
what the generator writes now (regenerate it with
``python3 -m calsync.settings --markdown > docs/configuration.md``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from calsync import settings

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "configuration.md"


def test_the_committed_page_is_the_generators_output() -> None:
    assert PAGE.read_text(encoding="utf-8") == settings.markdown(), (
        "docs/configuration.md is stale: run "
        "python3 -m calsync.settings --markdown > docs/configuration.md")


def test_the_generator_runs_as_a_command() -> None:
    run = subprocess.run([sys.executable, "-m", "calsync.settings", "--markdown"],
                         capture_output=True, text=True, cwd=REPO, check=True)
    assert run.stdout == settings.markdown()
    wrong = subprocess.run([sys.executable, "-m", "calsync.settings"],
                           capture_output=True, text=True, cwd=REPO)
    assert wrong.returncode == 2 and "--markdown" in wrong.stderr


def test_the_page_lists_every_setting_its_option_and_every_path() -> None:
    page = settings.markdown()
    for s in settings.SETTINGS:
        row = next(line for line in page.splitlines() if line.startswith(f"| `{s.env}` |"))
        assert s.help.replace("|", "\\|") in row
        if s.option:
            assert s.option in row
    for p in settings.PATHS:
        assert p.where in page
    for name, _ in settings.DEVELOPMENT_VARIABLES:
        assert f"| `{name}` |" in page


def test_the_development_variables_are_read_by_the_tests_or_scripts() -> None:
    """Listed on the page's development section, and there only: calsync never reads them
    (tests/unit/test_settings_reads.py), the tests or scripts/test do."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "tests").rglob("*.py"))]
    texts.append((REPO / "scripts" / "test").read_text(encoding="utf-8"))
    for name, _ in settings.DEVELOPMENT_VARIABLES:
        if name != "CI":
            assert any(name in text for text in texts), name
