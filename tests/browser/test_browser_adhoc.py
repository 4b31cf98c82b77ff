"""临时会议 and 列席 in real headless Chromium: a secretary adds an extra 系统工作会议, sees the
clash, saves it with a note; the chair (主任) then adds a 列席 person to it on the meeting
page. Screenshots: adhoc-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb

PASSWORD = "browser-pw-1"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveWeb]:
    users = ("zhou_mishukezhang", "zhang_zhuren")
    with wf.running(wf.shipped_app(tmp_path, users, PASSWORD)) as web:
        yield web


def test_secretary_adds_an_adhoc_meeting_and_the_chair_a_sitting_in(
        live: LiveWeb, browser_pages: Callable[[], Any]) -> None:
    store = live.app.extensions["calsync"].store
    page = wf.login(live, browser_pages(), "zhou_mishukezhang", PASSWORD)
    page.get_by_role("link", name="临时会议").click()
    page.select_option("#meeting_type", "xitong")
    page.fill("#title", "临时系统会")
    page.fill("#start", "2026-03-04T10:00")
    page.fill("#end", "2026-03-04T12:00")
    page.get_by_role("button", name="检查并保存").click()
    page.wait_for_load_state()
    clashes = page.locator("#adhoc-clashes").inner_text()
    assert "主任办公会" in clashes and "张建国" in clashes
    assert store.adhoc.adhoc_meetings("guanliban") == []
    live.shot(page, "adhoc-1-clash")
    page.check("#confirm")
    page.fill("#note", "主任办公会提前结束")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/meetings/adhoc-"))
    assert "已增加临时会议" in wf.flash(page)
    assert page.locator("h1").first.inner_text().startswith("临时系统会（系统工作会议）")
    [row] = store.adhoc.adhoc_meetings("guanliban")
    assert row.note == "主任办公会提前结束"
    live.shot(page, "adhoc-2-saved")
    meeting_url = page.url

    chair = wf.login(live, browser_pages(), "zhang_zhuren", PASSWORD)
    chair.goto(meeting_url)
    chair.select_option("#sitting-in-person", "qian_keyuan")
    chair.get_by_role("button", name="增加列席").click()
    chair.wait_for_load_state()
    assert "已增加列席人员" in wf.flash(chair)
    item = chair.locator("ul.attendees li", has_text="钱")
    assert "列席" in item.last.inner_text()
    assert chair.locator("#sitting-in .sitting-in-row").count() == 1
    live.shot(chair, "adhoc-3-sitting-in")
    [si] = store.adhoc.sitting_in("guanliban")
    assert si.person_id == "qian_keyuan" and si.created_by == "zhang_zhuren"
