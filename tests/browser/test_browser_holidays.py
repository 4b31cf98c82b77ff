"""节假日 page in real headless Chromium: a secretary pastes a notice, reads the before/after
list, applies it, and the week page loses its 暂定 marks. Screenshots: holidays-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import web_fixtures as wf
from tests.support.holiday_notices import NOTICE_2027
from tests.support.web_fixtures import LiveWeb

PASSWORD = "browser-pw-1"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveWeb]:
    with wf.running(wf.shipped_app(tmp_path, ("zhou_mishukezhang",), PASSWORD)) as web:
        yield web


def test_secretary_applies_a_notice(live: LiveWeb,
                                    browser_pages: Callable[[], Any]) -> None:
    page = wf.login(live, browser_pages(), "zhou_mishukezhang", PASSWORD)
    page.goto(f"{live.url}/meetings?week=2027-W18")
    assert page.locator(".occ .tag", has_text="暂定").count() > 0
    page.get_by_role("link", name="节假日").click()
    assert "国务院放假通知尚未导入" in page.locator("#years").inner_text()
    page.fill("textarea[name=text]", NOTICE_2027)
    page.get_by_role("button", name="查看会议变动").click()
    page.wait_for_load_state()
    preview = page.locator("#notice-changes")
    assert "20 项会议或截止时间将变动" in preview.inner_text()
    row = preview.locator("tr", has_text="2027-02-12").first
    assert "不再举行" in row.inner_text()
    live.shot(page, "holidays-1-preview")
    page.get_by_role("button", name="确认应用").click()
    page.wait_for_load_state()
    assert "已应用2027年节假日安排" in page.locator(".flash").first.inner_text()
    assert "2027年：已导入国务院放假通知" in page.locator("#years").inner_text()
    live.shot(page, "holidays-2-applied")
    page.goto(f"{live.url}/meetings?week=2027-W18")
    assert page.locator(".occ .tag", has_text="暂定").count() == 0
    assert (Path(live.app.config["CALSYNC_INSTANCE"]) / "holidays" / "2027.toml").is_file()
