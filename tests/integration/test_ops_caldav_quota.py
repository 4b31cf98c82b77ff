"""Issue 14: the embedded CalDAV server has a quota. Staff create no calendars and upload
nothing (their home is read-only); no request body above CALSYNC_CALDAV_MAX_BYTES (default
10 MB) is read, whoever sends it. A real embedded Radicale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from calsync.app.service import publish_orgs
from calsync.caldav_server.process import DEFAULT_MAX_BYTES, EmbeddedCalDAV, config_text
from calsync.meetings.accounts import hash_password, sync_directory
from calsync.policy import load_policies
from calsync.store import open_store
from tests.support.servers import free_port

PASSWORD = "quota-pw-1"
LIMIT = 1_000_000


def _event(size: int) -> bytes:
    head = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:big@x\r\n"
            b"DTSTAMP:20260101T000000Z\r\nDTSTART:20260301T010000Z\r\nSUMMARY:big\r\n")
    tail = b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    line = b"X-FILL:" + b"x" * 60 + b"\r\n"  # X- properties may repeat
    return head + line * ((size - len(head) - len(tail)) // len(line) + 1) + tail


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCalDAV]:
    mp = pytest.MonkeyPatch()
    mp.setenv("CALSYNC_CALDAV_MAX_BYTES", str(LIMIT))
    base = tmp_path_factory.mktemp("quota")
    policies = load_policies()
    store = open_store(None, base / "instance")
    sync_directory(store, policies, actor="test")
    store.users.set_password("qian_keyuan", hash_password(PASSWORD), actor="test")
    orgs = sorted(policies.organizations)
    server = EmbeddedCalDAV(base / "instance", "127.0.0.1", free_port(),
                            store.engine.url.render_as_string(hide_password=False), orgs)
    server.start()
    try:
        _, result = publish_orgs(policies, store, server.target(), orgs,
                                 dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        result.raise_first_error()  # calsync's own publishing stays well under the limit
        server.grant(result.specs, orgs, {o.id: [p.id for p in o.staff]
                                          for o in policies.organizations.values()})
        yield server
    finally:
        server.stop()
        store.close()
        mp.undo()


def test_staff_create_no_calendar_and_upload_nothing(dav: EmbeddedCalDAV) -> None:
    root = f"http://127.0.0.1:{dav.port}/"
    me = ("qian_keyuan", PASSWORD)
    for method, url in (("MKCALENDAR", f"{root}qian_keyuan/mine/"),
                        ("MKCOL", f"{root}qian_keyuan/mine2/"),
                        ("MKCALENDAR", f"{root}calsync/mine/")):
        r = requests.request(method, url, auth=me, timeout=30)
        assert r.status_code in (401, 403), (method, url, r.status_code)
    big = _event(6_800_000)  # the 6.8 MB of the issue
    for url in (f"{root}qian_keyuan/big.ics", f"{root}qian_keyuan/guanliban/big.ics",
                f"{root}calsync/guanliban/big.ics"):
        r = requests.put(url, data=big, auth=me, timeout=60,
                         headers={"Content-Type": "text/calendar"})
        assert r.status_code in (401, 403, 413), (url, r.status_code)
    r = requests.request("PROPFIND", f"{root}qian_keyuan/", auth=me, timeout=30,
                         headers={"Depth": "1"})
    assert r.status_code == 207 and b"mine" not in r.content and b"big.ics" not in r.content


def test_no_body_above_the_limit_is_read_even_from_the_service(dav: EmbeddedCalDAV) -> None:
    target = dav.target()
    auth = (target.username, target.password)
    url = f"http://127.0.0.1:{dav.port}/calsync/guanliban/huge.ics"
    r = requests.put(url, data=_event(LIMIT + 10_000), auth=auth, timeout=60,
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 413
    assert requests.get(url, auth=auth, timeout=30).status_code == 404
    small = requests.put(url, data=_event(LIMIT // 2), auth=auth, timeout=60,
                         headers={"Content-Type": "text/calendar"})
    assert small.status_code in (201, 204)
    assert requests.delete(url, auth=auth, timeout=30).status_code in (200, 204)


def test_the_default_limit_is_in_the_config(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.delenv("CALSYNC_CALDAV_MAX_BYTES", raising=False)
    assert f"max_content_length = {DEFAULT_MAX_BYTES}\n" in config_text("127.0.0.1", 1, tmp_path)
