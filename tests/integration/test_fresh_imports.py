"""Every calsync module imports on its own, first, in a fresh interpreter (issue 21 item 1):
one forked child per module, after the parent has loaded the third-party libraries. The
import-graph checks that need no process are in tests/unit/test_layers.py."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.test_layers import ROOT


def _third_party() -> list[str]:
    """Every module outside calsync that importing all of calsync loads (in a throw-away
    interpreter): the parent imports them once before forking, so each child runs only
    calsync's own imports, in its own order."""
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests' / 'unit')!r})\n"
        "import test_layers as t\n"
        "for n in t._module_names():\n"
        "    importlib.import_module(n)\n"
        "print(' '.join(m for m in sys.modules if not m.startswith(('calsync', 'test_layers',\n"
        "      'import_graph', '__main__'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return out.stdout.split()


def test_every_module_imports_first_in_a_fresh_interpreter() -> None:
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests' / 'unit')!r})\n"
        "import test_layers as t\n"
        "assert not [m for m in sys.modules if m.startswith('calsync')]\n"
        f"for m in {_third_party()!r}:\n"
        "    try:\n"
        "        importlib.import_module(m)\n"
        "    except Exception:\n"
        "        pass  # a private submodule that only loads beside its package\n"
        "bad = t.import_each_alone(t._module_names())\n"
        "print(repr(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    failures = eval(out.stdout.strip().splitlines()[-1])  # our own repr
    assert failures == {}
