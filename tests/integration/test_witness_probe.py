"""The publish witness' two probes, each where it belongs: the server's sync token asked with
one PROPFIND (calsync.sync.witness) and the store read with sqlite3 (calsync.store.witness),
both without loading the engine (behaviour, not timing: what a fresh interpreter imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from calsync.sync.client import CalDAVClient, Target
from calsync.sync.witness import sync_token
from tests.integration.test_cli_lazy import HEAVY
from tests.integration.test_cli_publish import HORIZON, home  # noqa: F401
from tests.integration.test_publish_witness import WITNESSED, publish, via  # noqa: F401
from tests.support.servers import ServerHandle, free_port

EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
         b"UID:probe@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T010000Z\r\n"
         b"DTEND:20260302T020000Z\r\nSUMMARY:probe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def token(server: ServerHandle, url: str, password: str | None = None) -> str | None:
    return sync_token(url, server.username, password or server.password, 10.0)


def test_the_token_is_the_one_a_sync_report_starts_from(caldav_server: ServerHandle,
                                                        calendar: str) -> None:
    target = Target(caldav_server.calendar_home_url, caldav_server.username,
                    caldav_server.password, timeout=10.0)
    with CalDAVClient(target) as dav:
        first = dav.sync_collection(calendar, None)
        assert first is not None and first[2]
        assert token(caldav_server, calendar) == first[2]
        assert dav.put(urlsplit(calendar).path + "probe.ics", EVENT, None).status < 300
        after = dav.sync_collection(calendar, first[2])
    assert after is not None and after[2] not in (None, first[2])
    assert token(caldav_server, calendar) == after[2]


def test_no_collection_or_no_server_is_no_token(caldav_server: ServerHandle) -> None:
    assert token(caldav_server, caldav_server.new_calendar_url()) is None
    assert token(caldav_server, f"http://127.0.0.1:{free_port()}/nobody/") is None


@pytest.mark.parametrize("caldav_server", ["radicale"], indirect=True)  # Xandikos: no accounts
def test_a_refused_login_is_no_token(caldav_server: ServerHandle, calendar: str) -> None:
    assert token(caldav_server, calendar) is not None
    assert token(caldav_server, calendar, password="wrong") is None


def _heavy_after(code: str) -> list[str]:
    code += f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_probes_load_no_heavy_library() -> None:
    assert _heavy_after("import calsync.store.witness, calsync.sync.witness\n"
                        "import calsync.cli.publish_witness") == []


def test_a_witnessed_noop_loads_no_heavy_library(capsys, caldav_server, sqlite_url,
                                                 via, fault_proxy) -> None:  # noqa: F811
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)  # settled: writes the witness
    fault_proxy.reset_counts()
    argv = ["publish", "--username", caldav_server.username or "",
            "--password", caldav_server.password or "", "--database-url", sqlite_url,
            "--caldav-url", via, *HORIZON]
    if not caldav_server.username:
        argv = argv[:1] + argv[5:]
    assert _heavy_after(f"from calsync.cli import main\nassert main({argv!r}) == 0") == []
    assert dict(fault_proxy.counts) == WITNESSED
