"""签到 in real headless Chromium: the 秘书科 opens the sheet on a desktop (QR code, short
code, the projector poster), an attendee signs in on a 390px phone after scanning, a 列席
without an account signs in with the code and her name, a late one is marked 迟到, and the
keeper's hand correction shows in the record. Screenshots: signin-*.png."""

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
USERS = ("zhou_mishukezhang", "wang_fuzhuren")
UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveWeb]:
    app = wf.shipped_app(tmp_path, USERS, PASSWORD, now="2026-03-04T08:50:00+08:00")
    with wf.running(app) as web:
        yield web


@pytest.fixture
def pages(viewport_pages: Callable[[dict[str, int]], Any]) -> Callable[[dict[str, int]], Any]:
    return viewport_pages


def _press(page: Any, button: Any) -> None:
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state()


def _fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_sign_in_by_qr_code_and_short_code(live: LiveWeb, pages: Any) -> None:
    keeper = wf.login(live, pages(DESKTOP), "zhou_mishukezhang", PASSWORD)
    keeper.goto(f"{live.url}/meetings/{quote(UID)}/{quote(RID)}")
    _press(keeper, keeper.locator("#signin-link"))
    assert keeper.locator("h1").inner_text() == "签到：主任办公会"
    assert keeper.locator("#qr svg").is_visible()
    code = keeper.locator("#signin-code").inner_text()
    assert len(code) == 6 and code.isdigit()
    url = keeper.locator("#keeper code").inner_text()
    assert url.startswith(f"{live.url}/s/")
    live.shot(keeper, "signin-1-keeper")
    keeper.goto(f"{live.url}{keeper.locator('#poster-link').get_attribute('href')}")
    assert keeper.locator("#poster-code").inner_text() == code
    assert keeper.locator("#poster-qr svg").bounding_box()["width"] >= 450   # projector-big
    live.shot(keeper, "signin-2-poster")

    phone = wf.login(live, pages(PHONE), "wang_fuzhuren", PASSWORD)
    phone.goto(url)                                      # what the QR code opens
    assert "主任办公会" in phone.locator("h1").inner_text()
    _press(phone, phone.locator("#sign-button"))
    assert "签到成功：王立新，08:50。" in phone.locator("#result").inner_text()
    assert _fits(phone)
    live.shot(phone, "signin-3-phone")

    guest = pages(PHONE)                                 # 列席, no account
    guest.goto(url)
    assert "主任办公会" not in guest.locator("main").inner_text()
    guest.fill("#code", code)
    guest.fill("#name", "陈静")
    live.shot(guest, "signin-4-code")
    _press(guest, guest.get_by_role("button", name="签到"))
    assert "签到成功：陈静，08:50。" in guest.locator("#result").inner_text()
    assert _fits(guest)

    live.app.extensions["calsync"].fixed_now = dt.datetime(2026, 3, 4, 9, 6, tzinfo=TZ)
    late = pages(PHONE)
    late.goto(url)
    late.fill("#code", code)
    late.fill("#name", "李红梅")
    _press(late, late.get_by_role("button", name="签到"))
    assert "签到成功：李红梅，09:06，记为迟到。" in late.locator("#result").inner_text()

    keeper.goto(f"{live.url}/signin/{quote(UID)}/{quote(RID)}")
    row = keeper.locator("tr", has_text="赵志强")
    row.locator("select").select_option("present")
    _press(keeper, row.get_by_role("button", name="登记：赵志强"))
    assert "已登记：赵志强 出席。" in wf.flash(keeper)
    assert "赵志强：未登记 → 出席" in keeper.locator("#corrections").inner_text()
    counts = keeper.locator("#counts").inner_text()
    assert counts == "应到 6 人，出席 3，迟到 1，请假 0，缺席 2，出席率 67%"
    assert keeper.locator("tr", has_text="李红梅").locator(".status").inner_text() == "迟到"
    live.shot(keeper, "signin-5-report")
    small = pages(PHONE)
    wf.login(live, small, "zhou_mishukezhang", PASSWORD)
    small.goto(f"{live.url}/signin/{quote(UID)}/{quote(RID)}")
    assert small.locator("#qr svg").bounding_box()["width"] <= 390
    assert _fits(small)
    live.shot(small, "signin-6-keeper-phone")
