"""The tests are laid out by layer (issue 21 item 6): each test file lives in one layer folder,
each test carries its folder's marker and no other, ``-m <layer>`` does not even import the
other layers, and the unit tests need nothing beyond calsync's own dependencies and pytest."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from tests import conftest as layers

TESTS = Path(layers.__file__).resolve().parent
ROOT = TESTS.parent

# Import names of the test extras (pyproject.toml [project.optional-dependencies] test).
EXTRAS = {
    "pytest": None,  # the one extra the unit tests use
    "hypothesis": "hypothesis",
    "ical": "ical",
    "chinese-calendar": "chinese_calendar",
    "opencc": "opencc",
    "ruff": "ruff",
    "pytest-timeout": "pytest_timeout",
    "xandikos": "xandikos",
    "playwright": "playwright",
    "vdirsyncer": "vdirsyncer",
    "aiosmtpd": "aiosmtpd",
    "pytest-xdist": "xdist",
    "mkdocs": "mkdocs",
    "mypy": "mypy",
    "types-openpyxl": None,  # stubs: nothing to import
    "types-waitress": None,
}
# Fixtures that start a database, a server, an app or a browser (tests/support/*_fixtures.py).
HEAVY_FIXTURES = {"tests.support.db_fixtures", "tests.support.server_fixtures",
                  "tests.support.smtp_fixtures", "tests.support.web_fixtures"}


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "__pycache__" not in p.parts)


def _layer_of(path: Path) -> str:
    return path.resolve().relative_to(TESTS).parts[0]


def test_each_test_file_lives_in_a_layer_folder() -> None:
    files = _test_files()
    assert files
    assert [str(p.relative_to(TESTS)) for p in files if _layer_of(p) not in layers.LAYERS] == []
    for layer in layers.LAYERS:
        assert (TESTS / layer / "__init__.py").is_file(), layer
        assert (TESTS / layer / "conftest.py").is_file(), layer


def test_the_layers_are_the_registered_markers() -> None:
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["pytest"]
    registered = {m.split(":", 1)[0] for m in ini["ini_options"]["markers"]}
    assert set(layers.LAYERS) <= registered


def test_every_collected_test_carries_its_folders_marker_only(request: pytest.FixtureRequest
                                                              ) -> None:
    items = request.session.items
    assert any(item.path.resolve() == Path(__file__).resolve() for item in items)
    wrong = []
    for item in items:
        layer = _layer_of(item.path)
        marks = {m.name for m in item.iter_markers()} & set(layers.LAYERS)
        if marks != {layer}:
            wrong.append((item.nodeid, sorted(marks)))
    assert wrong == []


def test_no_unit_test_uses_a_database_server_app_or_browser_fixture(
        request: pytest.FixtureRequest) -> None:
    heavy = []
    for item in request.session.items:
        if _layer_of(item.path) != "unit":
            continue
        info = getattr(item, "_fixtureinfo", None)
        for name, defs in (info.name2fixturedefs.items() if info else ()):
            if defs and defs[-1].func.__module__ in HEAVY_FIXTURES:
                heavy.append((item.nodeid, name))
    assert heavy == []


def test_selecting_one_layer_skips_the_other_folders(request: pytest.FixtureRequest,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = request.config
    monkeypatch.setattr(config.option, "markexpr", "unit")
    ignored = {p.name for p in TESTS.iterdir() if p.is_dir()
               and layers.pytest_ignore_collect(p, config)}
    assert ignored == set(layers.LAYERS) - {"unit"}
    monkeypatch.setattr(config.option, "markexpr", "unit or store")  # not one layer: all
    assert not any(layers.pytest_ignore_collect(TESTS / name, config) for name in layers.LAYERS)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            if node.module.startswith("tests"):  # `from tests.support import x`: x may be a module
                names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_unit_tests_import_no_test_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))[
        "project"]["optional-dependencies"]["test"]
    dists = {e.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
             for e in extras}
    assert dists <= set(EXTRAS), "a new test extra: add its import name to EXTRAS"
    banned = {name for name in EXTRAS.values() if name}
    seen: set[Path] = set()
    todo = sorted((TESTS / "unit").glob("*.py"))  # (tests/conftest.py imports hypothesis if there)
    found = []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            if name.split(".")[0] in banned:
                found.append((str(path.relative_to(ROOT)), name))
            elif name.startswith("tests.") and not name.startswith("tests.conftest"):
                # a helper module: what it imports counts too
                module = ROOT.joinpath(*name.split("."))
                todo += [p for p in (module.with_suffix(".py"), module / "__init__.py")
                         if p.is_file()]
    assert found == []
