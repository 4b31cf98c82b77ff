"""Measure calsync's import structure from its own source (no third-party tool).

Prints the units, the import arrows between them, arrows that run up the layers, cycles,
imports made inside functions, and the modules left flat in calsync/.  ``--check`` exits
non-zero when the targets in docs/architecture.md are missed; a unit test runs it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("calsync", "web")

# Layers from the ground up: a unit may import its own layer and the ones below.
LAYERS: list[tuple[str, ...]] = [
    ("calsync.errors", "calsync.settings", "calsync.occurrence"),
    ("calsync.calendar",),
    ("calsync.policy",),
    ("calsync.meetings", "calsync.directory", "calsync.access"),
    ("calsync.ical",),
    ("calsync.store", "calsync.sync", "calsync.notices"),
    ("calsync.app", "calsync.caldav_server"),
    ("calsync.cli", "web"),
]
FLAT_ALLOWED = 5


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def unit_of(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "web":
        return "web"
    return ".".join(parts[:2])


def layer_of(unit: str) -> int | None:
    for index, members in enumerate(LAYERS):
        if unit in members:
            return index
    return None


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str, path: Path, known: dict[str, Path]):
    """Yield (target module, line, inside_function) for each import of our own code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    func_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    func_lines.add(inner.lineno)
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    type_checking.add(inner.lineno)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node, is_package)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                     for alias in node.names]
        else:
            continue
        if node.lineno in type_checking:
            continue
        for name in names:
            if name == "calsync.web" or name.startswith("calsync.web."):
                name = name[len("calsync."):]  # web/ ships as calsync.web
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name, node.lineno, node.lineno in func_lines


def measure() -> dict:
    known = modules()
    arrows: set[tuple[str, str]] = set()
    unit_arrows: set[tuple[str, str]] = set()
    inside: list[str] = []
    for module, path in known.items():
        for target, line, in_function in imports(module, path, known):
            if in_function:
                inside.append(f"{path.relative_to(ROOT)}:{line} -> {target}")
                continue
            arrows.add((module, target))
            a, b = unit_of(module), unit_of(target)
            if a != b:
                unit_arrows.add((a, b))
    upward = sorted(
        (a, b) for a, b in unit_arrows
        if layer_of(a) is not None and layer_of(b) is not None and layer_of(b) > layer_of(a)
    )
    unlayered = sorted({u for pair in unit_arrows for u in pair if layer_of(u) is None})
    cycles = _cycles(arrows)
    flat = sorted(m for m, p in known.items()
                  if m.startswith("calsync.") and m.count(".") == 1 and p.name != "__init__.py"
                  and m != "calsync.__main__")
    units = sorted({unit_of(m) for m in known})
    return {
        "modules": len(known), "units": len(units), "module arrows": len(arrows),
        "unit arrows": len(unit_arrows), "upward": [f"{a} -> {b}" for a, b in upward],
        "unlayered units": unlayered, "cycles": cycles, "inside functions": inside,
        "flat modules": flat,
        "readme lines": len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()),
    }


def _cycles(arrows: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for a, b in arrows:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print every list in full")
    parser.add_argument("--check", action="store_true", help="fail when a target is missed")
    args = parser.parse_args(argv)
    m = measure()
    if args.json:
        print(json.dumps(m, indent=2, ensure_ascii=False))
    else:
        for key, value in m.items():
            shown = len(value) if isinstance(value, list) else value
            print(f"{key}: {shown}")
    if args.check:
        problems = []
        if m["cycles"]:
            problems.append(f"import cycles: {m['cycles']}")
        if len(m["upward"]) > 6:
            problems.append(f"{len(m['upward'])} upward arrows (at most 6): {m['upward']}")
        if len(m["flat modules"]) > FLAT_ALLOWED:
            problems.append(f"flat modules {m['flat modules']} (at most {FLAT_ALLOWED})")
        if len(m["inside functions"]) > 20:
            problems.append(f"{len(m['inside functions'])} imports inside functions (at most 20)")
        if m["unlayered units"]:
            problems.append(f"units on no layer: {m['unlayered units']}")
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
