"""`calsync --help` imports no heavy library (SQLAlchemy, the CalDAV client, Flask,
icalendar): it answers before they would even load. Behaviour, not timing: the modules a run
leaves in ``sys.modules``, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from calsync.cli import LAZY, build_parser

HEAVY = ("sqlalchemy", "caldav", "flask", "icalendar", "niquests", "radicale", "waitress")


def _imported_after(argv: list[str]) -> list[str]:
    code = ("import json, sys\n"
            "from calsync.cli import main\n"
            "try:\n"
            f"    main({argv!r})\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], [], ["validate"], ["holidays", "--help"]])
def test_help_and_light_commands_import_no_heavy_library(argv: list[str]) -> None:
    assert _imported_after(argv) == []


def test_a_command_loads_its_module() -> None:
    assert "sqlalchemy" in _imported_after(["clashes", "--help"])


def test_publish_parses_without_the_engine() -> None:
    """`calsync publish` reads its witness before it loads anything heavy
    (calsync.cli.publish_witness); its options come without the engine too."""
    assert _imported_after(["publish", "--help"]) == []


def test_the_lazy_help_is_the_full_help() -> None:
    assert build_parser("").format_help() == build_parser().format_help()


def test_the_table_names_what_each_module_registers() -> None:
    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "==SUPPRESS==" and a.choices)
    registered = list(sub.choices)
    listed = ["validate", "generate", "occurrences",
              *(name for _, names in LAZY for name, _ in names)]
    assert registered == listed


@pytest.mark.parametrize("command", [n for _, names in LAZY for n, _ in names])
def test_each_command_parses_with_only_its_module(command: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser(command).parse_args([command, "--help"])
    own = capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    assert own == capsys.readouterr().out and own.startswith(f"usage: calsync {command} ")
