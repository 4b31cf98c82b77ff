"""Meeting statistics per section, month and semester (篇二 二.3): the pure count, the shipped
2026 policies, approved requests from a real store (SQLite and PostgreSQL), the CLI and the
web page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask

from calsync.cli import main
from calsync.cli_stats import org_stats, stats_range, stats_table
from calsync.errors import UsageError
from calsync.merge import merged
from calsync.occurrence import TZ, Occurrence
from calsync.policy import load_policies
from calsync.service import build
from calsync.stats import section_counts, section_series, window
from calsync.store import Store
from tests.support.webapp import login, make_app

POLICIES = load_policies()
GLB = POLICIES.organizations["guanliban"]
JYJ = POLICIES.organizations["jiaoyuju"]
YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
# 科务会 of each 管理办 section in 2026, month by month: 51 Mondays (after 周例会; none in the
# Spring Festival week of 02-16) + 50 Fridays (the week of 01-02 has no working day in 2026).
KEWUHUI_2026 = (8, 6, 9, 9, 8, 9, 9, 9, 9, 8, 9, 8)


@dataclass(frozen=True)
class Req:  # the fields section_counts reads from a MeetingRequest record
    id: int
    section_id: str
    organization: str = "jiaoyuju"
    status: str = "approved"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def occ(series: str, start: str, *, org: str = "jiaoyuju", moved_to: str | None = None,
        status: str = "CONFIRMED", kind: str = "meeting", summary: str = "会议") -> Occurrence:
    nominal = at(start)
    held = at(moved_to) if moved_to else nominal
    domain = f"{org}.calsync"
    return Occurrence(series=series, uid=f"{series}@{domain}", organization=org, kind=kind,
                      meeting_types=("jiceng",), summary=summary, start=held,
                      end=held + dt.timedelta(hours=1), nominal_start=nominal, status=status)


def row(stats, section: str):
    return next(r for r in stats.rows if r.section_id == section)


# -- pure -------------------------------------------------------------------------------------

def test_cancelled_not_counted_moved_counts_where_held() -> None:
    occs = [occ("request-1", "2026-03-10T09:00"),
            occ("request-2", "2026-03-11T09:00", status="CANCELLED"),
            occ("request-3", "2026-03-31T15:00", moved_to="2026-04-01T09:00"),
            occ("request-4", "2026-03-12T09:00", kind="deadline"),
            occ("juwu", "2026-03-13T09:00")]            # organization-wide: no section
    reqs = [Req(1, "jiaoyugu"), Req(2, "jiaoyugu"), Req(3, "renshigu"), Req(4, "jiaoyugu")]
    s = section_counts(JYJ, occs, reqs, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30))
    assert s.months == ("2026-03", "2026-04")
    assert [r.section_id for r in s.rows] == ["bangongshi", "jiaoyugu", "renshigu", "ducha"]
    assert row(s, "jiaoyugu").months == (1, 0)
    assert row(s, "renshigu").months == (0, 1)
    assert s.month_totals == (1, 1) and s.total == 2
    assert [x.name for x in s.semesters] == ["2025—2026学年第二学期"]
    assert row(s, "jiaoyugu").semesters == (1,) and s.semester_totals == (2,)


def test_semester_boundaries_are_inclusive_and_count_outside_the_months() -> None:
    days = ["2026-01-23T16:00", "2026-01-24T09:00", "2026-03-01T09:00", "2026-03-02T08:00",
            "2026-07-10T17:00", "2026-07-11T09:00", "2026-08-31T09:00", "2026-09-01T09:00",
            "2025-12-15T09:00"]
    occs = [occ(f"request-{i}", d) for i, d in enumerate(days, 1)]
    reqs = [Req(i, "ducha") for i in range(1, len(days) + 1)]
    s = section_counts(JYJ, occs, reqs, start=YEAR[0], end=YEAR[1])
    assert [x.name for x in s.semesters] == [
        "2025—2026学年第一学期", "2025—2026学年第二学期", "2026—2027学年第一学期"]
    r = row(s, "ducha")
    # 2025-12-15 is outside the months but inside the first semester
    assert r.semesters == (2, 2, 1)
    assert r.months == (2, 0, 2, 0, 0, 0, 2, 1, 1, 0, 0, 0) and r.total == 8


def test_request_status_organization_and_unknown_sections() -> None:
    occs = [occ("request-1", "2026-05-06T09:00"), occ("request-2", "2026-05-07T09:00"),
            occ("request-3", "2026-05-08T09:00"), occ("request-4", "2026-05-09T09:00")]
    reqs = [Req(1, "jiaoyugu"), Req(2, "jiaoyugu", status="rejected"),
            Req(3, "jiaoyugu", organization="guanliban"), Req(4, "gone")]
    s = section_counts(JYJ, occs, reqs)
    assert s.months == ("2026-05",) and s.start is None
    assert row(s, "jiaoyugu").months == (1,)
    assert s.rows[-1].section_id == "gone" and s.rows[-1].section_name == "gone"
    assert s.total == 2


def test_attribution_by_series_survives_a_merge() -> None:
    org = GLB
    assert section_series(org) == {f"kewuhui-{s}-{d}": s for s in org.sections
                                   for d in ("mon", "fri")}
    a = occ("kewuhui-zonghe-fri", "2026-03-06T09:00", org="guanliban",
            summary="科务会（综合业务科）")
    b = occ("kewuhui-ducha-fri", "2026-03-06T10:00", org="guanliban",
            summary="科务会（督查考评科）")
    kept = merged(a, b, org)
    assert not kept.summary.endswith("（综合业务科）")     # why summaries are not used
    s = section_counts(org, [kept, replace(b, status="CANCELLED")], [])
    assert row(s, "zonghe").months == (1,) and row(s, "ducha").months == (0,)


# -- shipped policies -------------------------------------------------------------------------

def test_guanliban_2026_kewuhui_per_section() -> None:
    occs = build(POLICIES, None, *YEAR, ["guanliban"]).generation.occurrences()
    s = section_counts(GLB, occs, [], start=YEAR[0], end=YEAR[1])
    assert [r.section_name for r in s.rows] == ["秘书科", "综合业务科", "公共资源交易管理科",
                                                "督查考评科"]
    for r in s.rows:
        assert r.months == KEWUHUI_2026 and r.total == 101 == 51 + 50
        assert r.semesters == ()
    assert s.total == 404 and s.semesters == ()
    table = stats_table(s)
    assert "管理办 2026-01-01..2026-12-31" in table
    assert table.splitlines()[-1].split() == ["合计", *(str(4 * n) for n in KEWUHUI_2026),
                                              "404"]


def test_window_widens_to_whole_semesters() -> None:
    assert window(JYJ, *YEAR) == (dt.date(2025, 9, 1), dt.date(2027, 1, 22))
    assert window(GLB, *YEAR) == YEAR
    assert stats_range(None, None, dt.date(2026, 5, 4)) == YEAR
    assert stats_range(None, dt.date(2025, 6, 30), dt.date(2026, 5, 4)) == (
        dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    with pytest.raises(UsageError):
        stats_range(dt.date(2026, 5, 1), dt.date(2026, 4, 1), dt.date(2026, 5, 4))


# -- a real store -----------------------------------------------------------------------------

def file_request(store: Store, section: str, start: str, *, approve: bool | None = True,
                 hours: int = 2) -> int:
    begin = at(start)
    req = store.add_request("jiaoyuju", section_id=section, category="jiceng",
                            title="业务工作布置", audience=["du_keyuan", "xie_keyuan"],
                            start=begin.isoformat(),
                            end=(begin + dt.timedelta(hours=hours)).isoformat(), room=None,
                            important=False, approver_id="song_fujuzhang", actor="tang_guzhang")
    if approve is not None:
        store.decide_request(req.id, approve, actor="song_fujuzhang",
                             expected_version=req.version)
    return req.id


def seed(store: Store) -> None:
    """教育股: 3 held (one moved from January to February), 1 cancelled, 1 rejected, 1 pending;
    人事股: 1 on the last day of the second semester; 教育督导室: 1 in the autumn of 2025."""
    file_request(store, "jiaoyugu", "2026-01-20T09:00")
    moved = file_request(store, "jiaoyugu", "2026-01-30T09:00")
    store.add_decision("jiaoyuju", f"request-{moved}@jiaoyuju.calsync",
                       at("2026-01-30T09:00").isoformat(), "move", actor="liu_zhuren",
                       source="web", new_start=at("2026-02-03T09:00").isoformat(),
                       new_end=at("2026-02-03T11:00").isoformat())
    file_request(store, "jiaoyugu", "2026-03-16T14:30")
    gone = file_request(store, "jiaoyugu", "2026-03-17T09:00")
    store.add_decision("jiaoyuju", f"request-{gone}@jiaoyuju.calsync",
                       at("2026-03-17T09:00").isoformat(), "cancel", actor="liu_zhuren",
                       source="web")
    file_request(store, "jiaoyugu", "2026-03-18T09:00", approve=False)
    file_request(store, "jiaoyugu", "2026-03-19T09:00", approve=None)
    file_request(store, "renshigu", "2026-07-10T15:00")
    file_request(store, "ducha", "2025-11-12T09:00")


def test_jiaoyuju_requests_from_store(store: Store) -> None:
    seed(store)
    s = org_stats(POLICIES, store, "jiaoyuju", *YEAR)
    assert row(s, "jiaoyugu").months == (1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    # 01-20 in 第一学期 (ends 01-23); 02-03 (moved there) in the winter break; 03-16 in 第二学期
    assert row(s, "jiaoyugu").semesters == (1, 1, 0)
    assert row(s, "renshigu").months[6] == 1 and row(s, "renshigu").semesters == (0, 1, 0)
    assert row(s, "ducha").total == 0 and row(s, "ducha").semesters == (1, 0, 0)
    assert row(s, "bangongshi").total == 0
    assert s.total == 4 and s.semester_totals == (2, 2, 0)


def test_cli_json(store: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(store)
    code = main(["stats", "--org", "jiaoyuju", "--org", "guanliban", "--start", "2026-01-01",
                 "--end", "2026-03-31", "--format", "json", "--database-url", db_url])
    out = capsys.readouterr().out
    assert code == 0
    jyj, glb = json.loads(out)
    assert jyj["organization"] == "jiaoyuju" and jyj["months"] == ["2026-01", "2026-02",
                                                                   "2026-03"]
    assert [x["name"] for x in jyj["sections"]] == ["办公室", "教育股", "人事股", "教育督导室"]
    assert jyj["sections"][1]["months"] == {"2026-01": 1, "2026-02": 1, "2026-03": 1}
    assert jyj["sections"][1]["total"] == 3
    assert jyj["sections"][1]["semesters"] == {"2025—2026学年第一学期": 1,
                                               "2025—2026学年第二学期": 1}
    assert jyj["totals"] == {"months": {"2026-01": 1, "2026-02": 1, "2026-03": 1},
                             "semesters": {"2025—2026学年第一学期": 2,
                                           "2025—2026学年第二学期": 2},
                             "total": 3}
    assert glb["totals"]["months"] == {"2026-01": 32, "2026-02": 24, "2026-03": 36}
    assert glb["semesters"] == [] and glb["totals"]["total"] == 92
    assert main(["stats", "--org", "jiaoyuju", "--start", "2026-03-01", "--end", "2026-03-31",
                 "--database-url", db_url]) == 0
    text = capsys.readouterr().out
    assert "教育局 2026-03-01..2026-03-31" in text and "2025—2026学年第二学期：2026-03-02至" in text


# -- web --------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None,
                   ("zhou_mishukezhang", "wang_fuzhuren", "qian_keyuan", "liu_zhuren",
                    "song_fujuzhang", "tang_guzhang"))
    yield app
    app.extensions["calsync"].close()


def cells(page: str, section: str) -> list[str]:
    """The numbers of a section's row in the months table."""
    import re

    table = page.split('id="stats-months"')[1].split("</table>")[0]
    tr = table.split(f'data-section="{section}"')[1].split("</tr>")[0]
    return re.findall(r"<td[^>]*>(\d+)</td>", tr)


def test_web_roles_and_table(app: Flask) -> None:
    for name in ("qian_keyuan", "tang_guzhang"):
        staff = login(app, name)
        assert staff.get("/stats").status_code == 403
        assert "统计</a>" not in staff.get("/meetings").data.decode()
    assert app.test_client().get("/stats").status_code == 302     # not logged in
    sec = login(app, "zhou_mishukezhang")
    assert "统计</a>" in sec.get("/meetings").data.decode()
    page = sec.get("/stats").data.decode()
    assert "管理办 2026年" in page and "overflow-x:auto" in page
    assert cells(page, "zonghe") == [*map(str, KEWUHUI_2026), "101"]
    assert "未设置学期" in page
    assert sec.get("/stats?org=jiaoyuju").status_code == 403     # another organization
    assert sec.get("/stats?year=abc").status_code == 400
    leader = login(app, "wang_fuzhuren")
    assert cells(leader.get("/stats?org=guanliban&year=2026").data.decode(),
                 "ducha")[-1] == "101"


def test_web_jiaoyuju_requests(app: Flask) -> None:
    seed(app.extensions["calsync"].store)
    for name in ("liu_zhuren", "song_fujuzhang"):
        page = login(app, name).get("/stats?year=2026").data.decode()
        assert "教育局 2026年" in page and "2025—2026学年第二学期" in page
        assert cells(page, "jiaoyugu") == ["1", "1", "1", *["0"] * 9, "3"]
        assert cells(page, "renshigu")[6] == "1"
        semesters = page.split('id="stats-semesters"')[1].split("</table>")[0]
        assert "<tfoot>" in semesters and ">2</td>" in semesters.split("<tfoot>")[1]
    page = login(app, "liu_zhuren").get("/stats?year=2025").data.decode()
    assert cells(page, "ducha")[10] == "1"       # 2025-11
