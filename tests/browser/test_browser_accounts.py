"""Accounts and 我的日历订阅 in real headless Chromium (Debian's, via Playwright), on a desktop
screen and a 390 px phone: a secretary gives a temporary password on the page, its owner must
change it at the first login, the login page says the same for every failure, and the
subscription page fits the phone. Screenshots: test-artifacts/screenshots/accounts-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb

NOW = "2026-03-01T08:00:00+08:00"
PASSWORD = "browser-pw-1"
USERS = ("zhou_mishukezhang", "qian_keyuan", "lin_keyuan", "xu_keyuan", "wang_fuzhuren")
SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# per screen: the staff member whose password the secretary resets
STAFF = {"desktop": "qian_keyuan", "phone": "lin_keyuan"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWeb]:
    root = tmp_path_factory.mktemp("browser-accounts")
    with wf.running(wf.shipped_app(root, USERS, PASSWORD, now=NOW)) as web:
        yield web


@pytest.fixture(params=sorted(SCREENS))
def screen(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def pages(viewport_pages: Callable[[dict[str, int]], Any], screen: str) -> Callable[[], Any]:
    return lambda: viewport_pages(SCREENS[screen])


def _login(web: LiveWeb, page: Any, name: str, password: str) -> None:
    page.goto(f"{web.url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def _fits(page: Any) -> bool:
    """No horizontal scrolling: nothing is wider than the screen."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_temporary_password_then_own_password(live: LiveWeb, pages: Any, screen: str) -> None:
    name = STAFF[screen]
    sec = pages()
    _login(live, sec, "zhou_mishukezhang", PASSWORD)
    sec.get_by_role("link", name="人员与密码").click()
    sec.wait_for_url(re.compile(r"/people$"))
    row = sec.locator(f"tr#user-{name}")
    assert row.locator("td").nth(3).inner_text() == "已设置"
    live.shot(sec, f"accounts-{screen}-1-people")
    row.get_by_role("button", name="重置密码").click()
    sec.wait_for_url(re.compile(rf"/people/{name}/reset$"))
    temporary = sec.locator("#temporary-password").inner_text().strip()
    assert len(temporary) >= 10 and "只显示这一次" in sec.locator("main").inner_text()
    assert _fits(sec)
    live.shot(sec, f"accounts-{screen}-2-temporary-password")
    sec.goto(f"{live.url}/people")
    assert sec.locator(f"tr#user-{name} td").nth(3).inner_text() == "临时密码（待本人修改）"
    assert temporary not in sec.content()

    staff = pages()
    _login(live, staff, name, temporary)
    staff.wait_for_url(re.compile(r"/account/password$"))
    assert staff.locator("#temporary").is_visible()
    staff.goto(f"{live.url}/meetings")        # nothing else opens before the change
    staff.wait_for_url(re.compile(r"/account/password$"))
    staff.fill("input[name=current]", temporary)
    staff.fill("input[name=new]", "short")
    staff.fill("input[name=confirm]", "short")
    staff.get_by_role("button", name="修改密码").click()
    assert "新密码至少10位" in staff.locator("main").inner_text()
    assert _fits(staff)
    live.shot(staff, f"accounts-{screen}-3-change-password")
    mine = f"{screen}-own-password"
    staff.fill("input[name=current]", temporary)
    staff.fill("input[name=new]", mine)
    staff.fill("input[name=confirm]", mine)
    staff.get_by_role("button", name="修改密码").click()
    staff.wait_for_url(re.compile(r"/meetings"))
    assert "密码已修改" in staff.locator("p.flash").first.inner_text()
    live.shot(staff, f"accounts-{screen}-4-changed")

    again = pages()
    _login(live, again, name, mine)
    again.wait_for_url(re.compile(r"/meetings"))
    assert again.locator("form.who").is_visible()


def test_login_page_says_the_same_for_every_failure(live: LiveWeb, pages: Any,
                                                    screen: str) -> None:
    seen = []
    for name in ("zhou_mishukezhang", "he_keyuan", f"nobody_{screen}"):
        page = pages()
        _login(live, page, name, "not-the-password")
        seen.append(page.locator("span.error").inner_text())
    assert seen == ["用户名或密码不正确。"] * 3
    live.shot(page, f"accounts-{screen}-5-login-failed")


def test_subscription_page_fits_and_names_the_scheme(live: LiveWeb, pages: Any,
                                                     screen: str) -> None:
    page = pages()
    _login(live, page, "zhou_mishukezhang", PASSWORD)
    page.get_by_role("link", name="我的日历订阅").click()
    page.wait_for_url(re.compile(r"/subscriptions$"))
    text = page.locator("main").inner_text()
    assert "网址（http）" in text and "https" not in text
    webcal = page.locator("a.feed-webcal").first
    assert webcal.inner_text().startswith("webcal://127.0.0.1:")
    box = webcal.bounding_box()
    assert box["x"] + box["width"] <= SCREENS[screen]["width"]
    assert _fits(page)
    live.shot(page, f"accounts-{screen}-6-subscriptions")


def test_approvals_link_is_offered_to_approvers_only(live: LiveWeb, pages: Any,
                                                     screen: str) -> None:
    staff, leader = pages(), pages()
    _login(live, staff, "xu_keyuan", PASSWORD)
    _login(live, leader, "wang_fuzhuren", PASSWORD)
    assert staff.locator("header nav").get_by_role("link", name="待我审批").count() == 0
    assert staff.locator("header nav").get_by_role("link", name="修改密码").count() == 1
    assert leader.locator("header nav").get_by_role("link", name="待我审批").count() == 1
    live.shot(staff, f"accounts-{screen}-7-staff-nav")
