"""一周会议安排 (issue 12 item 5): the week's lines, the coming week, the holding section, the
page and its week chooser, the DOCX read back with python-docx, and what a confidential
meeting shows on each door (staff, the notice-board version, its DOCX, the statistics
exports)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.access import OPERATOR, viewer_of
from calsync.app.service import generation
from calsync.cli import main
from calsync.meetings import held_report, weekly
from calsync.meetings.held import held_stats
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import Store
from tests.support.webapp import login, make_app

POLICIES = load_policies()
GLB = POLICIES.organizations["guanliban"]
MONDAY = dt.date(2026, 12, 7)
SECRET = "研究干部任免"
USERS = ("zhou_mishukezhang", "qian_keyuan", "zhang_zhuren", "wang_fuzhuren")


def party_meeting(store: Store) -> int:
    """A 党组会议 on Tuesday 2026-12-08 09:00 (confidential), approved."""
    req = store.requests.add_request("guanliban", section_id="mishuke", category="dangzu",
                                     title=f"党组会议（{SECRET}）", audience=["wang_fuzhuren"],
                                     start="2026-12-08T09:00:00+08:00",
                                     end="2026-12-08T11:00:00+08:00",
                                     room="diyi", important=False, approver_id="zhang_zhuren",
                                     actor="zhou_mishukezhang")
    store.requests.decide_request(req.id, True, actor="zhang_zhuren", expected_version=req.version)
    return req.id


def docx_text(data: bytes) -> tuple[list[str], list[list[str]]]:
    from docx import Document

    doc = Document(io.BytesIO(data))
    table = doc.tables[0]
    return ([p.text for p in doc.paragraphs],
            [[c.text for c in row.cells] for row in table.rows])


# -- pure -------------------------------------------------------------------------------------

def test_coming_week() -> None:
    assert weekly.coming_week(dt.date(2026, 12, 2)) == dt.date(2026, 11, 30)   # Wednesday
    assert weekly.coming_week(dt.date(2026, 12, 3)) == dt.date(2026, 11, 30)   # Thursday
    assert weekly.coming_week(dt.date(2026, 12, 4)) == MONDAY                  # Friday
    assert weekly.coming_week(dt.date(2026, 12, 6)) == MONDAY                  # Sunday


def test_guanliban_week_lines_and_docx() -> None:
    occs = generation(POLICIES, None, MONDAY, MONDAY + dt.timedelta(days=6),
                      ["guanliban"]).occurrences()
    s = weekly.sheet(GLB, occs, OPERATOR, MONDAY, public=True)
    assert s.title == "市行政服务中心管理办一周会议安排"
    assert s.period == "2026年12月7日—12月13日"
    first = s.lines[0]
    assert weekly.cells(first) == ("12月7日", "星期一", "09:30—10:30", "周例会", "大会议室",
                                   "赵志强", "张建国、王立新、李红梅、周晓燕等13人", "秘书科")
    names = [(x.date.day, x.name, x.organizer) for x in s.lines]
    assert (9, "主任办公会", "秘书科") in names
    assert (7, "科务会（综合业务科）", "综合业务科") in names
    assert len(s.lines) == 1 + 4 + 1 + 4          # 周例会, Monday and Friday 科务会, 主任办公会
    assert [d for d, lines in s.days() if lines] == [MONDAY, dt.date(2026, 12, 9),
                                                     dt.date(2026, 12, 11)]
    paragraphs, rows = docx_text(weekly.to_docx(s))
    assert paragraphs[0] == "市行政服务中心管理办一周会议安排"
    assert paragraphs[1] == "（2026年12月7日—12月13日）"
    assert rows[0] == list(weekly.HEADER)
    assert rows[1] == list(weekly.cells(first))
    assert len(rows) == 1 + len(s.lines)


# -- the store: a confidential meeting on every door ------------------------------------------

def test_confidential_on_every_door(store: Store, db_url: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    party_meeting(store)
    occs = generation(POLICIES, store, MONDAY, MONDAY + dt.timedelta(days=6),
                      ["guanliban"]).occurrences()
    requests = store.requests.meeting_requests("guanliban", status="approved")
    for viewer in (OPERATOR, viewer_of(POLICIES, "qian_keyuan")):
        s = weekly.sheet(GLB, occs, viewer, MONDAY, requests=requests)
        busy = [x for x in s.lines if x.date == dt.date(2026, 12, 8)]
        assert [weekly.cells(x) for x in busy] == [
            ("12月8日", "星期二", "09:00—11:00", "忙碌", "", "", "", "")]
        assert busy[0].series_uid == "" and busy[0].recurrence_id == ""
        paragraphs, rows = docx_text(weekly.to_docx(s))
        flat = "".join(paragraphs) + "".join("".join(r) for r in rows)
        assert SECRET not in flat and "党组会议" not in flat and "忙碌" in flat
    # Its chair and the secretary see it in full, held by 秘书科 (the organizer).
    for pid in ("zhang_zhuren", "zhou_mishukezhang"):
        s = weekly.sheet(GLB, occs, viewer_of(POLICIES, pid), MONDAY, requests=requests)
        line = next(x for x in s.lines if x.date == dt.date(2026, 12, 8))
        assert line.name == f"党组会议（{SECRET}）" and line.organizer == "秘书科"
        assert line.location == "第一会议室" and line.chair == "张建国"
    # The statistics exports: counted for 秘书科, named only for who may see it.
    now = dt.datetime(2026, 12, 9, tzinfo=TZ)
    stats = held_stats(GLB, occs, now, start=MONDAY, end=MONDAY + dt.timedelta(days=6),
                       requests=requests)
    # By 12-09 00:00: 周例会, Monday 科务会, 党组会议 held; 主任办公会 and Friday 科务会 to come.
    assert (stats.row("mishuke").months[0].held, stats.row("mishuke").months[0].scheduled) == (
        3, 5)
    staff = viewer_of(POLICIES, "qian_keyuan")
    for data in (held_report.to_csv(stats, staff), held_report.to_xlsx(stats, staff)):
        assert SECRET.encode() not in data
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(held_report.to_xlsx(stats, staff)))
    detail = list(wb["会议明细"].iter_rows(values_only=True))
    party = [r for r in detail if r[0] == "2026-12-08"]
    assert party == [("2026-12-08", "星期二", "09:00", "11:00", "秘书科", "忙碌", None, None,
                      "已召开", None, None, None, None)]
    assert SECRET in held_report.to_csv(stats, viewer_of(POLICIES, "zhang_zhuren")).decode(
        "utf-8-sig")
    # The CLI: the notice-board version by default, DOCX to a file.
    assert main(["week", "--org", "guanliban", "--date", "2026-12-08",
                 "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    assert "12月8日  星期二  09:00—11:00  忙碌" in out and SECRET not in out
    target = tmp_path / "week.docx"
    assert main(["week", "--org", "guanliban", "--date", "2026-12-08", "--format", "docx",
                 "--output", str(target), "--as", "zhang_zhuren", "--database-url",
                 db_url]) == 0
    assert any(SECRET in "".join(r) for r in docx_text(target.read_bytes())[1])
    xlsx = tmp_path / "stats.xlsx"
    assert main(["stats", "--org", "guanliban", "--start", "2026-12-01", "--end", "2026-12-31",
                 "--now", "2026-12-09T00:00", "--format", "xlsx", "--output", str(xlsx),
                 "--database-url", db_url]) == 0
    assert load_workbook(xlsx).sheetnames == ["按月", "按半年", "会议明细"]
    assert SECRET.encode() not in xlsx.read_bytes()


# -- web --------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, USERS,
                   CALSYNC_NOW="2026-12-04T16:00:00+08:00")      # a Friday: next week shows
    party_meeting(app.extensions["calsync"].store)
    yield app
    app.extensions["calsync"].close()


def test_web_weekly_page(app: Flask) -> None:
    assert app.test_client().get("/weekly").status_code == 302
    staff = login(app, "qian_keyuan")
    page = staff.get("/weekly").data.decode()
    assert "市行政服务中心管理办一周会议安排" in page and "2026年12月7日—12月13日" in page
    assert '<option value="2026-W50" selected>' in page            # the chooser: a <select>
    assert 'type="week"' not in page and "@media print" in page
    assert "忙碌" in page and SECRET not in page and "党组会议" not in page
    assert "busy-" not in page and "request-" not in page.split("忙碌")[0][-400:]
    assert staff.get("/weekly?org=jiaoyuju").status_code == 403
    for query in ("week=2026-W49", "day=2026-12-02"):
        assert "2026年11月30日—12月6日" in staff.get(f"/weekly?{query}").data.decode()
    sec = login(app, "zhou_mishukezhang")
    assert f"党组会议（{SECRET}）" in sec.get("/weekly").data.decode()
    board = sec.get("/weekly?board=1").data.decode()
    assert "公告栏版" in board and SECRET not in board and "忙碌" in board
    r = sec.get("/weekly/sheet.docx?week=2026-W50&board=1")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = docx_text(r.data)[1]
    assert ["12月8日", "星期二", "09:00—11:00", "忙碌", "", "", "", ""] in rows
    assert SECRET.encode() not in r.data
    mine = docx_text(sec.get("/weekly/sheet.docx?week=2026-W50").data)[1]
    assert any(row[3] == f"党组会议（{SECRET}）" for row in mine)
    assert "一周安排</a>" in staff.get("/meetings").data.decode()
