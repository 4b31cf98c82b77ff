"""Shared fixtures. Server, database and app fixtures live in tests/support/*_fixtures.py."""

from __future__ import annotations

import pytest

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
