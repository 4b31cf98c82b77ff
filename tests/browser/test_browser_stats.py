"""统计 and 一周会议安排 in real headless Chromium, on a desktop screen and a 390px phone: the
SVG charts and the held/scheduled tables, the downloads (XLSX read back), the printable
monthly report and weekly sheet under print media, the week chooser (a <select>, no
<input type=week>), and the notice-board version with a confidential meeting as 忙碌.
Screenshots: stats-*.png, weekly-*.png."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb
from tests.web.test_weekly_sheet import SECRET, party_meeting

PASSWORD = "browser-pw-1"
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWeb]:
    root = tmp_path_factory.mktemp("stats-browser")
    app = wf.shipped_app(root, ("zhou_mishukezhang", "qian_keyuan"), PASSWORD,
                         now="2026-12-04T16:00:00+08:00")        # a Friday
    party_meeting(app.extensions["calsync"].store)
    with wf.running(app) as web:
        yield web


def page_on(chromium: Any, screen: str) -> Any:
    context = chromium.new_context(viewport=SCREENS[screen], locale="zh-CN",
                                   timezone_id="Asia/Shanghai", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def no_page_overflow(page: Any) -> bool:
    """Wide tables scroll inside their box; the page itself never scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_stats_page_charts_exports_and_report(live: LiveWeb, chromium: Any,
                                              screen: str) -> None:
    from openpyxl import load_workbook

    page = wf.login(live, page_on(chromium, screen), "zhou_mishukezhang", PASSWORD)
    page.get_by_role("link", name="统计").click()
    page.wait_for_url("**/stats")
    assert "管理办 2026年" in page.locator("h1").inner_text()
    chart = page.locator("svg#chart-months")
    assert chart.is_visible() and chart.bounding_box()["width"] > 200
    assert chart.locator("g.bar.scheduled[data-label='12月']").get_attribute("data-value") == "39"
    # By 12-04 16:00 only that Friday's 科务会 (one per section) have been held in December;
    # 38 policy meetings + next week's 党组会议 are scheduled.
    dec = page.locator("#stats-months tfoot td.num").nth(11)
    assert dec.inner_text().replace("\n", "") == "4/39"
    zonghe = page.locator("#stats-months tr[data-section='zonghe'] td.num").nth(11)
    assert zonghe.inner_text().replace("\n", "") == "1/8"
    assert no_page_overflow(page)
    live.shot(page, f"stats-1-page-{screen}")
    with page.expect_download() as info:
        page.get_by_role("link", name="导出 Excel（XLSX）").click()
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert wb.sheetnames == ["按月", "按半年", "会议明细"]
    assert ("综合业务科", "2026-12", 8, 1, 0, 7, 0, 0, None) in list(
        wb["按月"].iter_rows(values_only=True))
    page.get_by_role("link", name="月度报告（可打印）").click()
    page.wait_for_url("**/stats/report**")
    assert "2026年12月会议统计报告" in page.locator("h1").inner_text()
    assert page.locator("#report-meetings").inner_text().count("科务会") >= 4
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("nav.weeknav").is_visible()
    assert page.locator("#report-sections").is_visible()
    live.shot(page, f"stats-2-report-print-{screen}")
    page.context.close()


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_weekly_sheet_chooser_board_and_print(live: LiveWeb, chromium: Any,
                                              screen: str) -> None:
    staff = wf.login(live, page_on(chromium, screen), "qian_keyuan", PASSWORD)
    staff.get_by_role("link", name="一周安排").click()
    staff.wait_for_url("**/weekly")
    assert "2026年12月7日—12月13日" in staff.locator("#weekly").inner_text()
    assert staff.locator("input[type=week]").count() == 0
    busy = staff.locator("#weekly-table tr.busy")
    assert busy.count() == 1 and "忙碌" in busy.inner_text()
    assert SECRET not in staff.content() and "党组会议" not in staff.content()
    assert no_page_overflow(staff)
    live.shot(staff, f"weekly-1-staff-{screen}")
    staff.select_option("select[name=week]", "2026-W49")
    staff.get_by_role("button", name="查看").click()
    staff.wait_for_url("**week=2026-W49**")
    assert "2026年11月30日—12月6日" in staff.locator("#weekly").inner_text()
    staff.get_by_role("link", name="下一周 ›").click()
    staff.wait_for_url("**week=2026-W50**")
    staff.context.close()

    sec = wf.login(live, page_on(chromium, screen), "zhou_mishukezhang", PASSWORD)
    sec.goto(f"{live.url}/weekly?week=2026-W50")
    assert f"党组会议（{SECRET}）" in sec.locator("#weekly-table").inner_text()
    sec.get_by_role("link", name="公告栏版").click()
    sec.wait_for_url("**board=1**")
    table = sec.locator("#weekly-table").inner_text()
    assert "忙碌" in table and SECRET not in table and "周例会" in table
    sec.emulate_media(media="print")
    assert not sec.locator("header.top").is_visible()
    assert not sec.locator("#weekly-links").is_visible()
    assert sec.locator("h1").inner_text() == "市行政服务中心管理办一周会议安排"
    live.shot(sec, f"weekly-2-board-print-{screen}")
    sec.emulate_media(media="screen")
    with sec.expect_download() as info:
        sec.get_by_role("link", name="下载 Word（DOCX）").click()
    from docx import Document

    doc = Document(info.value.path())
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert ["12月8日", "星期二", "09:00—11:00", "忙碌", "", "", "", ""] in rows
    assert not any(SECRET in "".join(r) for r in rows)
    sec.context.close()
