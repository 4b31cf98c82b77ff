"""Shared fixtures. Server, database and app fixtures live in tests/support/*_fixtures.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# CI draws the same examples on every run (hypothesis' advice for CI): whether a submission
# lands must not depend on a random draw. On a developer's machine every run draws anew, so
# the properties keep exploring; a case found there becomes an @example.
settings.register_profile("calsync-ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("calsync-ci")

pytest_plugins = [
    "tests.support.server_fixtures",
    "tests.support.db_fixtures",
    "tests.support.web_fixtures",
    "tests.support.smtp_fixtures",
]


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch,
                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's instance folder, database or CalDAV settings."""
    for name in ("CALSYNC_DATABASE_URL", "CALSYNC_CALDAV_URL", "CALSYNC_CALDAV_USERNAME",
                 "CALSYNC_CALDAV_PASSWORD", "CALSYNC_POLICIES", "CALSYNC_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path_factory.mktemp("instance")))
