"""Every door goes through the one visibility rule (calsync.access): the page, the clash page
and its POSTs, merges, the CLI's JSON. As an uninvited staff member, an invited member,
another organization's staff and secretary, and a secretary (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.cli import main as cli_main
from calsync.occurrence import TZ
from tests.support.webapp import login, make_app

WEEK = "2026-W10"
ZHOULIHUI = "zhoulihui@guanliban.calsync"
ZHURENBANGONG = "zhurenbangong@guanliban.calsync"
DANGZU_TITLE = "研究干部任免事项"
USERS = ("zhou_mishukezhang", "qian_keyuan", "lin_keyuan", "wang_fuzhuren", "zhang_zhuren",
         "li_fuzhuren", "liu_zhuren", "pan_keyuan", "song_fujuzhang")


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    yield app
    app.extensions["calsync"].close()


def rid(day: str, time: str) -> str:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=TZ).isoformat()


def nominal(day: str, time: str) -> dt.datetime:
    """The occurrence's nominal start, as the store takes it."""
    return dt.datetime.fromisoformat(rid(day, time))


def _store(app: Flask):
    return app.extensions["calsync"].store


def _dangzu(app: Flask, start: str = "2026-03-02T09:30:00+08:00",
            end: str = "2026-03-02T11:30:00+08:00") -> str:
    """An approved 党组会议 (confidential) with 王立新 (副主任) invited; returns its UID."""
    s = _store(app)
    req = s.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                 title=DANGZU_TITLE,
                                 audience=["wang_fuzhuren"], start=start, end=end, room="diyi",
                                 important=False, approver_id=None, actor="test")
    s.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    return f"request-{req.id}@guanliban.calsync"


# -- the rule itself --------------------------------------------------------------------------

def test_the_rule_table() -> None:
    from calsync.access import OPERATOR, Viewer, may_act, visibility
    from calsync.occurrence import Attendee, Occurrence, at

    start = at(dt.date(2026, 3, 2), dt.time(9))
    occ = Occurrence("s", "s@guanliban.calsync", "guanliban", "meeting", ("dangzu",), "党组会议",
                     start, start + dt.timedelta(hours=1), start, klass="CONFIDENTIAL",
                     attendees=(Attendee("王立新", "w@x", "CHAIR", person_id="wang"),))
    public = Occurrence("p", "p@guanliban.calsync", "guanliban", "meeting", ("zhoulihui",),
                        "周例会", start, start + dt.timedelta(hours=1), start)
    staff = Viewer("qian", "guanliban", "staff")
    member = Viewer("wang", "guanliban", "leader")
    secretary = Viewer("zhou", "guanliban", "secretary")
    other_staff = Viewer("pan", "jiaoyuju", "staff")
    other_secretary = Viewer("liu", "jiaoyuju", "secretary")
    table = {(v.person_id or "operator", o.series): visibility(v, o)
             for v in (staff, member, secretary, other_staff, other_secretary, OPERATOR)
             for o in (occ, public)}
    assert table == {
        ("qian", "s"): "busy", ("qian", "p"): "full",
        ("wang", "s"): "full", ("wang", "p"): "full",
        ("zhou", "s"): "full", ("zhou", "p"): "full",
        ("pan", "s"): "none", ("pan", "p"): "none",
        ("liu", "s"): "none", ("liu", "p"): "none",
        ("operator", "s"): "busy", ("operator", "p"): "full"}
    assert may_act(secretary, "guanliban", "decide")
    assert not may_act(other_secretary, "guanliban", "decide")
    assert not may_act(staff, "guanliban", "decide")
    assert may_act(staff, "guanliban", "withdraw-leave", owner="qian")
    assert not may_act(staff, "guanliban", "withdraw-leave", owner="he")
    assert not may_act(other_secretary, "guanliban", "withdraw-leave", owner="he")


# -- the page ---------------------------------------------------------------------------------

def test_other_organizations_week_and_meeting_pages_are_closed(app: Flask) -> None:
    glb = login(app, "qian_keyuan")
    assert glb.get(f"/meetings?org=jiaoyuju&week={WEEK}").status_code == 403
    # a 教育局 meeting page: 局长办公会 is on demand, so take an approved request there
    s = _store(app)
    req = s.requests.add_request("jiaoyuju", section_id="bangongshi", category="juzhangbangong",
                                 title="研究学校安全工作", audience=["song_fujuzhang"],
                                 start="2026-03-03T09:00:00+08:00", end="2026-03-03T10:00:00+08:00",
                                 room=None, important=False, approver_id=None, actor="test")
    s.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    url = f"/meetings/request-{req.id}@jiaoyuju.calsync/2026-03-03T09:00:00+08:00"
    assert login(app, "liu_zhuren").get(url).status_code == 200   # its own secretary
    r = glb.get(url)
    assert r.status_code == 404 and "宋" not in r.data.decode()
    # and a 管理办 meeting page for 教育局 staff and secretary
    page = f"/meetings/{ZHOULIHUI}/{rid('2026-03-02', '09:30')}"
    for who in ("pan_keyuan", "liu_zhuren"):
        r = login(app, who).get(page)
        assert r.status_code == 404 and "王立新" not in r.data.decode()


def test_another_units_secretary_reads_no_leave_reason(app: Flask) -> None:
    s = _store(app)
    s.leave.add_leave("guanliban", ZHOULIHUI, nominal("2026-03-02", "09:30"),
                      "qian_keyuan",
                      category="病假", reason="住院复查", substitute_id=None, late=False,
                      needs_director=False, chair_id="zhang_zhuren", director_id=None, actor="test")
    page = f"/meetings/{ZHOULIHUI}/{rid('2026-03-02', '09:30')}"
    assert "住院复查" in login(app, "zhou_mishukezhang").get(page).data.decode()
    r = login(app, "liu_zhuren").get(page)
    assert "住院复查" not in r.data.decode()


def test_clash_page_of_another_unit_is_closed(app: Flask) -> None:
    _dangzu(app)
    r = login(app, "liu_zhuren").get(f"/clashes?org=guanliban&week={WEEK}")
    assert r.status_code == 403
    assert "王立新" not in r.data.decode() and "同时需参加" not in r.data.decode()


def test_another_units_secretary_cannot_undo_decisions(app: Flask) -> None:
    from calsync.app.service import clash_view

    s = _store(app)
    # a stale decision of 管理办 (its occurrence does not exist): withdrawable on its page
    stale = rid("2026-03-03", "09:30")
    s.decisions.add_decision("guanliban", ZHOULIHUI, dt.datetime.fromisoformat(stale), "cancel",
                             actor="test", source="cli")
    other = login(app, "liu_zhuren")
    r = other.post("/clashes/withdraw", data={"series": ZHOULIHUI, "rid": stale, "version": 1,
                                              "org": "jiaoyuju", "week": WEEK})
    assert r.status_code == 403
    assert s.decisions.active_decision(ZHOULIHUI, dt.datetime.fromisoformat(stale)) is not None
    # a 管理办 clash: 教育局's secretary may not hide it with "keep"
    s.decisions.add_decision("guanliban", ZHURENBANGONG,
                             nominal("2026-03-04", "09:00"), "move",
                             actor="test", source="cli", new_start=nominal("2026-03-02", "09:30"),
                             new_end=nominal("2026-03-02", "11:30"))
    core = app.extensions["calsync"]
    clashes, _ = clash_view(core.policies, s, dt.date(2026, 3, 2), dt.date(2026, 3, 8),
                            ["guanliban"])
    assert clashes
    c = clashes[0]
    r = other.post(f"/clashes/keep/{c.id}", data={"fingerprint": c.fingerprint,
                                                  "org": "jiaoyuju", "week": WEEK})
    assert r.status_code == 403
    assert c.id not in s.acks.clash_acks()
    # its own secretary may
    r = login(app, "zhou_mishukezhang").post(
        f"/clashes/keep/{c.id}", data={"fingerprint": c.fingerprint, "org": "guanliban",
                                       "week": WEEK})
    assert r.status_code == 302 and s.acks.clash_acks()[c.id] == c.fingerprint


def test_merging_into_a_confidential_meeting_names_it_nowhere(app: Flask) -> None:
    """综合业务科's Monday 科务会 merged into a 党组会议 at the same time: the cancelled 科务会
    stays public, so neither its note nor anything else may name the 党组会议 to 林 (交易科),
    who is invited to neither."""
    from calsync.app.service import generation
    from calsync.meetings.merge import cancelled_note, merged

    core = app.extensions["calsync"]
    day = dt.date(2026, 3, 2)
    kewuhui = next(o for o in generation(core.policies, core.store, day, day, ["guanliban"])
                   .occurrences() if o.uid == "kewuhui-zonghe-mon@guanliban.calsync")
    uid = _dangzu(app, kewuhui.start.isoformat(), kewuhui.end.isoformat())
    occs = generation(core.policies, core.store, day, day, ["guanliban"]).occurrences()
    keep = next(o for o in occs if o.uid == uid)
    org = core.policies.organizations["guanliban"]
    preview = merged(keep, kewuhui, org)
    note = cancelled_note(preview, preview.start)
    assert DANGZU_TITLE not in note and "党组会议" not in note
    core.store.decisions.add_merge("guanliban", keep=(keep.uid, keep.nominal_start),
                                   other=(kewuhui.uid, kewuhui.nominal_start),
                                   new_start=preview.start,
                                   new_end=preview.end,
                                   actor="test", source="web", expected_versions=(0, 0), note=note)
    staff = login(app, "lin_keyuan")
    page = staff.get(f"/meetings/{kewuhui.uid}/{kewuhui.nominal_start.isoformat()}")
    assert page.status_code == 200 and "已与另一会议合并" in page.data.decode()
    week = staff.get(f"/meetings?week={WEEK}").data.decode()
    token = core.store.feeds.feed_token("lin_keyuan", "guanliban", actor="test")
    feed = staff.get(f"/feeds/{token}/org/guanliban.ics").data.decode()
    for text in (page.data.decode(), week, feed):
        assert DANGZU_TITLE not in text and "党组会议" not in text
    # an invitee of the merged meeting sees it in full
    wu = login(app, "wang_fuzhuren").get(f"/meetings?week={WEEK}").data.decode()
    assert DANGZU_TITLE in wu


# -- the CLI ----------------------------------------------------------------------------------

def test_cli_json_masks_confidential_meetings_unless_asked_as_an_invitee(
        policies_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["occurrences", "--policies", str(policies_dir), "--start", "2026-03-02",
            "--end", "2026-03-08", "--org", "guanliban", "--format", "json"]
    assert cli_main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    busy = [r for r in rows if r["class"] == "CONFIDENTIAL"]
    assert busy and all(r["summary"] == "忙碌" and not r["attendees"] and not r["location"]
                        for r in busy)
    assert not any(r["uid"].startswith("zhurenbangong") for r in rows)
    assert cli_main([*args, "--as", "wang_fuzhuren"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["summary"] == "主任办公会" and r["attendees"] for r in rows)
    assert cli_main([*args, "--as", "qian_keyuan"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "主任办公会" not in json.dumps(rows, ensure_ascii=False).replace(
        "议题材料截止（主任办公会）", "")
    assert cli_main([*args, "--as", "nobody"]) == 2
    assert "no such person" in capsys.readouterr().err


def test_cli_clashes_name_no_confidential_attendee(app: Flask, db_url: str,
                                                   policies_dir: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _dangzu(app)  # 王立新 is due at 周例会 and at the 党组会议 at the same time
    base = ["clashes", "--policies", str(policies_dir), "--database-url", db_url,
            "--start", "2026-03-02", "--end", "2026-03-02", "--org", "guanliban",
            "--format", "json"]
    assert cli_main(base) == 0
    out = capsys.readouterr().out
    masked = [c for c in json.loads(out)
              if any(i["summary"] == "忙碌" for i in c["items"])]
    assert masked and DANGZU_TITLE not in out
    assert all(c["subject_name"] == "" and c["subject"] == "" and "王立新" not in c["suggestion"]
               for c in masked)
    assert cli_main([*base, "--as", "zhou_mishukezhang"]) == 0
    out = capsys.readouterr().out
    assert DANGZU_TITLE in out
    assert any(c["subject_name"] == "王立新" and any(DANGZU_TITLE in i["summary"]
                                                  for i in c["items"])
               for c in json.loads(out))
