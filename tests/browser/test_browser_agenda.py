"""议题与议程 in real headless Chromium: a 科员 submits a topic with its materials, the 分管领导
consents, 秘书科 orders the agenda, the 主任 approves it and the meeting's 会议说明 opens with
it. Screenshots: agenda-*.png."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from calsync.occurrence import TZ
from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb

PASSWORD = "browser-pw-1"
USERS = ("qian_keyuan", "wang_fuzhuren", "zhou_mishukezhang", "zhang_zhuren")
UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()
TITLE = "审议窗口服务考评办法（修订稿）"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveWeb]:
    with wf.running(wf.shipped_app(tmp_path, USERS, PASSWORD)) as web:
        yield web


def _open(live: LiveWeb, pages: Callable[[], Any], name: str) -> Any:
    page = wf.login(live, pages(), name, PASSWORD)
    page.goto(f"{live.url}/meetings/{quote(UID)}/{quote(RID)}")
    page.locator("#agenda-link").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("议题与议程：主任办公会")
    return page


def _press(page: Any, button: Any) -> None:
    """Click a form's button and wait for the page it posts to (redirect included)."""
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def test_topic_to_approved_agenda(live: LiveWeb, browser_pages: Callable[[], Any]) -> None:
    staff = _open(live, browser_pages, "qian_keyuan")
    staff.fill("#title", TITLE)
    staff.fill("#minutes", "25")
    staff.fill("#link", "https://oa.example.org/doc/42")
    staff.set_input_files("#file", files=[{"name": "考评办法.pdf", "mimeType": "application/pdf",
                                            "buffer": b"%PDF-1.4 test"}])
    live.shot(staff, "agenda-1-submit")
    _press(staff, staff.get_by_role("button", name="提交议题"))
    assert "议题已提交，待分管领导同意" in wf.flash(staff)
    topic = staff.locator("li.topic", has_text=TITLE)
    assert "待分管领导同意" in topic.inner_text() and "逾期" not in topic.inner_text()

    leader = _open(live, browser_pages, "wang_fuzhuren")
    live.shot(leader, "agenda-2-consent")
    _press(leader, leader.get_by_role("button", name=f"同意上会：{TITLE}"))
    assert "已同意议题" in wf.flash(leader)
    assert "分管领导已同意" in leader.locator("li.topic", has_text=TITLE).inner_text()

    sec = _open(live, browser_pages, "zhou_mishukezhang")
    live.shot(sec, "agenda-3-order")
    sec.locator("li.topic", has_text=TITLE).locator("input.pos").fill("1")
    _press(sec, sec.get_by_role("button", name="编排议程"))
    assert "议程已编排，待审定" in wf.flash(sec)
    assert sec.locator("#approve-form").count() == 0       # 秘书科 does not approve

    chair = _open(live, browser_pages, "zhang_zhuren")
    assert "待审定" in chair.locator(".agenda-version").first.inner_text()
    _press(chair, chair.get_by_role("button", name="审定议程"))
    assert "议程已审定" in wf.flash(chair)
    live.shot(chair, "agenda-4-approved")
    chair.goto(f"{live.url}/meetings/{quote(UID)}/{quote(RID)}")
    chair.locator("summary", has_text="会议说明").click()
    text = chair.locator("pre.desc").inner_text()
    assert text.startswith(f"议程：\n1. {TITLE}（汇报：钱丽，约25分钟）")
    live.shot(chair, "agenda-5-meeting")
