"""A current feed's 304 is answered before Flask (web/feed_shortcut.py), and only then: a change,
a rotated token, a query or a stale ETag still reach the view, which decides as before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, request_started

from calsync.occurrence import TZ
from calsync.store import Store
from tests.support.webapp import confidential_policies, make_app

PERSON = "qian_keyuan"
WEEKLY = "zhoulihui@guanliban.calsync"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", confidential_policies(tmp_path / "policies"))
    yield app
    feeds = app.extensions.get("calsync_feeds")
    if feeds is not None:
        feeds.close()
    app.extensions["calsync"].close()


def _store(app: Flask) -> Store:
    return app.extensions["calsync"].store


class Reached:
    """Requests that reached Flask (its request_started signal)."""

    def __init__(self, app: Flask) -> None:
        self.paths: list[str] = []
        request_started.connect(self._seen, app)

    def _seen(self, sender: Flask, **extra: object) -> None:
        from flask import request

        self.paths.append(request.path)


def test_a_current_feeds_304_never_reaches_flask(app: Flask) -> None:
    token = _store(app).feeds.feed_token(PERSON, "guanliban", actor="test")
    client = app.test_client()
    reached = Reached(app)
    first = client.get(f"/feeds/{token}/me.ics", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and reached.paths == [f"/feeds/{token}/me.ics"]
    etag = first.headers["ETag"]
    again = client.get(f"/feeds/{token}/me.ics",
                       headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.data == b""
    assert len(reached.paths) == 1                      # answered before Flask
    assert again.headers["ETag"] == etag and again.headers["Vary"] == "Accept-Encoding"
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.headers["Date"].endswith(" GMT")
    # the identity representation has its own ETag; the weak comparison takes either
    plain = client.get(f"/feeds/{token}/me.ics", headers={"If-None-Match": etag})
    assert plain.status_code == 304 and plain.headers["ETag"] == etag.removesuffix('-gzip"') + '"'
    assert len(reached.paths) == 1
    # the organization feed (its default window) the same way, once it has been fetched
    org = client.get(f"/feeds/{token}/org/guanliban.ics")
    assert org.status_code == 200 and len(reached.paths) == 2
    assert client.get(f"/feeds/{token}/org/guanliban.ics",
                      headers={"If-None-Match": org.headers["ETag"]}).status_code == 304
    assert len(reached.paths) == 2


def test_a_change_an_old_etag_a_query_or_a_rotated_token_go_to_the_view(app: Flask) -> None:
    store = _store(app)
    token = store.feeds.feed_token(PERSON, "guanliban", actor="test")
    client = app.test_client()
    reached = Reached(app)
    first = client.get(f"/feeds/{token}/me.ics")
    etag = first.headers["ETag"]
    # another ETag: the view answers, with the feed
    other = client.get(f"/feeds/{token}/me.ics", headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200 and len(reached.paths) == 2
    # a query: the view answers (here a 304, as before)
    assert client.get(f"/feeds/{token}/me.ics?all=1",
                      headers={"If-None-Match": etag}).status_code == 304
    assert len(reached.paths) == 3
    # a decision on one of the person's meetings: the old ETag gets the new feed
    store.decisions.add_decision("guanliban", WEEKLY,
                                 dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ), "cancel",
                                 actor="zhou_mishukezhang", source="web", note="改期")
    changed = client.get(f"/feeds/{token}/me.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(reached.paths) == 4
    # a rotated token: the old link is gone, ETag or not
    new_etag = changed.headers["ETag"]
    store.feeds.rotate_feed_token(PERSON, actor="test")
    gone = client.get(f"/feeds/{token}/me.ics", headers={"If-None-Match": new_etag})
    assert gone.status_code == 404 and len(reached.paths) == 5
    # an unknown token, a route that is not a feed's: the view's 404
    assert client.get("/feeds/nope/me.ics", headers={"If-None-Match": etag}).status_code == 404
    assert client.get(f"/feeds/{token}/x/y/z.ics",
                      headers={"If-None-Match": etag}).status_code == 404
    assert len(reached.paths) == 7


def test_a_leavers_feed_ends_the_day_after_their_last_day_with_no_other_change(
        db_url: str, tmp_path: Path) -> None:
    """The cached viewer of a token is forgotten when the day changes, not only when the store
    or the policies do: the day after ``left`` the link answers 404, ETag or not."""
    policies = confidential_policies(tmp_path / "policies")
    directory = policies / "guanliban" / "directory.toml"
    text = directory.read_text(encoding="utf-8")
    marker = "[people.qian_keyuan]\n"
    assert marker in text
    directory.write_text(text.replace(marker, marker + "left = 2026-03-05\n"), encoding="utf-8")
    app = make_app(db_url, tmp_path / "inst", policies)
    try:
        core = app.extensions["calsync"]
        token = core.store.feeds.feed_token(PERSON, "guanliban", actor="test")
        client = app.test_client()
        first = client.get(f"/feeds/{token}/me.ics")
        assert first.status_code == 200
        etag = first.headers["ETag"]
        assert client.get(f"/feeds/{token}/me.ics",
                          headers={"If-None-Match": etag}).status_code == 304
        core.fixed_now = dt.datetime(2026, 3, 5, 18, 0, tzinfo=TZ)    # the last day: still in
        assert client.get(f"/feeds/{token}/me.ics").status_code == 200
        core.fixed_now = dt.datetime(2026, 3, 6, 8, 0, tzinfo=TZ)     # the day after
        assert client.get(f"/feeds/{token}/me.ics",
                          headers={"If-None-Match": etag}).status_code == 404
        assert client.get(f"/feeds/{token}/me.ics").status_code == 404
    finally:
        feeds = app.extensions.get("calsync_feeds")
        if feeds is not None:
            feeds.close()
        app.extensions["calsync"].close()


def test_another_organizations_token_with_a_known_etag_gets_the_views_404(app: Flask) -> None:
    """A 304 is given only for a feed rendered for this token's reader: another organization's
    staff (or secretary) who learned the ETag of 管理办's feed gets the view's 404, not 304."""
    store = _store(app)
    own = store.feeds.feed_token(PERSON, "guanliban", actor="test")
    client = app.test_client()
    org = client.get(f"/feeds/{own}/org/guanliban.ics")
    assert org.status_code == 200
    etag = org.headers["ETag"]
    reached = Reached(app)
    for person in ("du_keyuan", "liu_zhuren"):        # 教育局 staff, 教育局's secretary
        other = store.feeds.feed_token(person, "jiaoyuju", actor="test")
        answer = client.get(f"/feeds/{other}/org/guanliban.ics",
                            headers={"If-None-Match": etag})
        assert answer.status_code == 404 and etag not in answer.headers.get("ETag", "")
    assert len(reached.paths) == 2                     # both went to the view
