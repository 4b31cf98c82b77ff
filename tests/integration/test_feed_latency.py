"""Feeds at a bureau's size, through real HTTP (waitress in a thread, as `calsync serve` runs
the app): every write path reaches the next conditional GET (200 with the new bytes, never a
stale 304), stale-while-revalidate while a render runs, pages and other feeds never wait
behind it, the organization feed's window, the change stamp without an ORM session, and the
person index (a person's feed looks at their own series only)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
import requests
from flask import Flask

from calsync.app.service import build
from calsync.ical.feeds import EventBytes, PersonIndex, render_feed, viewer_for, window_months
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import Store
from calsync.store.changes import ChangeWatch
from tests.support.holiday_notices import NOTICE_2027
from tests.support.web_fixtures import serve_app
from tests.support.webapp import PASSWORD, make_app

SECRETARY = "zhou_mishukezhang"
HORIZON = (dt.date(2026, 1, 1), dt.date(2027, 12, 31))      # default_horizon(NOW)
ZHURENBANGONG = "zhurenbangong@guanliban.calsync"
ZHOULIHUI = "zhoulihui@guanliban.calsync"


class Live:
    def __init__(self, app: Flask, url: str) -> None:
        self.app, self.url = app, url

    @property
    def store(self) -> Store:
        return self.app.extensions["calsync"].store

    def feed_url(self, person: str, tail: str = "org/guanliban.ics") -> str:
        token = self.store.feeds.feed_token(person, "guanliban", actor="test")
        return f"{self.url}/feeds/{token}/{tail}"


def _live(db_url: str, tmp_path: Path, policies_dir: Path, **extra: object) -> Iterator[Live]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, (SECRETARY,), **extra)
    url, server, thread = serve_app(app)
    try:
        yield Live(app, url)
    finally:
        server.close()
        thread.join(timeout=10)
        feeds = app.extensions.get("calsync_feeds")
        if feeds is not None:
            feeds.close()
        app.extensions["calsync"].close()


@pytest.fixture
def live(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Live]:
    yield from _live(db_url, tmp_path, policies_dir)


def _get(url: str, etag: str | None = None) -> requests.Response:
    headers = {"If-None-Match": etag} if etag else {}
    return requests.get(url, headers=headers, timeout=60)


def _starts(ics: bytes) -> set[tuple[str, dt.date]]:
    cal = icalendar.Calendar.from_ical(ics)
    return {(str(e["UID"]), e["DTSTART"].dt.astimezone(TZ).date())
            for e in recurring_ical_events.of(cal).between(HORIZON[0],
                                                            HORIZON[1] + dt.timedelta(days=1))}


# -- every write path reaches the next conditional GET ---------------------------------------

def _decision(live: Live) -> None:
    live.store.decisions.add_decision("guanliban", ZHOULIHUI,
                                      dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ), "cancel",
                                      actor=SECRETARY, source="web", note="停会一次")


def _leave(live: Live) -> None:
    note = live.store.leave.add_leave("guanliban", ZHURENBANGONG,
                                      dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ),
                                      "wang_fuzhuren", category="公出", reason="市里开会",
                                      substitute_id="qian_keyuan", late=False, needs_director=False,
                                      chair_id="zhang_zhuren", director_id=None,
                                      actor="wang_fuzhuren")
    live.store.leave.decide_leave(note.id, "chair", True, actor="zhang_zhuren",
                                  expected_version=note.version)


def _request(live: Live) -> None:
    req = live.store.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                          title="专题研究窗口服务", audience=["wang_fuzhuren"],
                                          start="2026-03-12T14:00:00+08:00",
                                          end="2026-03-12T16:00:00+08:00", room="diyi",
                                          important=False, approver_id=None, actor=SECRETARY)
    live.store.requests.decide_request(req.id, True, actor="zhang_zhuren",
                                       expected_version=req.version)


def _series(live: Live) -> None:
    live.store.series_decisions.add_series_decision("guanliban", ZHOULIHUI, "offset",
                                                    since="2026-04-01",
                                                    actor=SECRETARY, offset_minutes=30)


def _adhoc(live: Live) -> None:
    live.store.adhoc.add_adhoc("guanliban", meeting_type="zhurenbangong",
                               start="2026-03-13T15:00:00+08:00", end="2026-03-13T16:00:00+08:00",
                               actor=SECRETARY, title="临时研究")


def _holidays(live: Live) -> None:
    """The 节假日 page swaps the policies in place (no stored input of the feed changes)."""
    s = requests.Session()
    assert s.post(f"{live.url}/login", data={"username": SECRETARY, "password": PASSWORD},
                  timeout=30).ok
    r = s.post(f"{live.url}/holidays", data={"text": NOTICE_2027, "apply": "1"}, timeout=60,
               allow_redirects=False)
    assert r.status_code == 302, r.text[:2000]


WRITES: dict[str, Callable[[Live], None]] = {
    "decision": _decision, "leave": _leave, "request": _request, "series": _series,
    "adhoc": _adhoc, "holidays": _holidays}


@pytest.mark.parametrize("write", list(WRITES))
def test_each_write_reaches_the_next_conditional_get(live: Live, write: str) -> None:
    url = live.feed_url(SECRETARY)
    first = _get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert _get(url, etag).status_code == 304
    WRITES[write](live)
    after = _get(url, etag)
    assert after.status_code == 200, write
    assert after.headers["ETag"] != etag and after.content != first.content
    assert after.headers["Cache-Control"] == "private, max-age=3600"     # fresh, not stale
    assert _get(url, after.headers["ETag"]).status_code == 304


# -- stale-while-revalidate ------------------------------------------------------------------

@pytest.fixture
def one_slot(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Live]:
    yield from _live(db_url, tmp_path, policies_dir, CALSYNC_FEED_RENDERERS=1)


def test_stale_while_revalidate_and_nothing_waits_behind_a_render(one_slot: Live) -> None:
    live = one_slot
    org_url = live.feed_url(SECRETARY)
    me_url = live.feed_url("qian_keyuan", "me.ics")
    cold_url = live.feed_url("he_keyuan", "me.ics")
    old_org, old_me = _get(org_url), _get(me_url)
    assert old_org.status_code == old_me.status_code == 200
    _decision(live)

    feeds = live.app.extensions["calsync_feeds"]
    entered, release = threading.Event(), threading.Event()

    def gate(key) -> None:
        if key[1] != "me":               # hold the organization feed's render
            entered.set()
            assert release.wait(60)
    feeds.before_render = gate
    fresh: list[requests.Response] = []
    renderer = threading.Thread(target=lambda: fresh.append(_get(org_url)))
    renderer.start()
    try:
        assert entered.wait(60)
        # The same feed: the last good bytes at once, with a short max-age.
        stale = _get(org_url, old_org.headers["ETag"])
        assert stale.status_code == 304
        assert stale.headers["Cache-Control"] == "private, max-age=60"
        stale = _get(org_url)
        assert stale.status_code == 200 and stale.content == old_org.content
        # Another cached feed: its last bytes too (the only render slot is taken).
        other = _get(me_url)
        assert other.status_code == 200 and other.content == old_me.content
        assert other.headers["Cache-Control"] == "private, max-age=60"
        # A feed never rendered: told to come back, not queued.
        busy = _get(cold_url)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "10"
        # Pages answer.
        assert requests.get(f"{live.url}/login", timeout=30).status_code == 200
    finally:
        release.set()
        renderer.join(60)
    feeds.before_render = None
    (new,) = fresh
    assert new.status_code == 200 and new.headers["ETag"] != old_org.headers["ETag"]
    assert new.headers["Cache-Control"] == "private, max-age=3600"
    after = _get(org_url, old_org.headers["ETag"])
    assert after.status_code == 200 and after.content == new.content
    me = _get(me_url)
    assert me.headers["Cache-Control"] == "private, max-age=3600"
    assert _get(cold_url).status_code == 200
    assert feeds.stale_served >= 3


# -- the organization feed's window ----------------------------------------------------------

def test_org_feed_is_a_window_of_months_unless_asked(live: Live) -> None:
    url = live.feed_url(SECRETARY)
    first, last = window_months(dt.date(2026, 3, 1), 3, 15)
    assert (first, last) == (dt.date(2025, 12, 1), dt.date(2027, 6, 30))
    windowed = _get(url)
    whole = _get(url + "?all=1")
    assert windowed.status_code == whole.status_code == 200
    inside, everything = _starts(windowed.content), _starts(whole.content)
    assert inside and all(first <= day <= last for _, day in inside)
    assert inside == {k for k in everything if first <= k[1] <= last}
    assert any(day > last for _, day in everything)
    assert windowed.headers["ETag"] != whole.headers["ETag"]
    march = _get(url + "?from=2026-03-01&to=2026-03-31")
    days = {day for _, day in _starts(march.content)}
    assert days and all(day.month == 3 and day.year == 2026 for day in days)
    assert _get(url + "?from=2026-13-01").status_code == 400
    assert _get(url + "?from=2026-04-01&to=2026-03-01").status_code == 400
    # A person's own feed keeps the horizon.
    mine = _starts(_get(live.feed_url(SECRETARY, "me.ics")).content)
    assert any(day > last for _, day in mine)


# -- the change stamp ------------------------------------------------------------------------

def test_change_watch_reads_only_after_a_change(store: Store, db_url: str) -> None:
    watch = ChangeWatch(store.engine, poll_seconds=3600)
    try:
        first = watch.stamp()
        reads = watch.reads
        for _ in range(50):
            assert watch.stamp() == first
        assert watch.reads == reads                        # no query while nothing changed
        store.feeds.feed_token("qian_keyuan", "guanliban", actor="test")     # this process
        assert watch.stamp() > first
        second = watch.stamp()
        code = ("import sys\nfrom calsync.store import open_store\n"
                "with open_store(sys.argv[1]) as s:\n"
                "    s.feeds.feed_token('he_keyuan', 'guanliban', actor='other process')\n")
        subprocess.run([sys.executable, "-c", code, db_url], check=True, timeout=120)
        if store.dialect == "sqlite":                      # PRAGMA data_version: at once
            assert watch.stamp() > second
        else:                                              # PostgreSQL: at the next poll
            watch.poll_seconds = 0.0
            assert watch.stamp() > second
    finally:
        watch.close()


# -- a person's feed looks at their own series only ------------------------------------------

def test_person_index_and_shared_events_give_the_same_bytes(policies_dir: Path) -> None:
    policies = load_policies(policies_dir)
    built = build(policies, None, *HORIZON, sorted(policies.organizations))
    gen = built.generation
    stamps = {s.uid: dt.datetime(2026, 1, 1, tzinfo=dt.UTC) for s in gen.series}
    index, events = PersonIndex(gen), EventBytes()
    org = policies.organizations["guanliban"]
    for person in ("qian_keyuan", "wang_fuzhuren", SECRETARY, "zhang_zhuren", "he_keyuan"):
        role = "secretary" if person == SECRETARY else "staff"
        viewer = viewer_for(policies, person, "guanliban", role)
        assert viewer is not None and org.people[person]
        mine = index.series_of(viewer)
        assert 0 < len(mine) < len(gen.series)
        for scope in ("me", ("org", "guanliban"), ("section", "zonghe")):
            plain = render_feed(policies, gen, viewer, scope, stamps)
            assert render_feed(policies, gen, viewer, scope, stamps, index=index,
                               events=events) == plain, (person, scope)
    assert events.hits > events.misses > 0      # series shared between feeds render once


# -- the 发布 page: the last plan, refreshed in the background -------------------------------

def test_publish_page_shows_the_last_plan(db_url: str, tmp_path: Path, policies_dir: Path,
                                          radicale_server) -> None:
    from tests.support.webapp import login

    server = radicale_server
    app = make_app(db_url, tmp_path / "inst", policies_dir, (SECRETARY,),
                   CALSYNC_CALDAV={"url": server.calendar_home_url,
                                   "username": server.username, "password": server.password})
    try:
        sec = login(app, SECRETARY)
        first = sec.get("/publish").data.decode()
        assert "正在生成发布计划" in first and 'http-equiv="refresh"' in first
        board = app.extensions["calsync_plans"]
        board.fresh_seconds = 3600.0           # age never triggers a refresh in this test
        plan = board.wait("guanliban")
        assert plan is not None and plan.failure is None and plan.result.dry_run
        shown = f"计划生成于 {plan.at:%Y-%m-%d %H:%M:%S}"
        page = sec.get("/publish").data.decode()
        assert "发布计划（尚未写入）" in page and shown in page
        assert 'http-equiv="refresh"' not in page
        runs = board.runs
        for _ in range(3):                     # views show it; none runs a dry run
            assert shown in sec.get("/publish").data.decode()
        assert board.runs == runs == 1
        # A change: the page shows the last plan at once and makes the next in the background.
        app.extensions["calsync"].store.decisions.add_decision(
            "guanliban", ZHOULIHUI, dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ), "cancel",
            actor=SECRETARY,
            source="web", note="停会一次")
        page = sec.get("/publish").data.decode()
        assert shown in page and "正在后台更新" in page and 'http-equiv="refresh"' in page
        newer = board.wait("guanliban")
        assert newer is not None and newer is not plan and board.runs == 2
        page = sec.get("/publish").data.decode()
        assert f"计划生成于 {newer.at:%Y-%m-%d %H:%M:%S}" in page
    finally:
        app.extensions["calsync"].close()
