"""`calsync serve` end to end as subprocesses: one command (page + embedded Radicale +
scheduler), a decision reaching CalDAV, Ctrl-C and restart; two instances on one PostgreSQL
store publishing through one external Radicale, one of them killed mid-publish."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import caldav
import icalendar
import pytest
import requests

from calsync.app.service import build
from calsync.cli.serve import holiday_years_line
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import open_store
from tests.support.faultproxy import FaultProxy
from tests.support.serve_proc import (
    Serve,
    hidden,
    login,
    processes_mentioning,
    run_cli,
    start_serve,
    wait_for,
)
from tests.support.servers import ServerHandle, free_port

WEEKLY = "zhoulihui@guanliban.calsync"
# this year's and next year's series; 周例会 is one resource per duty leader (four)
RESOURCES = 16 - 1 + 4
SECRETARY, ADMIN_PASSWORD = "zhou_mishukezhang", "admin-secret-1"
STAFF, STAFF_PASSWORD = "qian_keyuan", "staff-secret-1"          # 管理办 staff
OTHER, OTHER_PASSWORD = "du_keyuan", "other-secret-1"            # 教育局 staff
CYCLE = "2"  # seconds between scheduled publishes


def _next_weekly(days_ahead: int = 7) -> tuple[str, dt.datetime, str]:
    """A 周例会 occurrence a week or more ahead: (recurrence id, nominal start, the UID of
    the resource it is in: its duty leader's part)."""
    today = dt.datetime.now(TZ).date()
    start = today + dt.timedelta(days=days_ahead)
    occs = build(load_policies(), None, start, start + dt.timedelta(days=42),
                 ["guanliban"]).generation.occurrences()
    occ = next(o for o in occs if o.uid == WEEKLY and o.status == "CONFIRMED")
    return occ.nominal_start.isoformat(), occ.nominal_start, occ.published_uid


def _weekly_parts(events: dict[str, str]) -> int:
    return sum(1 for uid in events if uid.startswith("zhoulihui--"))


def _read(url: str, user: str, password: str) -> dict[str, str]:
    """UID -> iCalendar text of every resource in the collection, via the caldav client."""
    client = caldav.DAVClient(url=url, username=user, password=password)
    out: dict[str, str] = {}
    for ev in client.calendar(url=url).events():
        cal = icalendar.Calendar.from_ical(ev.data)
        uids = {str(c["UID"]) for c in cal.walk("VEVENT")}
        assert len(uids) == 1, ev.data
        uid = uids.pop()
        assert uid not in out, f"duplicate UID {uid}"
        out[uid] = ev.data
    return out


def _cancelled(ics: str, nominal: dt.datetime) -> bool:
    for c in icalendar.Calendar.from_ical(ics).walk("VEVENT"):
        rid = c.get("RECURRENCE-ID")
        if rid is not None and rid.dt == nominal and str(c.get("STATUS")) == "CANCELLED":
            return True
    return False


def _cancel_on_page(base: str, rid: str) -> None:
    s = login(base, SECRETARY, ADMIN_PASSWORD)
    form = s.get(base + "clashes/cancel", params={"series": WEEKLY, "rid": rid}, timeout=30)
    assert form.status_code == 200, form.text[:2000]
    data = {name: hidden(form.text, name) for name in ("csrf_token", "series", "rid", "version")}
    r = s.post(base + "clashes/cancel", data={**data, "note": "测试：取消"}, timeout=30)
    assert r.status_code == 200 and "已取消" in r.text, r.text[:2000]


def _published(serve: Serve, org: str) -> list[str]:
    return serve.lines(rf"published {org}:")


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def test_one_command_service(instance: Path, tmp_path: Path) -> None:
    env = {"CALSYNC_INSTANCE": str(instance), "CALSYNC_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "CALSYNC_PUBLISH_INTERVAL_SECONDS": CYCLE}
    for user, password in ((STAFF, STAFF_PASSWORD), (OTHER, OTHER_PASSWORD)):
        run_cli(["user", "set-password", user, "--password-stdin"], env, password + "\n")
    port, dav_port = free_port(), free_port()
    args = ["--caldav-port", str(dav_port)]
    serve = start_serve(args, env, tmp_path / "serve1.log", port)
    try:
        serve.wait_page()
        serve.wait_line(r"published guanliban:")
        out = serve.log()
        assert f"CalDAV for phones and desktop calendars: http://localhost:{dav_port}/ " in out
        assert f"feeds: http://localhost:{port}/subscriptions" in out
        # one line says which years have no State Council notice yet (law-only)
        assert holiday_years_line(load_policies(), dt.datetime.now(TZ).date()) in out
        assert (instance / "caldav" / "service-password").stat().st_mode & 0o777 == 0o600

        # a staff member reads his organization's calendar with his calsync password
        url = f"http://127.0.0.1:{dav_port}/calsync/guanliban/"
        events = _read(url, STAFF, STAFF_PASSWORD)
        assert _weekly_parts(events) == 4 and len(events) == RESOURCES
        # ... but may not write it; another organization's staff may not read it
        put = requests.put(url + "x.ics", data=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                           auth=(STAFF, STAFF_PASSWORD), timeout=10)
        assert put.status_code in (401, 403), put.status_code
        other = requests.request("PROPFIND", url, auth=(OTHER, OTHER_PASSWORD),
                                 headers={"Depth": "0"}, timeout=10)
        assert other.status_code in (401, 403, 404), other.status_code
        wrong = requests.request("PROPFIND", url, auth=(STAFF, "wrong-password"),
                                 headers={"Depth": "0"}, timeout=10)
        assert wrong.status_code == 401

        # the Radicale child is supervised: killed, it comes back
        [child] = processes_mentioning(str(instance / "caldav" / "radicale.conf"))
        os.kill(child, signal.SIGKILL)
        serve.wait_line(r"embedded CalDAV server is back")
        assert _weekly_parts(_read(url, STAFF, STAFF_PASSWORD)) == 4

        # a decision on the page reaches CalDAV within a scheduler cycle
        rid, nominal, part = _next_weekly()
        _cancel_on_page(serve.url, rid)
        wait_for(lambda: _cancelled(_read(url, STAFF, STAFF_PASSWORD)[part], nominal),
                 60, "the cancellation on the CalDAV server", serve)
    finally:
        code = serve.stop(signal.SIGINT)
    assert code == 0, serve.log()
    assert "calsync: stopped" in serve.log()
    assert processes_mentioning(str(instance / "caldav" / "radicale.conf")) == []

    # restart on the same instance: nothing lost, nothing re-created
    serve = start_serve(args, env, tmp_path / "serve2.log", port)
    try:
        serve.wait_page()
        first = serve.wait_line(r"published guanliban:")[0]
        assert "create=" not in first and "update=" not in first and "delete=" not in first
        assert f"unchanged={RESOURCES}" in first
        events = _read(url, STAFF, STAFF_PASSWORD)
        assert len(events) == RESOURCES and _cancelled(events[part], nominal)
    finally:
        assert serve.stop(signal.SIGTERM) == 0, serve.log()

    # restart on another CalDAV port: a new address for the same collections, which the
    # first publish adopts as they are (no conflict, nothing re-created)
    moved = free_port()
    serve = start_serve(["--caldav-port", str(moved)], env, tmp_path / "serve3.log", port)
    try:
        serve.wait_page()
        first = serve.wait_line(r"published guanliban:")[0]
        assert "conflict" not in first and "create=" not in first, first
        assert "update=" not in first and "delete=" not in first, first
        events = _read(f"http://127.0.0.1:{moved}/calsync/guanliban/", STAFF, STAFF_PASSWORD)
        assert len(events) == RESOURCES and _cancelled(events[part], nominal)
    finally:
        assert serve.stop(signal.SIGTERM) == 0, serve.log()
    with open_store(None, instance) as store:
        decision = store.decisions.active_decision(WEEKLY, dt.datetime.fromisoformat(rid))
        assert decision is not None and decision.action == "cancel"


def _empty_home(server: ServerHandle) -> str:
    status, _, body = server.request("PROPFIND", server.calendar_home_url, b"", {"Depth": "1"})
    assert status == 207
    home = urlsplit(server.calendar_home_url).path
    for href in (e.text or "" for e in ET.fromstring(body).iter("{DAV:}href")):
        path = urlsplit(href).path
        if path.startswith(home) and path.rstrip("/") != home.rstrip("/"):
            server.request("DELETE", urljoin(server.calendar_home_url, path))
    return server.calendar_home_url


def _runs_disjoint(db_url: str, org: str) -> list:
    with open_store(db_url) as store:
        runs = [r for r in store.runs.recent_runs(org, limit=1000) if r.finished_at is not None]
    runs.sort(key=lambda r: r.started_at)
    for a, b in itertools.pairwise(runs):
        assert a.finished_at <= b.started_at, f"overlapping publishes of {org}: {a} {b}"
    return runs


def test_two_instances_share_postgresql(
    tmp_path: Path, postgres_databases: Callable[[], str], radicale_server: ServerHandle,
    fault_proxy_factory: Callable[..., FaultProxy],
) -> None:
    db_url = postgres_databases()
    home = _empty_home(radicale_server)
    proxy = fault_proxy_factory(radicale_server, delay_seconds=600)
    env = {"CALSYNC_DATABASE_URL": db_url, "CALSYNC_PUBLISH_INTERVAL_SECONDS": CYCLE,
           "CALSYNC_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "CALSYNC_CALDAV_USERNAME": radicale_server.username or "",
           "CALSYNC_CALDAV_PASSWORD": radicale_server.password or ""}
    args = ["--caldav-url", proxy.proxied(home)]
    serves = {name: start_serve([*args, "--instance", str(tmp_path / name)], env,
                                tmp_path / f"{name}.log", free_port()) for name in "ab"}
    try:
        for s in serves.values():
            s.wait_page()
            assert "embedded CalDAV server on" not in s.log() and "publishing to" in s.log()
        # a few cycles each: every run is someone's, and no two runs of an org overlap
        for s in serves.values():
            s.wait_line(r"published guanliban:", count=3)
        logged = sum(len(_published(s, "guanliban")) for s in serves.values())
        runs = _runs_disjoint(db_url, "guanliban")
        assert logged <= len(runs) <= logged + 2  # + runs finishing while we read the logs
        assert [r.status for r in runs] == ["ok"] * len(runs)
        assert sum(f"create={RESOURCES}" in line for s in serves.values()
                   for line in _published(s, "guanliban")) == 1

        # hold the next PUT in the proxy, make a decision: its publisher hangs holding the lock
        proxy.inject("delay", n=1, methods=["PUT"], delay=600)
        rid, nominal, part = _next_weekly()
        with open_store(db_url) as store:
            store.decisions.add_decision("guanliban", WEEKLY, dt.datetime.fromisoformat(rid),
                                         "cancel", actor="test",
                                         source="cli")
        wait_for(lambda: any(f == "delay" for f, _, _ in proxy.fault_log), 60,
                 "the delayed PUT")
        # the holder's scheduler is stuck in that PUT: only the other one can skip now
        skips = {n: len(s.lines(r"skipped guanliban")) for n, s in serves.items()}
        skipped = wait_for(lambda: [n for n, s in serves.items()
                                    if len(s.lines(r"skipped guanliban")) > skips[n]],
                           60, "a skip")
        [survivor] = skipped
        holder = "b" if survivor == "a" else "a"
        serves[holder].kill()  # kill -9 mid-publish: PostgreSQL drops its lock
        before = len(_published(serves[survivor], "guanliban"))
        serves[survivor].wait_line(r"published guanliban:", count=before + 1)
        url = urljoin(home, "guanliban/")
        wait_for(lambda: _cancelled(_read(url, radicale_server.username or "",
                                          radicale_server.password or "")[part], nominal),
                 60, "the survivor's publish of the cancellation", serves[survivor])
        events = _read(url, radicale_server.username or "", radicale_server.password or "")
        assert len(events) == RESOURCES  # _read fails on a duplicate UID
        assert serves[survivor].stop() == 0, serves[survivor].log()
    finally:
        for s in serves.values():
            if s.proc.poll() is None:
                s.kill()
