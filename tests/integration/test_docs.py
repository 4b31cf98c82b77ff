"""The documentation: docs/ builds with `mkdocs build --strict` (every link and anchor resolves,
every page is in the nav), the README stays short and keeps the two set-up commands, and the
code paths the pages name exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# a path into the repository as the pages write it: `calsync/sync/plan.py`, `tests/web/`
REPO_PATH = re.compile(r"(?<![\w/.-])((?:calsync|web|tests|bench|scripts)/[\w/.-]*\w/?)")
SETUP_COMMANDS = "```sh\npip install . && calsync serve\nscripts/test\n```"


def _nav_files(entries: list) -> list[str]:
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            found += _nav_files(value)
        else:
            found.append(value)
    return found


def test_the_docs_build_strict(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"),
         "-d", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_readme_is_short_and_keeps_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "## Set up on a fresh machine" in readme
    assert SETUP_COMMANDS in readme


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_files(config["nav"])
    docs = REPO / config.get("docs_dir", "docs")
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    assert sorted(nav) == pages


def test_the_code_paths_the_docs_name_exist() -> None:
    """A page that names a file of the repository (`calsync/…`, `web/…`, `tests/…`, `bench/…`,
    `scripts/…`) follows it when it moves."""
    missing = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for match in REPO_PATH.finditer(text):
            path = match.group(1)
            if path.startswith(("calsync/guanliban", "calsync/instance")):
                continue  # a CalDAV collection or a folder in an example, not code
            if not (REPO / path).exists():
                missing.append(f"{page.name}: {path}")
    assert missing == []
