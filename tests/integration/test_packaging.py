"""`pip install .` (not -e) gives a working calsync: the wheel carries the policies, the web
package and the console script, and the installed command finds the policies inside itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Left out of the clean copy: caches anywhere, build output and local state at the top.
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
TOP_JUNK = {
    "build",
    "dist",
    ".git",
    ".venv",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "out",
    "instance",
    "test-artifacts",
}
MARK = "（已安装）"  # appended to an organization's name in the installed copy only


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CALSYNC_POLICIES", "PYTHONPATH", "PYTHONHOME")
    }
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = TOP_JUNK & set(names) if Path(folder) == REPO else set()
    return set(JUNK(folder, names)) | top


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("packaging")
    src, out = tmp / "src", tmp / "wheels"
    shutil.copytree(REPO, src, ignore=_ignore)
    cmd = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(out)]
    built = _run([*cmd, "--no-build-isolation"], cwd=src)
    if built.returncode != 0:  # e.g. the installed setuptools is older than build-system wants
        built = _run(cmd, cwd=src)
    assert built.returncode == 0, built.stdout + built.stderr
    (found,) = out.glob("calsync-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv") / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)],
                cwd=env_dir.parent)
    assert made.returncode == 0, made.stderr
    python = env_dir / "bin" / "python"
    # The dependencies come from the environment running the tests (a fresh venv holds them;
    # the base interpreter behind it need not): its site directories, appended after the new
    # venv's own. A plain path in a .pth file does not run that folder's own .pth files, so
    # an editable calsync installed there stays invisible.
    (_purelib(env_dir) / "calsync_test_deps.pth").write_text(
        "".join(f"{p}\n" for p in _dependency_dirs()), "utf-8")
    installed = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        cwd=env_dir.parent,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


def _dependency_dirs() -> list[str]:
    """The running interpreter's site-packages folders (its venv's, and the base's when that
    venv includes them), never the source tree."""
    return [p for p in sys.path
            if p.rstrip("/").endswith(("site-packages", "dist-packages")) and Path(p).is_dir()
            and not Path(p).resolve().is_relative_to(REPO)]


def _purelib(env_dir: Path) -> Path:
    return Path(
        sysconfig.get_path(
            "purelib", scheme="venv", vars={"base": str(env_dir), "platbase": str(env_dir)}
        )
    )


def test_wheel_ships_policies_web_and_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    for org in ("guanliban", "jiaoyuju"):
        for part in ("organization", "directory", "meetings"):
            assert f"calsync/policies/{org}/{part}.toml" in names
    for year in (2024, 2025, 2026):
        assert f"calsync/policies/holidays/{year}.toml" in names
    assert "calsync/web/__init__.py" in names
    assert {"calsync/cli/__init__.py", "calsync/cli/__main__.py", "calsync/cli/sync.py"} <= names
    for package in ("meetings", "directory", "calendar", "notices", "policy", "store", "sync"):
        assert f"calsync/{package}/__init__.py" in names, package
    assert "[console_scripts]" in entry_points
    assert "calsync = calsync.cli:main" in entry_points.splitlines()
    top = {name.split("/")[0] for name in names}
    assert top == {"calsync", info}, top
    assert not {"web", "policies", "tests"} & top


def test_wheel_ships_every_module_of_the_source(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    source = REPO / "calsync"
    wanted = {
        f"calsync/{p.relative_to(source).as_posix()}"
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert "calsync/policy/organizations.py" in wanted
    assert sorted(wanted - names) == []


def test_installed_command_uses_the_installed_policies(venv: Path, tmp_path: Path) -> None:
    installed = _purelib(venv) / "calsync" / "policies"
    org_file = installed / "guanliban" / "organization.toml"
    text = org_file.read_text("utf-8")
    assert text.count('name = "市行政服务中心管理办"') == 1
    org_file.write_text(
        text.replace('name = "市行政服务中心管理办"', f'name = "市行政服务中心管理办{MARK}"'),
        "utf-8",
    )
    calsync = venv / "bin" / "calsync"

    checked = _run([str(calsync), "validate"], cwd=tmp_path)
    assert "Traceback" not in checked.stderr
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[0].startswith(f"guanliban: ok — 市行政服务中心管理办{MARK}: "), lines
    assert lines[1].startswith("jiaoyuju: ok — 县教育局: "), lines
    assert lines[2] == "holidays: 2024, 2025, 2026"

    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from calsync.policy import shipped_policies; print(shipped_policies())",
        ],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve() == installed.resolve()

    listed = _run(
        [
            str(calsync),
            "occurrences",
            "--start",
            "2026-02-23",
            "--end",
            "2026-02-27",
            "--format",
            "json",
        ],
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    weekly = [
        o
        for o in json.loads(listed.stdout)
        if o["organization"] == "guanliban" and o["summary"] == "周例会"
    ]
    # 2026-02-23 is the last day of the Spring Festival holiday: the Monday meeting moves on.
    assert [o["start"][:10] for o in weekly] == ["2026-02-24"], weekly


def test_installed_command_runs_only_installed_code(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import json, sys\n"
        "from calsync.cli import main\n"
        "code = main(['occurrences', '--start', '2026-02-23', '--end', '2026-02-27',"
        " '--format', 'json'])\n"
        "files = {n: getattr(m, '__file__', None) for n, m in sys.modules.items()"
        " if n == 'calsync' or n.startswith('calsync.')}\n"
        "print(json.dumps({'code': code, 'files': files}), file=sys.stderr)\n"
    )
    ran = _run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path)
    report = json.loads(ran.stderr.strip().splitlines()[-1])
    assert report["code"] == 0
    site = str(_purelib(venv).resolve())
    outside = {
        n: f
        for n, f in report["files"].items()
        if f is not None and not str(Path(f).resolve()).startswith(site)
    }
    assert "calsync.policy" in report["files"]
    assert outside == {}
