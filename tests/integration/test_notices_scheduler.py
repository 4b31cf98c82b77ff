"""The scheduler sends notices after publishing (real Radicale, real SMTP server), and only
when enabled: CALSYNC_SMTP_URL set, or CALSYNC_NOTICES=1; CALSYNC_NOTICES=0 wins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from calsync.app.notices_auto import enabled
from calsync.app.scheduler import Scheduler
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import open_store
from calsync.sync.client import Target
from tests.support.servers import ServerHandle
from tests.support.smtp_fixtures import SmtpServer
from tests.support.web_fixtures import empty_home

NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)
ZRB = "zhurenbangong@guanliban.calsync"


@pytest.mark.parametrize(("env", "on"), [
    ({}, False),
    ({"CALSYNC_SMTP_URL": "smtp://mail:25"}, True),
    ({"CALSYNC_NOTICES": "1"}, True),
    ({"CALSYNC_SMTP_URL": "smtp://mail:25", "CALSYNC_NOTICES": "0"}, False),
    ({"CALSYNC_NOTICES": "off"}, False),
])
def test_when_the_scheduler_sends_notices(env: dict[str, str], on: bool) -> None:
    assert enabled(env) is on


def test_the_scheduler_notifies_after_publishing(
        radicale_server: ServerHandle, sqlite_url: str, smtp_server: SmtpServer,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CALSYNC_SMTP_URL", smtp_server.url())
    target = Target(empty_home(radicale_server), radicale_server.username,
                    radicale_server.password, 30)
    delivered = smtp_server.recorder.delivered
    with open_store(sqlite_url) as store:
        scheduler = Scheduler(load_policies(), store, target, orgs=["guanliban"],
                              interval=3600, instance_dir=tmp_path, clock=lambda: NOW)
        assert scheduler.run_cycle() == {"guanliban": "published"}
        sent = len(delivered)
        assert sent > 0 and sent == len(store.notices.outbox(["guanliban"], status="sent"))
        assert scheduler.run_cycle() == {"guanliban": "published"}
        assert len(delivered) == sent               # nothing twice
        store.decisions.add_decision("guanliban", ZRB, dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ),
                                     "cancel",
                                     actor="t", source="cli")
        monkeypatch.setenv("CALSYNC_NOTICES", "0")
        scheduler.run_cycle()
        assert len(delivered) == sent and not store.notices.outbox(["guanliban"], status="queued")
        monkeypatch.delenv("CALSYNC_NOTICES")
        scheduler.run_cycle()
        cancels = delivered[sent:]
        assert cancels and all(b"method=\"CANCEL\"" in d.data for d in cancels)
