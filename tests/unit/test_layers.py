"""The layout holds (issue 21): imports run down the layers and the import-graph targets in
docs/architecture.md are met. That every module imports on its own, first, in a fresh
interpreter is tests/integration/test_fresh_imports.py (it forks a child per module, with the
helpers below)."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import import_graph  # noqa: E402

pytestmark = pytest.mark.unit


def _module_names() -> list[str]:
    names = []
    for name in import_graph.modules():
        if name.endswith("__main__"):  # runs the CLI: importing it is running it
            continue
        names.append("calsync.web" + name[3:] if name.startswith("web") else name)
    return sorted(names)


def _start(name: str) -> tuple[int, int]:
    """Import ``name`` first in a forked child that has imported no calsync module."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one import, then report and leave without cleanup
        os.close(read)
        message = b""
        try:
            importlib.import_module(name)
        except BaseException as exc:  # report anything: the parent asserts
            message = f"{type(exc).__name__}: {exc}".encode()
        os.write(write, message)
        os._exit(0)
    os.close(write)
    return pid, read


def _finish(pid: int, read: int) -> str | None:
    with os.fdopen(read, "rb") as pipe:
        out = pipe.read().decode()
    os.waitpid(pid, 0)
    return out or None


def import_each_alone(names: list[str]) -> dict[str, str]:
    """{module: error} of the modules that fail to import first; a child per module, as many
    at a time as there are cores."""
    failures: dict[str, str] = {}
    running: list[tuple[str, int, int]] = []
    for name in [*names, None]:
        while running and (name is None or len(running) >= (os.cpu_count() or 2)):
            done, pid, read = running.pop(0)
            if (error := _finish(pid, read)) is not None:
                failures[done] = error
        if name is not None:
            running.append((name, *_start(name)))
    return failures


def test_the_module_list_covers_the_packages() -> None:
    names = _module_names()
    assert "calsync.access" in names and "calsync.web.clashes" in names
    assert len(names) > 150


def test_imports_run_down_the_layers_without_cycles() -> None:
    m = import_graph.measure()
    assert m["cycles"] == []
    assert m["unlayered units"] == []
    assert len(m["upward"]) <= 6, m["upward"]


def test_few_flat_modules_and_few_imports_inside_functions() -> None:
    m = import_graph.measure()
    assert len(m["flat modules"]) <= import_graph.FLAT_ALLOWED, m["flat modules"]
    assert len(m["inside functions"]) <= 20, m["inside functions"]
