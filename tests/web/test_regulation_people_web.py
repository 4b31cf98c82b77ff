"""Issue 10, item 3 on the page: request rights, each organization's words, confirming a
tentative meeting and a decision for a whole series (real store, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.app.service import clash_view
from tests.support.webapp import login, make_app

USERS = ("zhou_mishukezhang", "wu_kezhang", "tang_guzhang", "pan_keyuan", "song_fujuzhang",
         "liu_zhuren")
XITONG = "xitong-2026@guanliban.calsync"
XITONG_RID = "2026-06-25T09:00:00+08:00"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    yield app
    app.extensions["calsync"].close()


def _options(page: str, name: str) -> list[str]:
    block = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S)
    assert block is not None
    return re.findall(r'<option[^>]*value="([^"]*)"', block.group(0))


def test_request_form_offers_and_accepts_only_ones_own_section_and_categories(
        app: Flask) -> None:
    """篇二 二.3 "各股室站办需要召开会议，经分管局领导同意后"; 三.1 局党委会 "由局主要领导
    召集主持，办公室负责通知"."""
    store = app.extensions["calsync"].store
    client = login(app, "tang_guzhang")   # chief of 教育股
    page = client.get("/requests").data.decode()
    assert _options(page, "section") == ["jiaoyugu"]
    assert "dangwei" not in _options(page, "category")
    assert "jiceng" in _options(page, "category")
    base = {"title": "党委会", "room": "", "audience": ["du_keyuan"],
            "start": "2026-03-03T09:00", "end": "2026-03-03T10:00"}
    # Refused server-side whatever the form offered.
    text = client.post("/requests", data={**base, "section": "jiaoyugu",
                                          "category": "dangwei"}).data.decode()
    assert "「局党委会」只能由办公室或党委书记提出申请" in text
    text = client.post("/requests", data={**base, "section": "renshigu",
                                          "category": "jiceng"}).data.decode()
    assert "只能为本股室提出会议申请" in text
    assert store.requests.meeting_requests("jiaoyuju") == []
    # The 办公室 may; the 书记 (局长 黄志远) approves, not the section's 副局长.
    office = login(app, "pan_keyuan")
    r = office.post("/requests", data={**base, "section": "bangongshi", "category": "dangwei"})
    assert r.status_code == 302
    [req] = store.requests.meeting_requests("jiaoyuju")
    assert req.approver_id == "huang_juzhang"


def test_guanliban_pages_use_its_own_words(app: Flask) -> None:
    """篇一 says 科室, 秘书科, 主任; its requests and statistics follow 篇二 二.3 by reference."""
    glb = login(app, "zhou_mishukezhang")
    page = glb.get("/requests").data.decode()
    assert "申请科室" in page and "报告秘书科（参照篇二 二.3）" in page and "由主任审批" in page
    assert "股室" not in page and "局长" not in page
    stats = glb.get("/stats?year=2026").data.decode()
    assert "各科室召开的会议次数" in stats and "参照篇二 二.3" in stats and "报主任" in stats
    assert "股室" not in stats
    leave = glb.get("/leave").data.decode()
    assert "一把手请假还需主任审批" in leave and "局长" not in leave
    jyj = login(app, "liu_zhuren").get("/stats?year=2026").data.decode()
    assert "各股室召开的会议次数" in jyj and "（篇二 二.3）" in jyj and "报局长" in jyj


def test_a_secretary_confirms_a_tentative_meeting_on_its_page(app: Flask) -> None:
    """篇一 五.1 "系统工作会议，由管理办主任会议确定": 待定 until the decision is recorded."""
    url = f"/meetings/{XITONG}/{XITONG_RID}"
    staff = login(app, "wu_kezhang")
    week = staff.get("/meetings?week=2026-W26&org=guanliban").data.decode()
    assert '系统工作会议</a>' in week and 'tentative">待定' in week
    page = staff.get(url).data.decode()
    assert 'id="tentative">待定' in page and "confirm-form" not in page
    assert staff.post(url + "/confirm", data={"version": 0}).status_code == 403
    sec = login(app, "zhou_mishukezhang")
    assert "confirm-form" in sec.get(url).data.decode()
    r = sec.post(url + "/confirm", data={"version": 0, "note": "主任办公会2026-05-20确定"})
    assert r.status_code == 302
    page = sec.get(url).data.decode()
    assert 'id="tentative"' not in page and "已确定：主任办公会2026-05-20确定" in page
    assert 'tentative">待定' not in sec.get("/meetings?week=2026-W26&org=guanliban").data.decode()


def test_one_series_decision_on_the_clash_page_ends_the_weekly_clash(app: Flask) -> None:
    """篇一 四.1 "管理办分管领导参加所分管科室的科务会议": 王立新's two 科务会, decided once."""
    c = app.extensions["calsync"]
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert len(clash_view(c.policies, c.store, *year, ["guanliban"])[0]) == 101
    sec = login(app, "zhou_mishukezhang")
    page = sec.get("/clashes?week=2026-W10&org=guanliban").data.decode()
    assert "对整个系列作出决定" in page and 'value="kewuhui-ducha@guanliban.calsync"' in page
    r = sec.post("/clashes/series", data={
        "org": "guanliban", "week": "2026-W10", "series": "kewuhui-ducha@guanliban.calsync",
        "action": "offset", "offset": "45", "since": "2026-01-01", "note": "错开召开",
        "person": "wang_fuzhuren", "substitute": ""})
    assert r.status_code == 302
    assert clash_view(c.policies, c.store, *year, ["guanliban"])[0] == []
    page = sec.get("/clashes?week=2026-W10&org=guanliban").data.decode()
    assert "王立新" not in page and 'id="series-decisions"' in page
    # Staff cannot.
    assert login(app, "wu_kezhang").post("/clashes/series", data={
        "org": "guanliban", "series": "kewuhui-ducha@guanliban.calsync", "action": "offset",
        "offset": "45", "since": "2026-01-01"}).status_code == 403
