"""Issue 14, item 8: the sync state is saved in batches, and a crash still never records a
write that did not land. A publish process killed (os._exit) mid-batch leaves write-ahead
marks; the next run confirms what landed without sending it again, creates the rest, and
opens no conflict. Real Radicale through the counting proxy, SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from calsync.ical.resources import Resource
from calsync.store import open_store
from calsync.sync.apply import BATCH
from calsync.sync.client import Target
from calsync.sync.publish import CollectionSpec, publish
from tests.support.faultproxy import FaultProxy
from tests.support.ops_support import members
from tests.support.servers import ServerHandle

N = BATCH + 8  # two batches
KILL_AFTER = 11  # actions done when the process dies (inside the first batch)

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync//test//EN\r\nBEGIN:VEVENT\r\n"
         "UID:b{i}@guanliban.calsync\r\nDTSTAMP:20261101T010000Z\r\n"
         "DTSTART:20260302T013000Z\r\nDTEND:20260302T023000Z\r\nSUMMARY:例会 {i}\r\n"
         "X-CALSYNC-ORG:guanliban\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

CHILD = """
import os, sys
from calsync.ical.resources import Resource
from calsync.store import open_store
from calsync.sync.client import Target
from calsync.sync.publish import CollectionSpec, publish
url, db, user, password, n, kill = sys.argv[1:7]
event = sys.argv[7]
res = tuple(Resource("guanliban", f"b{i}", f"b{i}@guanliban.calsync",
                     event.format(i=i).encode()) for i in range(int(n)))
spec = CollectionSpec("b", "b", ("guanliban",), res, url=url)
def progress(ev):
    if ev.done == int(kill):
        os._exit(9)  # killed: no flush, no cleanup
with open_store(db) as store:
    publish([spec], store, Target(url, user, password), progress=progress)
"""


def spec(url: str) -> CollectionSpec:
    res = tuple(Resource("guanliban", f"b{i}", f"b{i}@guanliban.calsync",
                         EVENT.format(i=i).encode()) for i in range(N))
    return CollectionSpec("b", "b", ("guanliban",), res, url=url)


@pytest.fixture
def proxy(radicale_server: ServerHandle) -> Iterator[FaultProxy]:
    p = FaultProxy(radicale_server.url).start()
    yield p
    p.stop()


def test_a_killed_publish_records_only_what_landed_and_the_next_run_finishes(
        radicale_server: ServerHandle, proxy: FaultProxy, db_url: str) -> None:
    url = proxy.proxied(radicale_server.new_calendar_url("batch"))
    done = subprocess.run([sys.executable, "-c", CHILD, url, db_url, radicale_server.username,
                           radicale_server.password or "", str(N), str(KILL_AFTER), EVENT],
                          capture_output=True, timeout=120)
    assert done.returncode == 9, done.stderr.decode()[-3000:]
    on_server = {urlsplit(h).path for h in members(radicale_server,
                                                   radicale_server.url + urlsplit(url).path)}
    assert len(on_server) == KILL_AFTER
    with open_store(db_url) as store:
        rows = store.sync_state.get_resources(url)
    final = {r.uid: r for r in rows.values() if not (r.etag or "").startswith("calsync-pending")}
    # never recorded as written unless it landed
    assert all(r.href in on_server for r in final.values()), (final.keys(), on_server)
    assert len(rows) <= N

    proxy.reset_counts()
    with open_store(db_url) as store:
        result = publish([spec(url)], store, Target(url, radicale_server.username,
                                                    radicale_server.password))
        assert result.ok, result.errors
        counts = result.counts()
        assert "conflict" not in counts and "update" not in counts, counts
        assert counts.get("create") == N - KILL_AFTER, counts
        # what landed is confirmed without being sent again
        assert proxy.counts["PUT"] == N - KILL_AFTER
        assert len(members(radicale_server, radicale_server.url + urlsplit(url).path)) == N
        again = publish([spec(url)], store, Target(url, radicale_server.username,
                                                   radicale_server.password))
        assert again.counts() == {"unchanged": N}
        assert not any((r.etag or "").startswith("calsync-pending")
                       for r in store.sync_state.get_resources(url).values())
