"""`calsync publish` answers a no-op from the witness of the last settled publish
(calsync.cli.publish_witness), and takes the full path whenever anything it witnessed moved.

Which path ran is seen on the wire, through a counting proxy: the witness asks each collection
for its DAV:sync-token (PROPFIND, Depth 0); the full path lists it (sync-collection REPORT).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from pathlib import Path
from urllib.parse import urljoin

import pytest

import calsync
import calsync.app.service
from calsync.cli import main
from calsync.cli.publish_witness import sqlite_file, witness_path
from calsync.occurrence import TZ
from calsync.policy import shipped_policies
from calsync.store import open_store
from tests.integration.test_cli_publish import HORIZON, RESOURCES, WEEKLY, app_move, home, href_of  # noqa: F401
from tests.support.faultproxy import FaultProxy
from tests.support.servers import ServerHandle

WITNESSED = {"PROPFIND": 2}     # guanliban, jiaoyuju: one sync-token each
FULL = {"REPORT": 2}            # ... one sync-collection listing each
# a cancelled 周例会 week: the series' four duty-leader parts carry its new DTSTAMP
CANCELLED = {"unchanged": RESOURCES - 4, "update": 4}


@pytest.fixture
def via(fault_proxy: FaultProxy, home: str) -> str:  # noqa: F811
    return fault_proxy.proxied(home)


def run(capsys, server: ServerHandle, db: str, url: str, *extra: str) -> tuple[int, str, str]:
    creds = ["--username", server.username, "--password", server.password or ""] \
        if server.username else []
    code = main(["publish", *creds, "--database-url", db, "--caldav-url", url, *HORIZON,
                 "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def publish(capsys, server, db, url, proxy: FaultProxy, *extra: str) -> tuple[dict, dict]:
    """The JSON result (with "stderr") and the requests the proxy saw, by method."""
    proxy.reset_counts()
    code, out, err = run(capsys, server, db, url, *extra)
    result = json.loads(out)
    assert code == 0, (result, err)
    result["stderr"] = err
    return result, dict(proxy.counts)


def witness_file(db: str) -> Path:
    return witness_path(Path(db.removeprefix("sqlite:///")))


def test_a_noop_is_answered_by_the_witness_exactly_as_the_full_path_would(
        capsys, caldav_server, sqlite_url, via, fault_proxy) -> None:
    first, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert first["counts"] == {"create": RESOURCES}
    assert stat.S_IMODE(witness_file(sqlite_url).stat().st_mode) == 0o600
    fast, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert sent == WITNESSED
    full, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy, "--full")
    assert sent == FULL
    assert fast == full  # same JSON, same warnings on stderr
    assert fast["counts"] == {"unchanged": RESOURCES}
    assert [c["requests"] for c in fast["collections"]] == [1, 1]
    # the text summary too
    capsys.readouterr()
    assert run(capsys, caldav_server, sqlite_url, via, "--format", "text")[1:] == \
        run(capsys, caldav_server, sqlite_url, via, "--format", "text", "--full")[1:]


def _decision(db: str) -> None:
    with open_store(db) as store:
        store.decisions.add_decision("guanliban", "zhoulihui@guanliban.calsync",
                                     dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ),
                                     "cancel",
                                     actor="test", source="cli")


def test_a_stored_decision_takes_the_full_path(capsys, caldav_server, sqlite_url, via,
                                               fault_proxy) -> None:
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    _decision(sqlite_url)
    after, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert sent["REPORT"] >= 2 and "PROPFIND" not in sent
    assert after["counts"] == CANCELLED
    again, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert sent == WITNESSED and again["counts"] == {"unchanged": RESOURCES}


def test_an_app_edit_takes_the_full_path_and_the_conflict_ends_the_witness(
        capsys, caldav_server, sqlite_url, via, fault_proxy, home) -> None:  # noqa: F811
    first, _ = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    url = urljoin(home, href_of(first, WEEKLY))
    app_move(caldav_server, url, dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ),
             dt.datetime(2026, 3, 10, 14, 0, tzinfo=TZ))
    seen, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    # the witness' first token check finds the change (one PROPFIND), then the full path
    assert seen["counts"]["conflict"] == 1 and sent["PROPFIND"] == 1 and sent["REPORT"] >= 2
    assert not witness_file(sqlite_url).exists()
    # the conflict stays reported on every run until it is resolved
    again, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert again["counts"]["conflict"] == 1 and "PROPFIND" not in sent


def _edit_policy(tmp: Path) -> list[str]:
    """A room renamed in the policies the first publish used (in place)."""
    rooms = tmp / "policies" / "guanliban" / "directory.toml"
    text = rooms.read_text(encoding="utf-8")
    assert '"第一会议室"' in text
    rooms.write_text(text.replace('"第一会议室"', '"第一会议室（东楼）"', 1), encoding="utf-8")
    return []


def _notice(tmp: Path) -> list[str]:
    # a holiday year in the instance (what the 节假日 page writes) replaces the shipped one
    folder = Path(os.environ["CALSYNC_INSTANCE"]) / "holidays"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(shipped_policies() / "holidays" / "2026.toml", folder / "2026.toml")
    return []


def _code(tmp: Path) -> list[str]:
    source = Path(calsync.__file__).with_name("errors.py")
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # an upgrade
    return []


@pytest.mark.parametrize("change", [_edit_policy, _notice, _code,
                                    lambda tmp: ["--org", "guanliban"],
                                    lambda tmp: ["--end", "2026-11-30"]],
                         ids=["policy file", "holiday notice", "calsync code", "--org", "--end"])
def test_any_other_input_takes_the_full_path(capsys, caldav_server, sqlite_url, via,
                                             fault_proxy, tmp_path, change) -> None:
    shutil.copytree(shipped_policies(), tmp_path / "policies")
    own = ["--policies", str(tmp_path / "policies")]
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy, *own)
    source = Path(calsync.__file__).with_name("errors.py")
    times = source.stat()
    try:
        extra = [*own, *change(tmp_path)]
        after, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy, *extra)
        assert "REPORT" in sent and "PROPFIND" not in sent
        if change is _edit_policy:  # the room is in the meetings held there
            assert after["counts"]["update"] >= 1
        _, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy, *extra)
        assert sent == ({"PROPFIND": 1} if "--org" in extra else WITNESSED)
    finally:
        os.utime(source, ns=(times.st_atime_ns, times.st_mtime_ns))


@pytest.mark.parametrize("flag", [["--dry-run"], ["--force"], ["--full"], ["--watch"]])
def test_flags_that_ask_for_more_than_a_look_take_the_full_path(
        capsys, caldav_server, sqlite_url, via, fault_proxy, flag) -> None:
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    if flag == ["--watch"]:  # a read-only calendar to read for clashes
        flag = ["--watch", urljoin(via, "jiaoyuju/")]
    result, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy, *flag)
    assert sent.get("REPORT", 0) >= 2 and result["counts"] == {"unchanged": RESOURCES}
    # no witness check: no PROPFIND asks a collection for its sync token alone (--watch's
    # listing of the watched calendar is a PROPFIND of every member's etag)
    asked = [b for m, _, b in fault_proxy.bodies_log if m == "PROPFIND"]
    assert not [b for b in asked if b"sync-token" in b and b"getetag" not in b]
    assert len(asked) == (1 if flag[0] == "--watch" else 0)


def test_a_decision_recorded_while_publishing_leaves_no_witness(
        capsys, caldav_server, sqlite_url, via, fault_proxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The race: a secretary records a decision after the build read the store. The witness
    would claim that publish covered it; none is written, and the next run publishes it."""
    real = calsync.app.service.publish_orgs

    def and_meanwhile(*args, **kwargs):  # the fault: a write from another process
        out = real(*args, **kwargs)
        _decision(sqlite_url)
        return out

    monkeypatch.setattr(calsync.app.service, "publish_orgs", and_meanwhile)
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert not witness_file(sqlite_url).exists()
    monkeypatch.setattr(calsync.app.service, "publish_orgs", real)
    after, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert after["counts"] == CANCELLED and "PROPFIND" not in sent


def test_a_server_that_fails_the_token_check_gets_the_full_path(
        capsys, caldav_server, sqlite_url, via, fault_proxy) -> None:
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    fault_proxy.inject("status_500", n=1, methods=["PROPFIND"])
    after, sent = publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    assert after["counts"] == {"unchanged": RESOURCES} and sent == {"PROPFIND": 1, **FULL}


@pytest.mark.parametrize("caldav_server", ["radicale"], indirect=True)  # Xandikos: no accounts
def test_a_wrong_password_is_reported_by_the_full_path(capsys, caldav_server, sqlite_url, via,
                                                       fault_proxy) -> None:
    publish(capsys, caldav_server, sqlite_url, via, fault_proxy)
    code = main(["publish", "--username", caldav_server.username, "--password", "wrong",
                 "--database-url", sqlite_url, "--caldav-url", via, *HORIZON])
    err = capsys.readouterr().err
    assert code != 0 and "401" in err


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_has_no_witness(capsys, caldav_server, db_url, via, fault_proxy) -> None:
    publish(capsys, caldav_server, db_url, via, fault_proxy)
    again, sent = publish(capsys, caldav_server, db_url, via, fault_proxy)
    assert sent == FULL and again["counts"] == {"unchanged": RESOURCES}


@pytest.mark.parametrize("url", [None, "sqlite:///relative.sqlite3", "sqlite:////tmp/abs.db",
                                 "sqlite+pysqlite:///x%20y.db", "postgresql://u@h/db",
                                 "sqlite://", "sqlite:///:memory:"])
def test_the_witness_finds_the_store_where_the_store_does(url, tmp_path, monkeypatch) -> None:
    """calsync.store resolves the URL with SQLAlchemy; the witness may not load it, so its
    own reading must agree (or say "not a SQLite file": then there is no witness)."""
    from calsync.store.db import resolve_url

    monkeypatch.chdir(tmp_path)
    instance = tmp_path / "inst"
    resolved = resolve_url(url, instance)
    mine = sqlite_file(url, instance)
    if resolved.get_backend_name() != "sqlite" or resolved.database in (None, "", ":memory:"):
        assert mine is None
    else:
        assert mine == Path(resolved.database).resolve()
