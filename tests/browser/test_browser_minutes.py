"""纪要与议定事项 in real headless Chromium, published to a real Radicale: 秘书科 writes the
周例会's minutes (with a file) and a decision for 综合业务科, publishes; the VTODO is on the
server as NEEDS-ACTION; 综合业务科's 科长 marks it done on the follow-up page; the next
publish makes it STATUS:COMPLETED with COMPLETED, and the one after plans nothing.
Screenshots: minutes-*.png."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import icalendar
import pytest

from calsync.occurrence import TZ
from tests.support import web_fixtures as wf
from tests.support.servers import ServerHandle
from tests.support.web_fixtures import LiveWeb

PASSWORD = "browser-pw-1"
USERS = ("zhou_mishukezhang", "wu_kezhang", "qian_keyuan")
UID = "zhoulihui@guanliban.calsync"
RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ).isoformat()
TITLE = "三月底前完成窗口服务考评办法修订"


@pytest.fixture
def live(tmp_path: Path, radicale_server: ServerHandle) -> Iterator[LiveWeb]:
    caldav = {"url": wf.empty_home(radicale_server), "username": radicale_server.username or "",
              "password": radicale_server.password or ""}
    with wf.running(wf.shipped_app(tmp_path, USERS, PASSWORD, CALSYNC_CALDAV=caldav)) as web:
        yield web


def _press(page: Any, button: Any, timeout: float = 15_000) -> None:
    with page.expect_navigation(timeout=timeout):
        button.click(timeout=timeout)
    page.wait_for_load_state()


def _publish(live: LiveWeb, page: Any) -> str:
    page.goto(f"{live.url}/publish")
    # the first publish writes two years of meetings: slow on a busy machine
    _press(page, page.get_by_role("button", name="确认发布"), timeout=300_000)
    text = page.locator("section.card").inner_text()
    assert "已发布" in text
    return text


def _task(server: ServerHandle, live: LiveWeb) -> Any:
    home = live.app.extensions["calsync"].caldav["url"]
    tasks = urljoin(home, "guanliban-tasks/")
    status, _, body = server.request("PROPFIND", tasks, b"", {"Depth": "1"})
    assert status == 207
    [href] = [h for h in wf.hrefs(body) if h.endswith(".ics")]
    status, _, data = server.request("GET", urljoin(tasks, href))
    assert status == 200
    [todo] = icalendar.Calendar.from_ical(data).walk("VTODO")
    return todo


def test_minutes_and_a_decision_to_done(live: LiveWeb, browser_pages: Callable[[], Any],
                                        radicale_server: ServerHandle) -> None:
    sec = wf.login(live, browser_pages(), "zhou_mishukezhang", PASSWORD)
    sec.goto(f"{live.url}/meetings/{quote(UID)}/{quote(RID)}")
    _press(sec, sec.locator("#minutes-link"))
    assert sec.locator("h1").inner_text() == "会议纪要：周例会"
    sec.fill("#text", "# 一、上周工作\n**窗口服务**运行平稳。<script>alert(1)</script>\n\n"
                      "- 考评办法修订\n- 人员培训")
    sec.set_input_files("#file", files=[{"name": "周例会纪要.pdf", "mimeType": "application/pdf",
                                          "buffer": b"%PDF-1.4 minutes"}])
    live.shot(sec, "minutes-1-write")
    _press(sec, sec.get_by_role("button", name="保存纪要"))
    assert "纪要已保存" in wf.flash(sec)
    text = sec.locator("#minutes-text")
    assert text.locator("strong").inner_text() == "窗口服务"
    assert "<script>alert(1)</script>" in text.inner_text()           # shown as text
    assert text.locator("script").count() == 0
    assert sec.locator("#minutes-file").inner_text() == "纪要文件：周例会纪要.pdf"

    sec.fill("#d-title", TITLE)
    sec.select_option("#d-section", label="综合业务科")
    sec.fill("#d-due", "2026-03-31")
    _press(sec, sec.get_by_role("button", name="添加议定事项"))
    assert f"已添加议定事项：{TITLE}" in wf.flash(sec)
    row = sec.locator("li.decision", has_text=TITLE)
    assert "承办：综合业务科，时限：2026-03-31" in row.inner_text()
    assert row.locator(".status").inner_text() == "未开始"
    live.shot(sec, "minutes-2-decision")

    _publish(live, sec)
    todo = _task(radicale_server, live)
    assert str(todo["SUMMARY"]) == TITLE and str(todo["STATUS"]) == "NEEDS-ACTION"
    # related to the calendar object of that 周例会: March's duty leader's (王立新's) part
    assert str(todo["RELATED-TO"]) == "zhoulihui--wang_fuzhuren@guanliban.calsync"
    assert todo["DUE"].dt == dt.date(2026, 3, 31)

    # a 科员 invited to 周例会 reads the minutes, and may not write them
    staff = wf.login(live, browser_pages(), "qian_keyuan", PASSWORD)
    staff.goto(f"{live.url}/minutes/{quote(UID)}/{quote(RID)}")
    assert "窗口服务" in staff.locator("#minutes-text").inner_text()
    assert staff.locator("#minutes-form").count() == 0

    chief = wf.login(live, browser_pages(), "wu_kezhang", PASSWORD)
    chief.get_by_role("link", name="议定事项").click()
    chief.wait_for_url(re.compile(r"/minutes/decisions"))
    item = chief.locator("li.decision", has_text=TITLE)
    item.get_by_label(f"办理状态：{TITLE}").select_option(label="已办结")
    item.get_by_label(f"进展情况：{TITLE}").fill("修订稿已印发")
    live.shot(chief, "minutes-3-progress")
    _press(chief, item.get_by_role("button", name="更新进展"))
    assert f"已更新：{TITLE}（已办结）" in wf.flash(chief)
    item = chief.locator("li.decision", has_text=TITLE)
    assert item.locator(".status").inner_text() == "已办结"
    assert "最新进展：修订稿已印发" in item.inner_text()

    _publish(live, sec)
    todo = _task(radicale_server, live)
    assert str(todo["STATUS"]) == "COMPLETED" and "COMPLETED" in todo
    assert int(todo["PERCENT-COMPLETE"]) == 100
    done = live.app.extensions["calsync"].store.minutes.action_items("guanliban")[0]
    assert todo["COMPLETED"].dt == done.completed_at.replace(microsecond=0)
    # the next plan has nothing to write
    sec.goto(f"{live.url}/publish")
    plan = sec.locator("section.card").inner_text()
    assert "新建" not in plan and "更新" not in plan
    live.shot(sec, "minutes-4-published")
