"""Issue 13's rough edges (item 4, outside the calendar views), each as the page or the
generator shows it, against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from calsync.meetings.requests import request_summary
from calsync.occurrence import TZ
from tests.support.webapp import login, make_app

ZHOULIHUI = "zhoulihui@guanliban.calsync"
USERS = ("zhou_mishukezhang", "qian_keyuan", "wang_fuzhuren", "pan_keyuan", "du_keyuan")


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    yield app
    app.extensions["calsync"].close()


def store(app: Flask):
    return app.extensions["calsync"].store


def rid(day: str, time: str) -> str:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ).isoformat()


def nominal(day: str, time: str) -> dt.datetime:
    """The occurrence's nominal start, as the store takes it."""
    return dt.datetime.fromisoformat(rid(day, time))


# -- the move and cancel forms: no unlabelled "0" box ----------------------------------------

@pytest.mark.parametrize("page", ["cancel", "move"])
def test_decision_version_is_a_hidden_field(app: Flask, page: str) -> None:
    sec = login(app, "zhou_mishukezhang")
    html = sec.get(f"/clashes/{page}", query_string={
        "series": ZHOULIHUI, "rid": rid("2026-03-02", "09:30")}).data.decode()
    [tag] = re.findall(r'<input[^>]*name="version"[^>]*>', html)
    assert 'type="hidden"' in tag and 'value="0"' in tag, tag


# -- the audit log and decision history show names, not user ids ------------------------------

def test_meeting_page_names_the_people_who_acted(app: Flask) -> None:
    when = rid("2026-03-09", "09:30")
    store(app).decisions.add_decision("guanliban", ZHOULIHUI, dt.datetime.fromisoformat(when),
                                      "cancel",
                                      actor="zhou_mishukezhang",
                                      source="web", note="停会一次")
    html = login(app, "zhou_mishukezhang").get(f"/meetings/{ZHOULIHUI}/{when}").data.decode()
    log = html[html.index("操作日志"):]
    assert "周晓燕" in log and "zhou_mishukezhang" not in log
    assert "zhou_mishukezhang" not in html.split("<main>", 1)[1].split("</main>")[0]


# -- titles do not repeat the category ----------------------------------------------------------

def test_request_title_already_naming_its_category_is_kept() -> None:
    assert request_summary("党组会议（研究年度干部考核）", "党组会议") == \
        "党组会议（研究年度干部考核）"
    assert request_summary("研究年度干部考核", "党组会议") == "研究年度干部考核（党组会议）"


@given(st.text(min_size=1, max_size=30).filter(str.strip),
       st.sampled_from(["党组会议", "局党委会", "民主生活会", "局务会", "基层业务工作会"]))
def test_request_summary_names_the_category_exactly_once_more_at_most(title: str,
                                                                     category: str) -> None:
    summary = request_summary(title, category)
    assert category in summary
    assert summary.count(category) == max(1, title.strip().count(category))
    assert summary.startswith(title.strip())


def test_an_approved_request_titled_with_its_category_is_not_doubled(app: Flask) -> None:
    client = login(app, "pan_keyuan")   # 办公室: may ask for a 局党委会
    data = {"section": "bangongshi", "category": "dangwei", "title": "局党委会（研究招生方案）",
            "room": "", "audience": ["du_keyuan"], "start": "2026-03-03T15:00",
            "end": "2026-03-03T16:00"}
    r = client.post("/requests", data=data)
    assert r.status_code == 302, r.data.decode()
    [req] = store(app).requests.meeting_requests("jiaoyuju")
    from calsync.meetings.requests import request_series
    org = app.extensions["calsync"].policies.organizations["jiaoyuju"]
    [occ] = request_series(org, req).occurrences
    assert occ.summary == "局党委会（研究招生方案）"


# -- 我的日历订阅: the label names the scheme the link has --------------------------------------

def test_subscription_label_says_http_for_an_http_link(app: Flask) -> None:
    html = login(app, "qian_keyuan").get("/subscriptions").data.decode()
    links = re.findall(r'class="feed-url"', html)
    assert links and 'value="http://localhost/feeds/' in html
    assert "网址（http）" in html and "https" not in html


def test_subscription_label_says_https_behind_an_https_proxy(
        db_url: str, tmp_path: Path, policies_dir: Path) -> None:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS,
                   CALSYNC_PUBLIC_URL="https://rili.example.org")
    try:
        html = login(app, "qian_keyuan").get("/subscriptions").data.decode()
        assert "网址（https）" in html and 'value="https://rili.example.org/feeds/' in html
    finally:
        app.extensions["calsync"].close()


# -- 待我审批 only for people who approve something ----------------------------------------------

def test_approvals_link_only_for_approvers(app: Flask) -> None:
    def offered(name: str) -> bool:
        return 'href="/approvals"' in login(app, name).get("/subscriptions").data.decode()

    assert not offered("qian_keyuan")         # a 科员 approves nothing
    assert not offered("du_keyuan")
    assert offered("wang_fuzhuren")           # a supervising leader
    # an item addressed to a staff member (as a chair) makes the link appear
    store(app).leave.add_leave("guanliban", ZHOULIHUI,
                               nominal("2026-03-02", "09:30"),
                               "zhou_mishukezhang",
                               category="病假", reason="发烧", substitute_id=None, late=False,
                               needs_director=False, chair_id="qian_keyuan", director_id=None,
                               actor="zhou_mishukezhang")
    assert offered("qian_keyuan")


def test_staff_cannot_file_for_a_section_they_are_not_in(app: Flask) -> None:
    # Already enforced by issue 10's request rights: kept here as a regression check.
    client = login(app, "du_keyuan")   # 教育股
    data = {"section": "renshigu", "category": "jiceng", "title": "人事检查", "room": "",
            "audience": ["du_keyuan"], "start": "2026-03-03T15:00", "end": "2026-03-03T16:00"}
    html = client.get("/requests").data.decode()
    assert 'value="renshigu"' not in html
    assert client.post("/requests", data=data).status_code == 200
    assert store(app).requests.meeting_requests("jiaoyuju") == []


# -- a feed's Last-Modified is never later than its Date ---------------------------------------

def test_last_modified_never_after_date(db_url: str, tmp_path: Path, policies_dir: Path) -> None:
    # A server whose clock ran ahead stored the feed's Last-Modified; this one's clock is
    # right (the store keeps Last-Modified moving forward, so it stays in the future).
    ahead = (dt.datetime.now(TZ) + dt.timedelta(minutes=5)).isoformat()
    first = make_app(db_url, tmp_path / "inst", policies_dir, USERS, CALSYNC_NOW=ahead)
    token = store(first).feeds.feed_token("qian_keyuan", "guanliban", actor="test")
    url = f"/feeds/{token}/org/guanliban.ics"
    try:
        assert first.test_client().get(url).status_code == 200
    finally:
        first.extensions["calsync"].close()
    app = make_app(db_url, tmp_path / "inst", policies_dir, (), CALSYNC_NOW=None)
    try:
        r = app.test_client().get(url)
        assert r.status_code == 200
        date = parsedate_to_datetime(r.headers["Date"])
        modified = parsedate_to_datetime(r.headers["Last-Modified"])
        assert modified <= date
        # ... and a client that sends that date back still gets a change
        assert app.test_client().get(
            url, headers={"If-Modified-Since": r.headers["Last-Modified"]}).status_code == 200
    finally:
        app.extensions["calsync"].close()
