"""Shared fixtures. Server, database and app fixtures live in tests/support/*_fixtures.py."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

# The layers: each folder of tests/ is one, and its tests carry its marker. `pytest -m unit`
# (scripts/test -m unit) needs only calsync's own dependencies and pytest: hypothesis and
# aiosmtpd are test extras, so what needs them loads only when they are installed.
LAYERS = ("unit", "properties", "store", "web", "integration", "browser")
HERE = Path(__file__).resolve().parent

if importlib.util.find_spec("hypothesis") is not None:
    from hypothesis import settings

    # CI draws the same examples on every run (hypothesis' advice for CI): whether a
    # submission lands must not depend on a random draw. On a developer's machine every run
    # draws anew, so the properties keep exploring; a case found there becomes an @example.
    settings.register_profile("calsync-ci", derandomize=True, database=None)
    if os.environ.get("CI"):
        settings.load_profile("calsync-ci")

pytest_plugins = [
    "tests.support.server_fixtures",
    "tests.support.db_fixtures",
    "tests.support.web_fixtures",
    *(["tests.support.smtp_fixtures"] if importlib.util.find_spec("aiosmtpd") else []),
]


@pytest.fixture(scope="module")
def policies_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped policies with 主任办公会 confidential, one copy per test file (a file that
    needs other policies defines its own ``policies_dir``)."""
    from tests.support.webapp import confidential_policies

    return confidential_policies(tmp_path_factory.mktemp("policies"))


def _layer(path: Path) -> str | None:
    """The layer folder ``path`` lies in, if any."""
    try:
        first = path.resolve().relative_to(HERE).parts[0]
    except (ValueError, IndexError):
        return None
    return first if first in LAYERS else None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``-m <layer>`` alone does not import the other layers' files (nor what they import)."""
    wanted = (config.option.markexpr or "").strip()
    if wanted in LAYERS and collection_path.is_dir():
        layer = _layer(collection_path)
        if layer is not None and layer != wanted:
            return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder's layer (before ``-m`` selects)."""
    for item in items:
        layer = _layer(item.path)
        if layer is not None:
            item.add_marker(layer)


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch,
                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's instance folder, database or CalDAV settings."""
    for name in ("CALSYNC_DATABASE_URL", "CALSYNC_CALDAV_URL", "CALSYNC_CALDAV_USERNAME",
                 "CALSYNC_CALDAV_PASSWORD", "CALSYNC_POLICIES", "CALSYNC_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path_factory.mktemp("instance")))
