"""The calendar views in real headless Chromium, at desktop width (1280 px) and on a 390 px
phone: the week as a time grid (overlapping meetings side by side, today highlighted,
meetings outside 08:00–18:00 at the edge), the month with 休/补班, the phone's day list, the
<input type=date> picker and its links, the marks with their legend, a notice's link landing
on the week, what a reader of another office or a non-invitee sees, and the clash page's
concurrency message naming the other secretary.

Today is Wednesday 2026-03-04; 主任办公会 is confidential (tests/support/webapp.py).
Screenshots: views-*.png under the pytest tmp dir (printed at the end of the module).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from email import message_from_string
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from calsync.meetings.links import anchor
from calsync.occurrence import TZ
from tests.support import web_fixtures as wf
from tests.support.web_fixtures import LiveWeb
from tests.support.webapp import confidential_policies

PASSWORD = "views-pw-1"
NOW = "2026-03-04T08:00:00+08:00"      # a Wednesday
USERS = ("zhou_mishukezhang", "chen_mishu", "qian_keyuan", "liu_zhuren")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ZHOULIHUI = "zhoulihui@guanliban.calsync"
ZRB = "zhurenbangong@guanliban.calsync"
MISHU_FRI = "kewuhui-mishuke-fri@guanliban.calsync"


def at(day: str, hm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWeb]:
    root = tmp_path_factory.mktemp("views")
    app = wf.shipped_app(root, USERS, PASSWORD, now=NOW,
                         CALSYNC_POLICIES=str(confidential_policies(root)))
    store = app.extensions["calsync"].store
    # This week: Monday's 周例会 cancelled, Friday's 科务会（秘书科） moved to 19:00 (after
    # the grid's 18:00: shown at its bottom edge).
    store.decisions.add_decision("guanliban", ZHOULIHUI, at("2026-03-02", "09:30"),
                                 "cancel",
                                 actor="zhou_mishukezhang", source="web", note="测试取消")
    store.decisions.add_decision("guanliban", MISHU_FRI, at("2026-03-06", "09:00"),
                                 "move",
                                 actor="zhou_mishukezhang", source="web",
                                 new_start=at("2026-03-06", "19:00"),
                                 new_end=at("2026-03-06", "19:45"))
    with wf.running(app) as web:
        web.shots = root / "screenshots"
        yield web
    print("\nscreenshots:", *sorted(p.name for p in (root / "screenshots").glob("*.png")))


@pytest.fixture
def pages(viewport_pages: Callable[[dict[str, int]], Any]) -> Callable[..., Any]:
    return lambda viewport=DESKTOP: viewport_pages(viewport)


def login(web: LiveWeb, pages: Callable[..., Any], name: str,
          viewport: dict[str, int] = DESKTOP) -> Any:
    return wf.login(web, pages(viewport), name, PASSWORD)


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, "not rendered"
    return found


def grid_block(page: Any, day: str, text: str) -> Any:
    return page.locator(f"#week-grid .wg-col[data-date='{day}'] .ev").filter(has_text=text)


# --- the week grid ------------------------------------------------------------------------

def test_overlapping_meetings_sit_side_by_side_in_one_time_row(live: LiveWeb, pages) -> None:
    sec = login(live, pages, "zhou_mishukezhang")
    sec.goto(f"{live.url}/meetings?date=2026-03-02")
    assert sec.locator("#week-grid").is_visible() and not sec.locator("#day-list").is_visible()
    monday = sec.locator("#week-grid .wg-col[data-date='2026-03-02']")
    column = box(monday)
    kewuhui = monday.locator(".ev").filter(has_text="科务会")
    assert kewuhui.count() == 4                       # the four sections' 科务会 at 10:30
    boxes = [box(kewuhui.nth(i)) for i in range(4)]
    for a in boxes:
        assert column["x"] - 1 <= a["x"] <= a["x"] + a["width"] <= column["x"] + column["width"] + 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            # side by side: no horizontal overlap, the same time row (same top and height)
            assert a["x"] + a["width"] <= b["x"] + 0.5 or b["x"] + b["width"] <= a["x"] + 0.5
            assert abs(a["y"] - b["y"]) < 1 and abs(a["height"] - b["height"]) < 1
    rows = {kewuhui.nth(i).get_attribute("data-row") for i in range(4)}
    assert rows == {"5"}                                # 10:30 is the sixth half-hour row
    # 周例会 09:30–10:30 ends where they begin: above them, full width.
    weekly = box(grid_block(sec, "2026-03-02", "周例会"))
    assert weekly["y"] + weekly["height"] <= boxes[0]["y"] + 1
    assert weekly["width"] > 3 * boxes[0]["width"]
    # 10:30 is 2.5 hours into a 10-hour grid.
    assert abs((boxes[0]["y"] - column["y"]) / column["height"] - 0.25) < 0.01
    # the deadline sits in the top row, not in the grid
    top = sec.locator("#week-grid .wg-topcell[data-date='2026-03-02']")
    assert "议题材料截止（主任办公会）" in top.inner_text()
    assert grid_block(sec, "2026-03-02", "议题材料截止").count() == 0
    live.shot(sec, "views-week-desktop")


def test_a_meeting_after_1800_is_shown_at_the_bottom_edge(live: LiveWeb, pages) -> None:
    sec = login(live, pages, "zhou_mishukezhang")
    sec.goto(f"{live.url}/meetings?date=2026-03-06")
    friday = box(sec.locator("#week-grid .wg-col[data-date='2026-03-06']"))
    late = grid_block(sec, "2026-03-06", "科务会（秘书科）")
    b = box(late)
    assert abs((b["y"] + b["height"]) - (friday["y"] + friday["height"])) < 1.5
    assert "19:00–19:45" in late.inner_text() and "已调整" in late.inner_text()
    assert "after" in (late.get_attribute("class") or "")


def test_today_is_highlighted(live: LiveWeb, pages) -> None:
    sec = login(live, pages, "zhou_mishukezhang")
    sec.goto(f"{live.url}/meetings")                  # no date: this week, today Wednesday
    head = sec.locator("#week-grid .wg-dayhead.today")
    assert head.count() == 1 and head.get_attribute("data-date") == "2026-03-04"
    assert head.get_attribute("aria-current") == "date" and "今天" in head.inner_text()
    colour = sec.locator("#week-grid .wg-col[data-date='2026-03-04']").evaluate(
        "e => getComputedStyle(e).backgroundColor")
    other = sec.locator("#week-grid .wg-col[data-date='2026-03-03']").evaluate(
        "e => getComputedStyle(e).backgroundColor")
    assert colour != other
    sec.goto(f"{live.url}/meetings?date=2026-03-18")  # another week: nothing highlighted
    assert sec.locator(".today").count() == 0
    phone = login(live, pages, "zhou_mishukezhang", PHONE)
    assert phone.locator("#day-list section.day.today").get_attribute("data-date") == \
        "2026-03-04"


# --- the month ----------------------------------------------------------------------------

def test_month_marks_holidays_and_makeup_days(live: LiveWeb, pages) -> None:
    sec = login(live, pages, "zhou_mishukezhang")
    sec.goto(f"{live.url}/meetings/month?date=2026-02-10")
    assert "2026年2月" in sec.locator("h1").inner_text()
    cell = sec.locator("#month td[data-date='2026-02-16']")
    assert "holiday" in cell.get_attribute("class") and "休·春节" in cell.inner_text()
    for makeup in ("2026-02-14", "2026-02-28"):       # Saturdays worked (调休)
        c = sec.locator(f"#month td[data-date='{makeup}']")
        assert "makeup" in c.get_attribute("class") and "补班" in c.inner_text()
    assert "weekend" in sec.locator("#month td[data-date='2026-02-07']").get_attribute("class")
    assert "周例会" in sec.locator("#month td[data-date='2026-02-09']").inner_text()
    assert "周例会" not in sec.locator("#month td[data-date='2026-02-16']").inner_text()
    live.shot(sec, "views-month-desktop")
    sec.goto(f"{live.url}/meetings/month?date=2026-03-04")
    today = sec.locator("#month td.today")
    assert today.get_attribute("data-date") == "2026-03-04" and "今天" in today.inner_text()
    phone = login(live, pages, "zhou_mishukezhang", PHONE)
    phone.goto(f"{live.url}/meetings/month?date=2026-02-10")
    assert phone.locator("#month td[data-date='2026-02-16']").is_visible()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    live.shot(phone, "views-month-phone")


# --- the phone's day list -----------------------------------------------------------------

def test_phone_shows_the_week_as_a_day_list(live: LiveWeb, pages) -> None:
    phone = login(live, pages, "zhou_mishukezhang", PHONE)
    phone.goto(f"{live.url}/meetings?date=2026-03-02")
    assert not phone.locator("#week-grid").is_visible()
    days = phone.locator("#day-list section.day")
    assert days.count() == 7
    boxes = [box(days.nth(i)) for i in range(7)]
    for a, b in itertools.pairwise(boxes):
        assert abs(a["x"] - b["x"]) < 1 and b["y"] >= a["y"] + a["height"]   # stacked
    assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in boxes)
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    monday = days.nth(0)
    assert "科务会（秘书科）" in monday.inner_text() and "10:30–11:15" in monday.inner_text()
    assert phone.locator("#legend").is_visible()
    live.shot(phone, "views-week-phone")


# --- the date picker ----------------------------------------------------------------------

@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_date_picker_and_links_navigate(live: LiveWeb, pages, viewport) -> None:
    sec = login(live, pages, "zhou_mishukezhang", viewport)
    sec.goto(f"{live.url}/meetings")
    assert sec.locator("input[type=week]").count() == 0
    picker = sec.locator("#datenav input[type=date][name=date]")
    assert picker.input_value() == "2026-03-04"
    picker.fill("2026-03-18")
    sec.locator("#datenav").get_by_role("button", name="转到").click()
    sec.wait_for_url(re.compile(r"date=2026-03-18"))
    assert "3月16日 周一 – 3月22日 周日" in sec.locator("h1").inner_text()
    sec.locator("#nav-prev").click()
    sec.wait_for_url(re.compile(r"date=2026-03-09"))
    assert "3月9日 周一" in sec.locator("h1").inner_text()
    sec.locator("#nav-next").click()
    sec.wait_for_url(re.compile(r"date=2026-03-16"))
    sec.locator("#nav-today").click()
    sec.wait_for_url(re.compile(r"date=2026-03-04"))
    assert "3月2日 周一" in sec.locator("h1").inner_text()
    sec.locator("#datenav").get_by_role("link", name="月").click()
    sec.wait_for_url(re.compile(r"/meetings/month"))
    sec.locator("#nav-next").click()
    sec.wait_for_url(re.compile(r"date=2026-04-01"))
    assert "2026年4月" in sec.locator("h1").inner_text()
    name = "desktop" if viewport is DESKTOP else "phone"
    live.shot(sec, f"views-datepicker-{name}")
    # the clash page picks its week the same way
    sec.goto(f"{live.url}/clashes")
    assert sec.locator("input[type=week]").count() == 0
    sec.locator("form.weeknav input[type=date]").fill("2026-03-11")
    sec.locator("form.weeknav").get_by_role("button", name="查看").click()
    sec.wait_for_url(re.compile(r"date=2026-03-11"))
    assert "3月9日 周一" in sec.locator("h1").inner_text()


# --- marks and legend ---------------------------------------------------------------------

def test_marks_are_shown_in_all_three_views(live: LiveWeb, pages) -> None:
    sec = login(live, pages, "zhou_mishukezhang")
    sec.goto(f"{live.url}/meetings?date=2026-03-02")
    cancelled = grid_block(sec, "2026-03-02", "周例会")
    assert cancelled.locator(".tag.mark.cancelled").inner_text() == "已取消"
    moved = grid_block(sec, "2026-03-06", "科务会（秘书科）").locator(".tag.mark.moved")
    assert moved.inner_text() == "已调整" and moved.get_attribute("title") == "原定 03月06日 09:00"
    legend = sec.locator("#legend").inner_text()
    assert all(w in legend for w in ("暂定", "待定", "已取消", "已调整", "忙碌", "补班"))
    sec.goto(f"{live.url}/meetings?date=2027-05-03")   # 2027 has no notice yet: 暂定
    assert sec.locator("#week-grid .occ .tag.mark.provisional", has_text="暂定").count() > 0
    live.shot(sec, "views-marks-provisional")
    sec.goto(f"{live.url}/meetings?date=2026-06-22")   # 系统工作会议 waits for a decision
    assert sec.locator("#week-grid .occ", has_text="系统工作会议").locator(
        ".tag.mark.tentative").inner_text() == "待定"

    sec.goto(f"{live.url}/meetings/month?date=2026-03-02")
    assert sec.locator("#month td[data-date='2026-03-02'] .occ", has_text="周例会").locator(
        ".tag.mark.cancelled").count() == 1
    assert sec.locator("#month td[data-date='2026-03-06'] .occ", has_text="19:00").locator(
        ".tag.mark.moved").count() == 1
    assert sec.locator("#legend").is_visible()
    sec.goto(f"{live.url}/meetings/month?date=2027-05-03")
    assert sec.locator("#month .occ .tag.mark.provisional").count() > 0

    phone = login(live, pages, "zhou_mishukezhang", PHONE)
    phone.goto(f"{live.url}/meetings?date=2026-03-02")
    monday = phone.locator("#day-list section.day[data-date='2026-03-02']")
    assert monday.locator(".occ", has_text="周例会").locator(".tag.mark.cancelled").is_visible()
    friday = phone.locator("#day-list section.day[data-date='2026-03-06']")
    assert friday.locator(".tag.mark.moved").is_visible()
    live.shot(phone, "views-marks-phone")


# --- a notice's link lands on the week ----------------------------------------------------

def test_notice_link_lands_on_the_week_with_the_meeting_marked(live: LiveWeb, pages) -> None:
    from calsync.app.notices_queue import queue

    c = live.app.extensions["calsync"]
    assert queue(c.policies, c.store, ["guanliban"], c.now(), web_base=live.url) > 0
    row = next(r for r in c.store.notices.outbox(["guanliban"])
               if r.recipient == "qian.li@glb.example.org" and r.method == "REQUEST"
               and "科务会（综合业务科）" in r.summary)
    part = next(p for p in message_from_string(row.message).walk()
                if p.get_content_type() == "text/plain")
    text = part.get_payload(decode=True).decode("utf-8")
    link = re.search(r"在网页日历中查看：(\S+)", text).group(1)
    assert link.startswith(live.url + "/meetings?date=")
    day = parse_qs(urlsplit(link).query)["date"][0]

    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = pages(viewport)
        page.goto(link)                                 # not logged in yet
        page.wait_for_url(re.compile(r"/login"))
        page.fill("input[name=username]", "qian_keyuan")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r"focus=occ-"))
        marked = page.locator(".occ.focus").locator("visible=true")
        assert marked.count() == 1 and "科务会（综合业务科）" in marked.inner_text()
        where = "#week-grid .wg-col" if viewport is DESKTOP else "#day-list section.day"
        assert page.locator(f"{where}[data-date='{day}'] .occ.focus").count() == 1
        live.shot(page, f"views-notice-link-{name}")


def test_meeting_page_links_to_its_week(live: LiveWeb, pages) -> None:
    staff = login(live, pages, "qian_keyuan", PHONE)
    rid = at("2026-03-06", "09:00").isoformat()
    staff.goto(f"{live.url}/meetings/{quote(MISHU_FRI)}/{quote(rid)}")
    staff.locator("#week-link").click()
    staff.wait_for_url(re.compile(r"date=2026-03-06"))   # the day it moved to
    marked = staff.locator("#day-list .occ.focus")
    assert marked.is_visible() and "19:00" in marked.inner_text()
    assert staff.locator("#day-list section.day[data-date='2026-03-06'] .occ.focus").count() == 1


# --- confidentiality ----------------------------------------------------------------------

def test_busy_blocks_and_other_offices_in_every_view(live: LiveWeb, pages) -> None:
    secret_focus = anchor(ZRB, at("2026-03-04", "09:00").isoformat())
    staff = login(live, pages, "qian_keyuan")
    staff.goto(f"{live.url}/meetings?date=2026-03-04&focus={secret_focus}")
    busy = staff.locator("#week-grid .wg-col[data-date='2026-03-04'] .ev.busy-block")
    assert busy.count() == 1
    assert busy.inner_text().split() == ["09:00–11:00", "忙碌"]
    assert busy.locator("a").count() == 0 and busy.get_attribute("id") is None
    assert staff.locator(".focus").count() == 0           # a focus link marks no busy block
    html = staff.content()
    assert "主任办公会</a>" not in html and secret_focus not in html
    assert "议题材料截止（主任办公会）" in html              # its deadline is public
    live.shot(staff, "views-week-busy")
    staff.goto(f"{live.url}/meetings/month?date=2026-03-04")
    cell = staff.locator("#month td[data-date='2026-03-04']")
    assert "忙碌" in cell.inner_text() and ">主任办公会</a>" not in staff.content()
    assert staff.goto(f"{live.url}/meetings/month?date=2026-03-04&org=jiaoyuju").status == 403
    # its page answers like an unknown meeting (issue 20): nothing ties the id to the block
    secret_page = f"/meetings/{quote(ZRB)}/{quote(at('2026-03-04', '09:00').isoformat())}"
    r = staff.goto(live.url + secret_page)
    assert r.status == 404 and "主任办公会" not in staff.content()

    leader = login(live, pages, "zhou_mishukezhang")      # a secretary of the office: full
    leader.goto(f"{live.url}/meetings?date=2026-03-04&focus={secret_focus}")
    assert "主任办公会" in leader.locator(".occ.focus").locator("visible=true").inner_text()

    other = login(live, pages, "liu_zhuren", PHONE)       # 教育局: none of 管理办's meetings
    for path in ("/meetings?date=2026-03-02", "/meetings/month?date=2026-03-02"):
        other.goto(live.url + path)
        assert other.locator("a[href*='guanliban']").count() == 0
        assert other.locator(".busy").count() == 0
    assert other.goto(f"{live.url}/meetings?date=2026-03-02&org=guanliban").status == 403


# --- the clash page's concurrency message --------------------------------------------------

def test_concurrent_cancel_names_the_other_secretary(live: LiveWeb, pages) -> None:
    rid = at("2026-03-09", "09:30").isoformat()
    form = f"{live.url}/clashes/cancel?series={quote(ZHOULIHUI)}&rid={quote(rid)}"
    first = login(live, pages, "zhou_mishukezhang", PHONE)
    second = login(live, pages, "chen_mishu", PHONE)
    first.goto(form)
    second.goto(form)
    first.locator("[name=note]").fill("第一位")
    first.get_by_role("button", name="确认取消").click()
    first.wait_for_load_state()
    second.locator("[name=note]").fill("第二位的说明")
    second.get_by_role("button", name="确认取消").click()
    second.wait_for_load_state()
    message = second.locator("#concurrent").inner_text()
    assert "周晓燕" in message and "取消" in message
    assert "zhou_mishukezhang" not in message and "cancel" not in message
    live.shot(second, "views-clash-concurrent-phone")
