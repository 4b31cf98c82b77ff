"""The scheduler runs with the settings it is given (``calsync serve`` hands it its own):
notices written for want of SMTP land in that instance folder's outbox, not in the one the
variables name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calsync.app.scheduler import Scheduler
from calsync.occurrence import TZ
from calsync.policy import load
from calsync.settings import Settings
from calsync.store import open_store
from calsync.sync.client import Target

NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)


def test_the_schedulers_notices_go_to_the_outbox_of_its_settings(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `calsync serve --instance served` with CALSYNC_INSTANCE naming another folder
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path / "from-the-variable"))
    monkeypatch.delenv("CALSYNC_SMTP_URL", raising=False)
    settings = Settings.from_env(instance=tmp_path / "served", notices=True)
    with open_store(sqlite_url) as store:
        scheduler = Scheduler(load(), store, Target("http://127.0.0.1:9/"),
                              orgs=["guanliban"], interval=3600, clock=lambda: NOW,
                              settings=settings)
        assert scheduler.settings() is settings
        scheduler._notify("guanliban")   # what a cycle does after publishing
    assert list((tmp_path / "served" / "outbox").glob("*.eml"))
    assert not (tmp_path / "from-the-variable" / "outbox").exists()
