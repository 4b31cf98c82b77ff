"""Issue 14: recovering from an emptied collection (`publish --force` restores, bulk
`resolve`), and a publish cut short reporting what landed, then finished by the next run.
Real Radicale, the real CLI, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest

from calsync.cli import main
from calsync.store import open_store
from tests.support.ops_support import FailPutsAfter, cleared_home, empty_collection, members
from tests.support.servers import ServerHandle

HORIZON = ["--start", "2026-01-01", "--end", "2026-12-31"]
# 13 series + 周例会 as one resource per duty leader (four)
RESOURCES = 17


@pytest.fixture
def home(radicale_server: ServerHandle) -> str:
    return cleared_home(radicale_server)


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def publish(capsys, server: ServerHandle, db_url: str, url: str, *extra: str,
            fmt: str = "json") -> tuple[int, dict | str, str]:
    code, out, err = cli(capsys, "publish", "--caldav-url", url, "--username", server.username,
                         "--password", server.password or "", "--database-url", db_url,
                         *HORIZON, "--format", fmt, *extra)
    return code, (json.loads(out) if fmt == "json" else out), err


def test_emptied_collection_force_restores_and_next_publish_is_a_no_op(
        capsys, radicale_server, db_url, home) -> None:
    code, first, _ = publish(capsys, radicale_server, db_url, home)
    assert code == 0 and first["counts"] == {"create": RESOURCES}
    gl = urljoin(home, "guanliban/")
    lost = empty_collection(radicale_server, gl)
    assert lost == first["collections"][0]["counts"]["create"] > 1

    code, _, err = publish(capsys, radicale_server, db_url, home)
    assert code == 3 and "safety valve" in err and "--force" in err  # the valve stops
    assert members(radicale_server, gl) == []

    code, forced, _ = publish(capsys, radicale_server, db_url, home, "--force")
    assert code == 0 and forced["ok"]
    assert forced["collections"][0]["counts"] == {"create": lost}  # restored, no conflicts
    assert len(members(radicale_server, gl)) == lost
    with open_store(db_url) as store:
        assert store.conflicts.open_conflicts() == []

    code, again, _ = publish(capsys, radicale_server, db_url, home)
    assert code == 0 and again["counts"] == {"unchanged": RESOURCES}


def _deleted_conflicts(capsys, server: ServerHandle, db_url: str, home: str) -> dict:
    """Publish, delete six resources 'in the app', publish again: conflicts of kind deleted
    (too few for the valve). The shipped policies put all 17 in guanliban's collection."""
    code, first, _ = publish(capsys, server, db_url, home)
    assert code == 0
    for path in members(server, urljoin(home, "guanliban/"))[:6]:
        assert server.request("DELETE", urljoin(home, path))[0] in (200, 204)
    code, second, _ = publish(capsys, server, db_url, home)
    assert second["counts"]["conflict"] == 6, second["counts"]
    return first


def test_bulk_resolve_dry_run_then_keep_policy(capsys, radicale_server, db_url, home) -> None:
    _deleted_conflicts(capsys, radicale_server, db_url, home)
    with open_store(db_url) as store:
        before = {c.id: c for c in store.conflicts.open_conflicts()}
    assert len(before) == 6 and {c.kind for c in before.values()} == {"deleted"}

    # no selection at all is refused; an id and a selection together too
    assert main(["resolve", "--keep", "policy", "--database-url", db_url]) == 2
    assert main(["resolve", "1", "--all", "--keep", "policy", "--database-url", db_url]) == 2
    capsys.readouterr()

    code, out, _ = cli(capsys, "resolve", "--all", "--kind", "deleted-on-server", "--keep",
                       "policy", "--dry-run", "--database-url", db_url, *HORIZON)
    assert code == 0 and "6 conflict(s) would be resolved (dry run" in out
    assert all(f"#{i} " in out for i in before)
    with open_store(db_url) as store:
        assert len(store.conflicts.open_conflicts()) == 6  # the dry run changed nothing

    # --org narrows: jiaoyuju has none of them
    code, out, _ = cli(capsys, "resolve", "--org", "jiaoyuju", "--keep", "policy",
                       "--database-url", db_url, *HORIZON)
    assert code == 0 and "0 conflict(s) resolved" in out
    # --series narrows by the series id (the UID's part before @)
    one = sorted(c.uid for c in before.values())[0].split("@")[0]
    code, out, _ = cli(capsys, "resolve", "--all", "--series", one, "--keep", "policy",
                       "--database-url", db_url, *HORIZON)
    assert code == 0 and "1 conflict(s) resolved" in out and one in out
    code, out, _ = cli(capsys, "resolve", "--org", "guanliban", "--kind", "deleted-on-server",
                       "--keep", "policy", "--database-url", db_url, *HORIZON)
    assert "5 conflict(s) resolved" in out
    with open_store(db_url) as store:
        assert store.conflicts.open_conflicts() == []

    code, restored, _ = publish(capsys, radicale_server, db_url, home)
    assert code == 0 and restored["counts"] == {"create": 6, "unchanged": RESOURCES - 6}
    code, again, _ = publish(capsys, radicale_server, db_url, home)
    assert again["counts"] == {"unchanged": RESOURCES}


def test_bulk_resolve_keep_server_records_cancellations(
        capsys, radicale_server, db_url, home) -> None:
    _deleted_conflicts(capsys, radicale_server, db_url, home)
    code, out, _ = cli(capsys, "resolve", "--all", "--kind", "deleted-on-server",
                       "--keep", "server", "--database-url", db_url, *HORIZON)
    assert code == 0 and "6 conflict(s) resolved: the calendar's version is adopted" in out
    recorded = int(out.split("adopted; ")[1].split(" decision")[0])
    assert recorded > 6  # each deleted series' occurrences become recorded cancellations
    with open_store(db_url) as store:
        assert store.conflicts.open_conflicts() == []
    code, after, _ = publish(capsys, radicale_server, db_url, home)
    assert code == 0 and "conflict" not in after["counts"]  # the cancellations, published
    code, again, _ = publish(capsys, radicale_server, db_url, home)
    assert again["counts"] == {"unchanged": RESOURCES}


@pytest.fixture
def failing_proxy(radicale_server: ServerHandle) -> Iterator[FailPutsAfter]:
    proxy = FailPutsAfter(radicale_server.url, ok=6).start()
    yield proxy
    proxy.stop()


def test_a_publish_cut_short_reports_what_landed_and_the_next_run_finishes(
        capsys, radicale_server, db_url, home, failing_proxy) -> None:
    url = failing_proxy.proxied(home)
    code, out, _ = publish(capsys, radicale_server, db_url, url, fmt="text")
    assert code != 0
    gl = next(line for line in out.splitlines() if "/guanliban/" in line)
    # "published …/guanliban/: created 6 of 9; 3 not written (… requests) — FAILED: …"
    assert "created 6 of " in gl and "not written" in gl and "FAILED" in gl, out
    assert "nothing" not in gl
    total = int(gl.split("created 6 of ")[1].split(";")[0])
    assert f"; {total - 6} not written" in gl
    assert len(members(radicale_server, urljoin(home, "guanliban/"))) == 6
    with open_store(db_url) as store:
        rows = store.sync_state.get_resources(urljoin(home, "guanliban/").replace(
            radicale_server.url.rstrip("/"), failing_proxy.url.rstrip("/")))
        pending = [r.uid for r in rows.values() if (r.etag or "").startswith("calsync-pending")]
        # the six that landed are recorded; the PUT that failed keeps its write-ahead mark
        # (the next run settles it); nothing else is recorded
        assert len(rows) - len(pending) == 6 and len(pending) <= 1, rows.keys()

    failing_proxy.ok = 10**9  # the server is back
    code, done, _ = publish(capsys, radicale_server, db_url, url)
    assert code == 0 and done["counts"] == {"create": RESOURCES - 6, "unchanged": 6}, done["counts"]
    code, again, _ = publish(capsys, radicale_server, db_url, url)
    assert again["counts"] == {"unchanged": RESOURCES}
