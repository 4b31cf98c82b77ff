"""导入通讯录 in real headless Chromium (Debian's, via Playwright), on a desktop screen and a
390 px phone: the 教育局's secretary uploads its 300-person 通讯录, reads the diff, presses
确认导入 and finds the new people on 人员与密码; a file that is not a spreadsheet gets a
Chinese message; another organization's secretary gets 403.
Screenshots: test-artifacts/screenshots/directory-*.png."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calsync.policy import shipped_policies
from tests.support import directory_sheets as ds
from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb

NOW = "2026-03-01T08:00:00+08:00"
PASSWORD = "browser-pw-1"
USERS = ("liu_zhuren", "zhou_mishukezhang")
SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ds.write_xlsx(tmp_path_factory.mktemp("sheet") / "教育局通讯录.xlsx",
                         ds.three_hundred())


@pytest.fixture(scope="module")
def lives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveWeb]]:
    """One service per screen, each on its own copy of the policies (the import writes)."""
    with contextlib.ExitStack() as stack:
        out = {}
        for screen in SCREENS:
            root = tmp_path_factory.mktemp(f"browser-directory-{screen}")
            policies = root / "policies"
            shutil.copytree(shipped_policies(), policies,
                            ignore=shutil.ignore_patterns("*.py", "__pycache__"))
            app = wf.shipped_app(root, USERS, PASSWORD, now=NOW,
                                 CALSYNC_POLICIES=str(policies))
            out[screen] = stack.enter_context(wf.running(app))
        yield out


@pytest.fixture(params=sorted(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def page(chromium: Any, screen: str) -> Iterator[Any]:
    context = chromium.new_context(viewport=SCREENS[screen], locale="zh-CN",
                                   timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def _fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_upload_diff_and_apply(lives: dict[str, LiveWeb], page: Any, screen: str,
                               sheet: Path) -> None:
    live = lives[screen]
    wf.login(live, page, "liu_zhuren", PASSWORD)
    page.goto(f"{live.url}/people")
    page.locator("#directory-import").click()
    page.wait_for_url(re.compile(r"/people/directory$"))
    page.set_input_files("#sheet", str(sheet))
    page.get_by_role("button", name="查看变动").click()
    page.wait_for_selector("#directory-diff")
    assert page.locator("#diff-summary").inner_text().startswith(
        "新增 289 人，变更 11 人，离职 1 人，未变 0 人")
    assert page.locator("#diff-left").inner_text().count("谢婷") == 1
    changed = page.locator("#diff-changed").inner_text()
    assert re.search(r"杜娟\s+du_keyuan\s+科室\s+教育股\s+人事股", changed)
    assert not page.locator("#diff-added").is_visible()        # 289 rows: folded
    assert _fits(page)
    live.shot(page, f"directory-{screen}-1-diff")
    page.locator("#added summary").click()
    assert page.locator("#diff-added tbody tr").count() == 289
    assert page.locator("#diff-added").inner_text().count("zhangwei") == 4
    assert _fits(page)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r"/people$"))
    flash = page.locator("p.flash").first.inner_text()
    assert "通讯录已导入：新增289人，变更11人，离职1人" in flash
    assert page.locator("tr#user-zhangwei4").count() == 1
    assert "2026-03-01 离职" in page.locator("tr#user-xie_keyuan").inner_text()
    assert _fits(page)
    live.shot(page, f"directory-{screen}-2-applied")


def test_not_a_spreadsheet_and_another_organization(lives: dict[str, LiveWeb], page: Any,
                                                    screen: str, tmp_path: Path) -> None:
    live = lives[screen]
    bogus = tmp_path / "通讯录.xlsx"
    bogus.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    wf.login(live, page, "liu_zhuren", PASSWORD)
    page.goto(f"{live.url}/people/directory")
    page.set_input_files("#sheet", str(bogus))
    page.get_by_role("button", name="查看变动").click()
    page.wait_for_selector("#import-errors")
    assert "无法识别的文件：这不是 Excel 表格（.xlsx）或 CSV 文件" in \
        page.locator("#import-errors").inner_text()
    assert page.get_by_role("button", name="确认导入").count() == 0
    assert _fits(page)
    live.shot(page, f"directory-{screen}-3-not-a-sheet")
    other = page.context.browser.new_context(viewport=SCREENS[screen], locale="zh-CN")
    try:
        p2 = other.new_page()
        wf.login(live, p2, "zhou_mishukezhang", PASSWORD)        # 管理办's secretary
        r = p2.goto(f"{live.url}/people/directory?org=jiaoyuju")
        assert r is not None and r.status == 403
        assert "无权操作" in p2.locator("main").inner_text()
    finally:
        other.close()
