"""Issue 14: SIGTERM during a long publish in `calsync serve`. The service stops taking new
work, finishes the resource it is writing, records what landed, and only then stops; the next
publish finishes the rest without a conflict. A real serve process, a real Radicale slowed by
a proxy (one second per PUT)."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from calsync.store import open_store
from tests.support.ops_support import FailPutsAfter, cleared_home, members
from tests.support.serve_proc import run_cli, start_serve, wait_for
from tests.support.servers import ServerHandle, free_port


@pytest.fixture
def slow_proxy(radicale_server: ServerHandle) -> Iterator[FailPutsAfter]:
    proxy = FailPutsAfter(radicale_server.url, slow=1.0).start()
    yield proxy
    proxy.stop()


def test_sigterm_mid_publish_checkpoints_then_stops(
        tmp_path: Path, radicale_server: ServerHandle, slow_proxy: FailPutsAfter) -> None:
    home = slow_proxy.proxied(cleared_home(radicale_server))
    instance = tmp_path / "instance"
    env = {"CALSYNC_INSTANCE": str(instance), "CALSYNC_ADMIN_PASSWORD": "admin-secret-1",
           "CALSYNC_PUBLISH_INTERVAL_SECONDS": "3600"}
    args = ["--caldav-url", home, "--caldav-username", radicale_server.username or "",
            "--caldav-password", radicale_server.password or ""]
    serve = start_serve(args, env, tmp_path / "serve.log", free_port())
    try:
        wait_for(lambda: slow_proxy.puts >= 3, 60, "three PUTs", serve)
        code = serve.stop(signal.SIGTERM, timeout=30)
    finally:
        serve.kill()
    log = serve.log()
    assert code == 0, log
    [line] = serve.lines(r"stopped publishing guanliban for shutdown")
    m = re.search(r"created (\d+) of (\d+); (\d+) not written", line)
    assert m, line
    landed, total = int(m.group(1)), int(m.group(2))
    assert 3 <= landed < total and landed + int(m.group(3)) == total
    # no new work after the signal: not a single PUT more than the ones that landed
    assert slow_proxy.puts == landed
    # in order: the publish checkpointed, then the scheduler stopped, then the service
    order = [log.index(line), log.index("calsync: scheduler stopped"),
             log.index("calsync: stopped")]
    assert order == sorted(order), log
    assert "published guanliban with errors" not in log  # a shutdown is not an error

    collection = urljoin(home, "guanliban/")
    on_server = members(radicale_server, urljoin(radicale_server.calendar_home_url,
                                                 "guanliban/"))
    assert len(on_server) == landed
    with open_store(None, instance) as store:
        rows = store.sync_state.get_resources(collection)
        assert len(rows) == landed  # recorded exactly what landed, nothing pending
        assert not any((r.etag or "").startswith("calsync-pending") for r in rows.values())

    slow_proxy.slow = 0.0
    out = run_cli(["publish", "--caldav-url", home, "--username", radicale_server.username or "",
                   "--password", radicale_server.password or ""], env)
    assert f"create {total - landed}, unchanged {landed}" in out, out
    assert "conflict" not in out
