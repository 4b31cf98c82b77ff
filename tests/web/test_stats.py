"""Statistics of what was held (篇二 二.3, 篇一 四.4; issue 12 item 4): held vs scheduled, the
holding section (not the requester), semesters and half-years, cancelled and merged meetings,
attendance rates; the shipped 2026 policies, a real store (SQLite and PostgreSQL), the CLI and
the web page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask

from calsync.app.held_inputs import org_held
from calsync.app.service import build
from calsync.cli import main
from calsync.cli.stats import stats_range
from calsync.errors import UsageError
from calsync.meetings.held import Cell, held_stats, periods_for, window
from calsync.meetings.held_report import text_tables
from calsync.meetings.holding import holder
from calsync.meetings.merge import merged
from calsync.meetings.stats import section_series
from calsync.occurrence import TZ, Occurrence
from calsync.policy import load_policies
from calsync.store import Store
from tests.support.webapp import login, make_app

POLICIES = load_policies()
GLB = POLICIES.organizations["guanliban"]
JYJ = POLICIES.organizations["jiaoyuju"]
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
# 科务会 of each 管理办 section in 2026, month by month: 51 Mondays (after 周例会; none in the
# Spring Festival week of 02-16) + 50 Fridays (the week of 01-02 has no working day in 2026).
KEWUHUI_2026 = (8, 6, 9, 9, 8, 9, 9, 9, 9, 8, 9, 8)
# 秘书科 (the organizer) also holds 周例会 (51), 主任办公会 (26) and 系统工作会议 (2: June, and
# December held with 总结表彰大会 as one event).
MISHUKE_2026 = (14, 12, 16, 16, 14, 17, 15, 16, 16, 14, 16, 14)
DEC_2 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)      # issue 12: "run on 2026-12-02"
LATE = dt.datetime(2027, 6, 1, tzinfo=TZ)               # everything of 2026 has ended


@dataclass(frozen=True)
class Req:  # the fields the statistics read of a MeetingRequest record
    id: int
    section_id: str


@dataclass(frozen=True)
class Att:  # the shape of calsync.meetings.attendance.Attendance (another helper's)
    invited: int
    present: int
    late: int
    leave: int
    absent: int


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def occ(series: str, start: str, *, org: str = "jiaoyuju", moved_to: str | None = None,
        status: str = "CONFIRMED", kind: str = "meeting", summary: str = "会议",
        types: tuple[str, ...] = ("jiceng",)) -> Occurrence:
    nominal = at(start)
    held = at(moved_to) if moved_to else nominal
    return Occurrence(series=series, uid=f"{series}@{org}.calsync", organization=org, kind=kind,
                      meeting_types=types, summary=summary, start=held,
                      end=held + dt.timedelta(hours=1), nominal_start=nominal, status=status)


# -- pure -------------------------------------------------------------------------------------

def test_december_counts_scheduled_not_held_on_12_02() -> None:
    """The bug: on 2026-12-02 every 管理办 section already "held" 8 meetings in December."""
    occs = build(POLICIES, None, *YEAR, ["guanliban"]).generation.occurrences()
    s = held_stats(GLB, occs, DEC_2, start=YEAR[0], end=YEAR[1])
    for sid in ("zonghe", "jiaoyi", "ducha"):
        dec = s.row(sid).months[11]
        assert (dec.held, dec.scheduled, dec.upcoming) == (0, 8, 8)
        assert [c.held for c in s.row(sid).months[:11]] == list(KEWUHUI_2026[:11])
        assert s.row(sid).total == Cell(scheduled=101, held=93)
    assert s.month_totals[11] == Cell(scheduled=38)
    # On 12-04 10:00 the Friday 科务会 (09:00–09:45) has ended: one held each.
    s = held_stats(GLB, occs, at("2026-12-04T10:00"), start=YEAR[0], end=YEAR[1])
    assert s.row("zonghe").months[11].held == 1
    # At 09:30 it is still going on: not held yet.
    s = held_stats(GLB, occs, at("2026-12-04T09:30"), start=YEAR[0], end=YEAR[1])
    assert s.row("zonghe").months[11].held == 0


def test_guanliban_2026_organizer_holds_the_organization_wide_meetings() -> None:
    occs = build(POLICIES, None, *YEAR, ["guanliban"]).generation.occurrences()
    s = held_stats(GLB, occs, LATE, start=YEAR[0], end=YEAR[1])
    assert [r.section_name for r in s.rows] == ["秘书科", "综合业务科", "公共资源交易管理科",
                                                "督查考评科"]
    for r in s.rows[1:]:
        assert tuple(c.held for c in r.months) == KEWUHUI_2026 and r.total.held == 101
    assert tuple(c.held for c in s.row("mishuke").months) == MISHUKE_2026
    assert s.row("mishuke").total.held == 101 + 51 + 26 + 2 == 180
    assert s.total.held == 483 and s.total.cancelled == 0
    # No semesters in 管理办's policy: calendar half-years.
    assert s.period_kind == "half-year"
    assert [(p.name, p.start, p.end) for p in s.periods] == [
        ("2026年上半年", dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        ("2026年下半年", dt.date(2026, 7, 1), dt.date(2026, 12, 31))]
    assert [c.held for c in s.row("zonghe").periods] == [49, 52]
    table = text_tables(s)
    assert "管理办 2026-01-01..2026-12-31" in table
    assert table.splitlines()[1].split()[:3] == ["科室", "1月", "2月"]
    assert table.splitlines()[3].split() == ["综合业务科", *(f"{n}/{n}" for n in KEWUHUI_2026),
                                             "101/101", "—"]


def test_holding_section_not_the_requester() -> None:
    """A 局党委会 asked for by 教育股 is held by the 办公室 (the policy's organizer); a
    基层业务工作会 is held by the section that asked for it."""
    occs = [occ("request-1", "2026-03-10T09:00", types=("dangwei",)),
            occ("request-2", "2026-03-11T09:00", types=("jiceng",)),
            occ("request-3", "2026-03-12T09:00", types=("juwu",)),
            occ("request-4", "2026-03-13T09:00", types=("jiceng",))]
    reqs = [Req(1, "jiaoyugu"), Req(2, "jiaoyugu"), Req(3, "renshigu"), Req(4, "gone")]
    section_of = holder(JYJ, reqs)
    assert [section_of(o) for o in occs] == ["bangongshi", "jiaoyugu", "bangongshi", "gone"]
    s = held_stats(JYJ, occs, LATE, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31),
                   requests=reqs)
    assert s.row("bangongshi").months[0].held == 2
    assert s.row("jiaoyugu").months[0].held == 1
    assert s.row("renshigu").months[0].held == 0
    assert s.rows[-1].section_id == "gone" and s.rows[-1].months[0].held == 1


def test_cancelled_and_merged_are_scheduled_never_held() -> None:
    occs = [occ("request-1", "2026-03-10T09:00"),
            occ("request-2", "2026-03-11T09:00", status="CANCELLED"),
            occ("request-3", "2026-03-31T15:00", moved_to="2026-04-01T09:00"),
            occ("request-4", "2026-03-12T09:00", kind="deadline")]
    reqs = [Req(1, "jiaoyugu"), Req(2, "jiaoyugu"), Req(3, "renshigu"), Req(4, "jiaoyugu")]
    s = held_stats(JYJ, occs, LATE, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30),
                   requests=reqs)
    assert s.months == ("2026-03", "2026-04")
    assert s.row("jiaoyugu").months == (Cell(scheduled=2, held=1, cancelled=1), Cell())
    assert s.row("renshigu").months == (Cell(), Cell(scheduled=1, held=1))  # where held
    assert len(s.meetings) == 3          # the deadline is no meeting
    # A merge: one kept (renamed), the other cancelled; attribution by series, not summary.
    assert section_series(GLB) == {f"kewuhui-{x}-{d}": x for x in GLB.sections
                                   for d in ("mon", "fri")}
    a = occ("kewuhui-zonghe-fri", "2026-03-06T09:00", org="guanliban",
            summary="科务会（综合业务科）", types=("kewuhui",))
    b = occ("kewuhui-ducha-fri", "2026-03-06T10:00", org="guanliban",
            summary="科务会（督查考评科）", types=("kewuhui",))
    kept = merged(a, b, GLB)
    assert not kept.summary.endswith("（综合业务科）")
    s = held_stats(GLB, [kept, replace(b, status="CANCELLED")], LATE,
                   start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    assert s.row("zonghe").months[0] == Cell(scheduled=1, held=1)
    assert s.row("ducha").months[0] == Cell(scheduled=1, cancelled=1)


def test_semester_boundaries_are_inclusive_and_count_outside_the_months() -> None:
    days = ["2026-01-23T16:00", "2026-01-24T09:00", "2026-03-01T09:00", "2026-03-02T08:00",
            "2026-07-10T17:00", "2026-07-11T09:00", "2026-08-31T09:00", "2026-09-01T09:00",
            "2025-12-15T09:00"]
    occs = [occ(f"request-{i}", d) for i, d in enumerate(days, 1)]
    reqs = [Req(i, "ducha") for i in range(1, len(days) + 1)]
    s = held_stats(JYJ, occs, LATE, start=YEAR[0], end=YEAR[1], requests=reqs)
    assert s.period_kind == "semester"
    assert [x.name for x in s.periods] == [
        "2025—2026学年第一学期", "2025—2026学年第二学期", "2026—2027学年第一学期"]
    r = s.row("ducha")
    assert [c.held for c in r.periods] == [2, 2, 1]   # 2025-12-15: outside the months
    assert [c.held for c in r.months] == [2, 0, 2, 0, 0, 0, 2, 1, 1, 0, 0, 0]
    assert r.total.held == 8
    # Half-years: 06-30 and 07-01 fall on either side.
    assert [p.name for p in periods_for(GLB, dt.date(2025, 6, 30), dt.date(2026, 7, 1))] == [
        "2025年上半年", "2025年下半年", "2026年上半年", "2026年下半年"]
    half = held_stats(GLB, [occ("kewuhui-zonghe-fri", "2026-06-30T09:00", org="guanliban"),
                            occ("kewuhui-zonghe-mon", "2026-07-01T09:00", org="guanliban")],
                      LATE, start=YEAR[0], end=YEAR[1])
    assert [c.held for c in half.row("zonghe").periods] == [1, 1]


def test_attendance_rates_add_up_counts() -> None:
    occs = [occ("request-1", "2026-05-06T09:00"), occ("request-2", "2026-05-07T09:00"),
            occ("request-3", "2026-05-20T09:00")]
    att = {("request-1@jiaoyuju.calsync", at("2026-05-06T09:00").isoformat()): Att(10, 7, 1, 1, 1),
           ("request-2@jiaoyuju.calsync", at("2026-05-07T09:00").isoformat()): Att(4, 4, 0, 0, 0),
           ("request-3@jiaoyuju.calsync", at("2026-05-20T09:00").isoformat()): Att(9, 9, 0, 0, 0)}
    reqs = [Req(1, "jiaoyugu"), Req(2, "jiaoyugu"), Req(3, "jiaoyugu")]
    # On 05-10 the third has not been held: its (impossible) data is not counted.
    s = held_stats(JYJ, occs, at("2026-05-10T00:00"), start=dt.date(2026, 5, 1),
                   end=dt.date(2026, 5, 31), requests=reqs, attendance=att)
    c = s.row("jiaoyugu").months[0]
    assert (c.scheduled, c.held, c.invited, c.attended, c.leave, c.absent) == (3, 2, 14, 12, 1, 1)
    assert c.rate == pytest.approx(12 / 14)
    assert s.row("renshigu").months[0].rate is None        # no data: no rate (not 0%)


def test_window_and_range() -> None:
    assert window(JYJ, *YEAR) == (dt.date(2025, 9, 1), dt.date(2027, 1, 22))
    assert window(GLB, *YEAR) == YEAR
    assert window(GLB, dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == (
        dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert stats_range(None, None, dt.date(2026, 5, 4)) == YEAR
    with pytest.raises(UsageError):
        stats_range(dt.date(2026, 5, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 4))


# -- a real store -----------------------------------------------------------------------------

def file_request(store: Store, section: str, start: str, *, approve: bool | None = True,
                 hours: int = 2, category: str = "jiceng", title: str = "业务工作布置",
                 approver: str = "song_fujuzhang") -> int:
    begin = at(start)
    req = store.requests.add_request("jiaoyuju", section_id=section, category=category, title=title,
                                     audience=["du_keyuan", "xie_keyuan"], start=begin.isoformat(),
                                     end=(begin + dt.timedelta(hours=hours)).isoformat(), room=None,
                                     important=False, approver_id=approver, actor="tang_guzhang")
    if approve is not None:
        store.requests.decide_request(req.id, approve, actor=approver, expected_version=req.version)
    return req.id


def seed(store: Store) -> None:
    """教育股: 3 held (one moved from January to February), 1 cancelled, 1 rejected, 1 pending,
    1 局党委会 it asked for (held by 办公室), 1 in December after 12-02; 人事股: 1 on the last day
    of the second semester; 教育督导室: 1 in the autumn of 2025."""
    file_request(store, "jiaoyugu", "2026-01-20T09:00")
    moved = file_request(store, "jiaoyugu", "2026-01-30T09:00")
    store.decisions.add_decision("jiaoyuju", f"request-{moved}@jiaoyuju.calsync",
                                 at("2026-01-30T09:00"), "move", actor="liu_zhuren",
                                 source="web", new_start=at("2026-02-03T09:00"),
                                 new_end=at("2026-02-03T11:00"))
    file_request(store, "jiaoyugu", "2026-03-16T14:30")
    gone = file_request(store, "jiaoyugu", "2026-03-17T09:00")
    store.decisions.add_decision("jiaoyuju", f"request-{gone}@jiaoyuju.calsync",
                                 at("2026-03-17T09:00"), "cancel", actor="liu_zhuren",
                                 source="web")
    file_request(store, "jiaoyugu", "2026-03-18T09:00", approve=False)
    file_request(store, "jiaoyugu", "2026-03-19T09:00", approve=None)
    file_request(store, "jiaoyugu", "2026-03-20T15:00", category="dangwei",
                 title="局党委会（研究年度干部考核）", approver="huang_juzhang")
    file_request(store, "jiaoyugu", "2026-12-10T09:00")
    file_request(store, "renshigu", "2026-07-10T15:00")
    file_request(store, "ducha", "2025-11-12T09:00")


def test_jiaoyuju_requests_from_store(store: Store) -> None:
    seed(store)
    s = org_held(POLICIES, store, "jiaoyuju", *YEAR, DEC_2)
    jy = s.row("jiaoyugu")
    assert [c.held for c in jy.months] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert [c.scheduled for c in jy.months] == [1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert jy.months[2].cancelled == 1 and jy.months[11].upcoming == 1
    # 01-20 in 第一学期 (ends 01-23); 02-03 (moved there) in the winter break; 03-16 in 第二学期
    assert [c.held for c in jy.periods] == [1, 1, 0]
    assert s.row("bangongshi").months[2] == Cell(scheduled=1, held=1)   # the 局党委会
    assert s.row("renshigu").months[6].held == 1
    assert [c.held for c in s.row("renshigu").periods] == [0, 1, 0]
    assert s.row("ducha").total.held == 0 and [c.held for c in s.row("ducha").periods] == [
        1, 0, 0]
    assert s.total.held == 5 and [c.held for c in s.period_totals] == [2, 3, 0]


def test_cli_json_text_and_masking(store: Store, db_url: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    seed(store)
    code = main(["stats", "--org", "jiaoyuju", "--org", "guanliban", "--start", "2026-01-01",
                 "--end", "2026-03-31", "--now", "2026-12-02T09:00", "--format", "json",
                 "--database-url", db_url])
    out = capsys.readouterr().out
    assert code == 0
    jyj, glb = json.loads(out)
    assert jyj["months"] == ["2026-01", "2026-02", "2026-03"] and jyj["period_kind"] == "semester"
    assert [x["name"] for x in jyj["sections"]] == ["办公室", "教育股", "人事股", "教育督导室"]
    jy = jyj["sections"][1]
    assert {m: c["held"] for m, c in jy["months"].items()} == {
        "2026-01": 1, "2026-02": 1, "2026-03": 1}
    assert jy["months"]["2026-03"] == {
        "scheduled": 2, "held": 1, "cancelled": 1, "upcoming": 0, "invited": 0, "attended": 0,
        "leave": 0, "absent": 0, "with_attendance": 0, "attendance_rate": None}
    assert jyj["sections"][0]["total"]["held"] == 1           # 办公室: the 局党委会
    assert glb["totals"]["total"]["held"] == 38 + 30 + 43 and glb["period_kind"] == "half-year"
    # The operator (no --as) sees the 局党委会 as 忙碌: counted, not named.
    party = [m for m in jyj["meetings"] if m["date"] == "2026-03-20"]
    assert party == [{**party[0], "summary": "忙碌", "location": "", "chair": ""}]
    assert party[0]["confidential"] and party[0]["section"] == "办公室"
    assert "干部考核" not in out
    # The 局长 (its chair, invited) sees it.
    main(["stats", "--org", "jiaoyuju", "--start", "2026-03-01", "--end", "2026-03-31",
          "--now", "2026-12-02T09:00", "--format", "json", "--as", "huang_juzhang",
          "--database-url", db_url])
    seen = json.loads(capsys.readouterr().out)[0]["meetings"]
    assert any("研究年度干部考核" in m["summary"] for m in seen)
    assert main(["stats", "--org", "jiaoyuju", "--start", "2026-03-01", "--end", "2026-03-31",
                 "--now", "2026-12-02T09:00", "--database-url", db_url]) == 0
    text = capsys.readouterr().out
    assert "教育局 2026-03-01..2026-03-31" in text and "召开/计划" in text
    assert text.splitlines()[2].split()[:2] == ["办公室", "1/1"]
    assert "2025—2026学年第二学期：2026-03-02至" in text


# -- web --------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None,
                   ("zhou_mishukezhang", "wang_fuzhuren", "qian_keyuan", "liu_zhuren",
                    "song_fujuzhang", "tang_guzhang"), CALSYNC_NOW="2026-12-02T09:00:00+08:00")
    yield app
    app.extensions["calsync"].close()


def cells(page: str, section: str, table: str = "stats-months") -> list[tuple[str, str]]:
    """(held, scheduled) of a section's row."""
    import re

    body = page.split(f'id="{table}"')[1].split("</table>")[0]
    tr = body.split(f'data-section="{section}"')[1].split("</tr>")[0]
    return re.findall(r'data-held="(\d+)" data-scheduled="(\d+)"', tr)


def test_web_roles_table_and_chart(app: Flask) -> None:
    for name in ("qian_keyuan", "tang_guzhang"):
        staff = login(app, name)
        assert staff.get("/stats").status_code == 403
        assert staff.get("/stats/export.xlsx").status_code == 403
        assert staff.get("/stats/report").status_code == 403
        assert "统计</a>" not in staff.get("/meetings").data.decode()
    assert app.test_client().get("/stats").status_code == 302     # not logged in
    sec = login(app, "zhou_mishukezhang")
    page = sec.get("/stats").data.decode()
    assert "管理办 2026年" in page and "2026-12-02 09:00" in page
    zonghe = cells(page, "zonghe")
    assert zonghe[:11] == [(str(n), str(n)) for n in KEWUHUI_2026[:11]]
    assert zonghe[11] == ("0", "8") and zonghe[12] == ("93", "101")
    assert '<svg id="chart-months"' in page and "<script" not in page.split("<main>")[1]
    assert 'data-label="12月" data-value="38"' in page            # scheduled bar
    assert "按自然半年统计" in page and "2026年下半年" in page
    assert sec.get("/stats?org=jiaoyuju").status_code == 403     # another organization
    assert sec.get("/stats?year=abc").status_code == 400
    assert sec.get("/stats/report?month=2026-13").status_code == 400
    leader = login(app, "wang_fuzhuren")
    assert cells(leader.get("/stats?year=2026").data.decode(), "ducha")[-1] == ("93", "101")


def test_web_jiaoyuju_report_and_exports(app: Flask) -> None:
    import io

    from openpyxl import load_workbook

    seed(app.extensions["calsync"].store)
    for name in ("liu_zhuren", "song_fujuzhang"):
        page = login(app, name).get("/stats?year=2026").data.decode()
        assert "教育局 2026年" in page and "2025—2026学年第二学期" in page
        assert cells(page, "jiaoyugu")[2] == ("1", "2")
        assert cells(page, "bangongshi")[2] == ("1", "1")
    client = login(app, "liu_zhuren")
    report = client.get("/stats/report?month=2026-03").data.decode()
    assert "县教育局2026年3月会议统计报告" in report and "@media print" in report
    assert "局党委会（研究年度干部考核）" in report        # the secretary is invited
    assert "已取消" in report
    r = client.get("/stats/export.xlsx?year=2026")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["按月", "按学期", "会议明细"]
    rows = list(wb["按月"].iter_rows(values_only=True))
    assert rows[0][:4] == ("股室", "月份", "计划", "召开")
    assert ("教育股", "2026-03", 2, 1, 1, 0, 0, 0, None) in rows
    csv_text = client.get("/stats/export.csv?year=2026").data.decode("utf-8-sig")
    assert "教育股,2026-03,2,1,1,0,0,0," in csv_text
