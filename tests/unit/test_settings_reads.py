"""Every ``CALSYNC_*`` environment variable is read in one place, calsync/settings.py: no module
of calsync/ or web/ reads one from ``os.environ`` (or an ``environ``/``env`` mapping) itself.
And every ``CALSYNC_*`` name the code mentions is a setting or a documented app-config key."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from calsync.settings import APP_CONFIG_KEYS, SETTINGS

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for package in ("calsync", "web") for p in sorted((REPO / package).rglob("*.py"))
           if p != REPO / "calsync" / "settings.py"]
ENV_NAMES = ("environ", "env")


def _calsync_constants() -> dict[str, str]:
    """Module-level ``NAME = "CALSYNC_..."`` of every module, settings.py included (they are
    imported across), and aliases of them (``ENV_URL = ENV_DATABASE_URL``)."""
    found: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for path in [*SOURCES, REPO / "calsync" / "settings.py"]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.Assign):
                continue
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if isinstance(node.value, ast.Name):
                aliases.update(dict.fromkeys(names, node.value.id))
            elif (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                    and node.value.value.startswith("CALSYNC_")):
                found.update(dict.fromkeys(names, node.value.value))
    found.update({alias: found[name] for alias, name in aliases.items() if name in found})
    return found


def _is_environ(node: ast.expr) -> bool:
    """``os.environ``, ``environ``, ``env``, ``x.environ`` or a choice between them."""
    if isinstance(node, ast.IfExp):
        return _is_environ(node.body) or _is_environ(node.orelse)
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in ENV_NAMES


def _name(node: ast.expr, constants: dict[str, str]) -> str | None:
    value = (node.value if isinstance(node, ast.Constant) else
             constants.get(node.id) if isinstance(node, ast.Name) else None)
    if isinstance(value, str) and value.startswith("CALSYNC_"):
        return value
    return None


def _environment_reads(tree: ast.AST, constants: dict[str, str]) -> list[tuple[int, str]]:
    reads = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "getenv" or (name == "get" and _is_environ(func.value)):
                key = node.args[0]
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
              and _is_environ(node.value)):
            key = node.slice
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1
              and isinstance(node.ops[0], ast.In | ast.NotIn)
              and _is_environ(node.comparators[0])):
            key = node.left
        name = _name(key, constants) if key is not None else None
        if name is not None:
            reads.append((node.lineno, name))
    return reads


def test_no_module_reads_a_calsync_variable_but_settings() -> None:
    constants = _calsync_constants()
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{path.relative_to(REPO)}:{line} reads {name}"
                  for line, name in _environment_reads(tree, constants)]
    assert found == []


def test_the_scan_sees_the_ways_a_variable_is_read() -> None:
    """The scanner itself: each spelling of a read is caught, a config key is not."""
    source = '''
import os
ENV_X = "CALSYNC_X"
a = os.environ.get("CALSYNC_A")
b = os.environ["CALSYNC_B"]
c = os.getenv(ENV_X)
d = (os.environ if e is None else e).get("CALSYNC_D")
f = environ.get("CALSYNC_F", "")
g = "CALSYNC_G" in os.environ
h = app.config.get("CALSYNC_H")
os.environ["CALSYNC_I"] = "written, not read"
'''
    reads = _environment_reads(ast.parse(source), {"ENV_X": "CALSYNC_X"})
    assert [name for _, name in reads] == ["CALSYNC_A", "CALSYNC_B", "CALSYNC_X", "CALSYNC_D",
                                           "CALSYNC_F", "CALSYNC_G"]


def test_every_calsync_name_in_the_code_is_a_setting_or_an_app_config_key() -> None:
    """A new ``CALSYNC_*`` variable cannot be read without a line on docs/configuration.md."""
    known = {s.env for s in SETTINGS} | {k.key for k in APP_CONFIG_KEYS}
    unknown = {}
    for path in SOURCES + sorted((REPO / "web" / "templates").rglob("*.html")):
        for name in re.findall(r"CALSYNC_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")):
            if name not in known:
                unknown.setdefault(name, str(path.relative_to(REPO)))
    assert unknown == {}
