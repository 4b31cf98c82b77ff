"""Every scope decision is calsync.access's (issue 20): topics, minutes, decisions, the leave
reason, statistics, approvals, filing leave, feed and page scope — one named rule each, asked
by every door. And 404 for every id a person may not know exists: an occurrence, request,
topic, file or minutes id the viewer may not see in full answers exactly like an unknown id.

On SQLite and PostgreSQL, with the confidential fixtures (主任办公会 confidential, a 党组会议
request): 钱丽 (综合业务科 staff, invited to neither), 林芳 (交易科 staff), 王立新 (invited),
周晓燕 (秘书科), 张建国 (主任, chair), 刘芳 (教育局's 办公室: another organization)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from calsync import access
from calsync.meetings.agenda import TopicInput
from calsync.occurrence import TZ, Attendee, Occurrence
from tests.support.webapp import login, make_app

ZHUREN = "zhurenbangong@guanliban.calsync"           # 主任办公会, confidential here
ZHOULIHUI = "zhoulihui@guanliban.calsync"            # 周例会, public
ZR_RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()
ZL_RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ).isoformat()
DANGZU_TITLE = "研究干部任免事项"
TOPIC_TITLE = "研究人事调整方案"
USERS = ("qian_keyuan", "lin_keyuan", "wang_fuzhuren", "zhou_mishukezhang", "zhang_zhuren",
         "li_fuzhuren", "wu_kezhang", "liu_zhuren", "pan_keyuan")


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    yield app
    app.extensions["calsync"].close()


def _store(app: Flask):
    return app.extensions["calsync"].store


def _dangzu(app: Flask) -> tuple[int, str]:
    """An approved 党组会议 on Monday 9:30 (confidential; 王立新 invited): (request id, UID)."""
    s = _store(app)
    req = s.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                 title=DANGZU_TITLE,
                                 audience=["wang_fuzhuren"], start="2026-03-02T09:30:00+08:00",
                                 end="2026-03-02T11:30:00+08:00", room="diyi", important=False,
                                 approver_id=None, actor="test")
    s.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    return req.id, f"request-{req.id}@guanliban.calsync"


def _topic_with_file(app: Flask, uid: str = ZHUREN, rid: str = ZR_RID,
                     section: str = "mishuke") -> int:
    """A topic with a materials file on disk, as web/agenda.py stores one; its id."""
    folder = Path(app.config["CALSYNC_INSTANCE"]) / "agenda-files"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0123abcd.pdf").write_bytes(b"%PDF-1.4 materials")
    t = _store(app).agenda.submit_topic("guanliban", uid, dt.datetime.fromisoformat(rid),
                                        section=section,
                                        topic=TopicInput(TOPIC_TITLE, "周晓燕", 20), actor="test",
                                        file_name="0123abcd.pdf", file_label="方案.pdf")
    return t.id


def _body(response) -> str:
    """The page without the logout form's CSRF token (it carries the current second)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.data.decode())


def _same_404(client: FlaskClient, hidden: str, unknown: str) -> None:
    """``hidden`` (an id the viewer may not know) answers exactly like ``unknown``."""
    a, b = client.get(hidden), client.get(unknown)
    assert (a.status_code, b.status_code) == (404, 404), (hidden, a.status_code)
    assert _body(a) == _body(b)


# -- 404 for every id a person may not know exists --------------------------------------------

def test_busy_meeting_page_answers_like_an_unknown_request_id(app: Flask) -> None:
    """/meetings/request-N: a confidential request's page must not tell 钱丽 that request N is
    the 忙碌 block at that time (request numbers are counted across the office)."""
    n, _uid = _dangzu(app)
    rid = "2026-03-02T09:30:00+08:00"
    qian = login(app, "qian_keyuan")
    _same_404(qian, f"/meetings/request-{n}@guanliban.calsync/{rid}",
              f"/meetings/request-{n + 50}@guanliban.calsync/{rid}")
    _same_404(qian, f"/meetings/{ZHUREN}/{ZR_RID}",
              f"/meetings/{ZHUREN}/2026-03-04T09:01:00+08:00")
    # the invitee and the secretary still have the page
    for who in ("wang_fuzhuren", "zhou_mishukezhang"):
        page = login(app, who).get(f"/meetings/request-{n}@guanliban.calsync/{rid}")
        assert page.status_code == 200 and DANGZU_TITLE in page.data.decode()


def test_topic_file_answers_like_an_unknown_topic_to_whoever_may_not_see_it(app: Flask) -> None:
    hidden = _topic_with_file(app)                                 # confidential meeting
    public = _topic_with_file(app, ZHOULIHUI, ZL_RID, "zonghe")    # 综合业务科's topic
    for who in ("qian_keyuan", "liu_zhuren"):
        _same_404(login(app, who), f"/agenda/topic/{hidden}/file", "/agenda/topic/9999/file")
    # 林芳 (交易科) does not see 综合业务科's topic on the page: nor its file
    _same_404(login(app, "lin_keyuan"), f"/agenda/topic/{public}/file",
              "/agenda/topic/9999/file")
    assert login(app, "qian_keyuan").get(f"/agenda/topic/{public}/file").status_code == 200
    # the chair sees every topic of his meeting; 王立新 (invited; not 秘书科's 分管领导) not this
    assert login(app, "zhang_zhuren").get(f"/agenda/topic/{hidden}/file").status_code == 200
    _same_404(login(app, "wang_fuzhuren"), f"/agenda/topic/{hidden}/file",
              "/agenda/topic/9999/file")


def test_topic_decision_answers_404_to_whoever_may_not_see_the_topic(app: Flask) -> None:
    t = _topic_with_file(app, ZHOULIHUI, ZL_RID, "zonghe")
    for who in ("lin_keyuan", "liu_zhuren"):
        c = login(app, who)
        a = c.post(f"/agenda/topic/{t}/consent", data={"version": 1})
        b = c.post("/agenda/topic/9999/consent", data={"version": 1})
        assert (a.status_code, b.status_code) == (404, 404) and _body(a) == _body(b), who
    # 周晓燕 (秘书科) sees the topic but is not its 分管领导: refused, not hidden
    assert login(app, "zhou_mishukezhang").post(f"/agenda/topic/{t}/consent",
                                                data={"version": 1}).status_code == 403
    assert _store(app).agenda.topic(t).state == "submitted"


def test_agenda_and_minutes_of_a_meeting_one_may_not_see_answer_404(app: Flask) -> None:
    qian = login(app, "qian_keyuan")
    unknown_rid = "2026-03-04T09:01:00+08:00"
    _same_404(qian, f"/agenda/{ZHUREN}/{ZR_RID}", f"/agenda/{ZHUREN}/{unknown_rid}")
    _same_404(qian, f"/minutes/{ZHUREN}/{ZR_RID}", f"/minutes/{ZHUREN}/{unknown_rid}")
    _same_404(qian, f"/minutes/{ZHUREN}/{ZR_RID}/file", f"/minutes/{ZHUREN}/{unknown_rid}/file")
    # a public meeting 林芳 (交易科) is not named in: its minutes are its invitees' (篇一 二.6)
    kewuhui = "kewuhui-zonghe-mon@guanliban.calsync"
    lin = login(app, "lin_keyuan")
    _same_404(lin, f"/minutes/{kewuhui}/2026-03-02T10:30:00+08:00",
              f"/minutes/{kewuhui}/2026-03-02T10:31:00+08:00")
    assert lin.get(f"/minutes/{ZHOULIHUI}/{ZL_RID}").status_code == 200   # she is due


def test_approval_posts_answer_404_for_notes_and_requests_of_another_organization(
        app: Flask) -> None:
    s = _store(app)
    note = s.leave.add_leave("guanliban", ZHOULIHUI, dt.datetime.fromisoformat(ZL_RID),
                             "qian_keyuan", category="事假",
                             reason="家中有事", substitute_id=None, late=False,
                             needs_director=False,
                             chair_id="zhang_zhuren", director_id=None, actor="test")
    req = s.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                 title=DANGZU_TITLE, audience=["wang_fuzhuren"],
                                 start="2026-03-10T09:30:00+08:00", end="2026-03-10T11:30:00+08:00",
                                 room=None, important=False, approver_id="zhang_zhuren",
                                 actor="test")
    liu = login(app, "liu_zhuren")
    for url, missing, data in (
            (f"/approvals/leave/{note.id}", "/approvals/leave/9999",
             {"step": "chair", "approve": "1", "version": 1}),
            (f"/approvals/requests/{req.id}", "/approvals/requests/9999",
             {"approve": "1", "version": 1}),
            (f"/leave/{note.id}/withdraw", "/leave/9999/withdraw", {"version": 1})):
        a, b = liu.post(url, data=data), liu.post(missing, data=data)
        assert (a.status_code, b.status_code) == (404, 404) and _body(a) == _body(b), url
    assert s.leave.get_leave(note.id).status == "pending"


# -- approvals -------------------------------------------------------------------------------

def test_approver_who_may_not_see_the_meeting_sees_it_as_busy(app: Flask) -> None:
    """A leave note whose recorded approver is not (or no longer) invited to a confidential
    meeting: 待我审批 names the person, category and reason, never the meeting."""
    _n, uid = _dangzu(app)
    _store(app).leave.add_leave("guanliban", uid, dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ),
                                "wang_fuzhuren",
                                category="公出", reason="赴省厅开会", substitute_id=None,
                                late=False,
                                needs_director=False, chair_id="wu_kezhang", director_id=None,
                                actor="test")
    page = login(app, "wu_kezhang").get("/approvals").data.decode()
    assert "赴省厅开会" in page and "王立新" in page
    assert DANGZU_TITLE not in page and "党组会议" not in page and uid not in page
    assert DANGZU_TITLE in login(app, "zhang_zhuren").get(
        f"/meetings/{uid}/2026-03-02T09:30:00+08:00").data.decode()


# -- filing leave ----------------------------------------------------------------------------

def test_leave_for_another_organizations_meeting_answers_404_and_files_nothing(
        app: Flask) -> None:
    liu = login(app, "liu_zhuren")
    data = {"occurrence": f"{ZHOULIHUI}|{ZL_RID}", "person": "liu_zhuren",
            "category": "事假", "reason": "x"}
    a = liu.post("/leave", data=data)
    b = liu.post("/leave", data={**data, "occurrence": f"{ZHOULIHUI}|2026-03-02T09:31:00+08:00"})
    assert (a.status_code, b.status_code) == (404, 404) and _body(a) == _body(b)
    leave = _store(app).leave
    assert not leave.leave_notes("guanliban") and not leave.leave_notes("jiaoyuju")


def test_leave_for_a_confidential_meeting_one_is_not_named_in_answers_404(app: Flask) -> None:
    qian = login(app, "qian_keyuan")
    data = {"occurrence": f"{ZHUREN}|{ZR_RID}", "person": "qian_keyuan", "category": "事假",
            "reason": "x"}
    assert qian.post("/leave", data=data).status_code == 404
    # a link naming it is ignored exactly like a link naming no meeting at all
    a = qian.get(f"/leave?series={ZHUREN}&rid={ZR_RID}")
    b = qian.get(f"/leave?series={ZHUREN}&rid=2026-03-04T09:01:00%2B08:00")
    assert a.status_code == b.status_code == 200 and _body(a) == _body(b)
    assert "主任办公会" not in a.data.decode()
    assert not _store(app).leave.leave_notes("guanliban")


def test_staff_cannot_file_leave_for_another_person(app: Flask) -> None:
    qian = login(app, "qian_keyuan")
    r = qian.post("/leave", data={"occurrence": f"{ZHOULIHUI}|{ZL_RID}",
                                  "person": "he_keyuan", "category": "事假", "reason": "x"})
    assert r.status_code in (200, 403)
    assert not _store(app).leave.leave_notes("guanliban")
    # the secretary may (篇二 四.3: 秘书科 records leave for others)
    r = login(app, "zhou_mishukezhang").post(
        "/leave", data={"occurrence": f"{ZHOULIHUI}|{ZL_RID}", "person": "he_keyuan",
                        "category": "事假", "reason": "x"})
    assert r.status_code == 302
    assert [n.person_id for n in _store(app).leave.leave_notes("guanliban")] == ["he_keyuan"]


# -- statistics: the view and the bar ask the same rule --------------------------------------

def test_statistics_link_shows_exactly_to_those_the_view_admits(app: Flask) -> None:
    for who in USERS:
        c = login(app, who)
        admitted = c.get("/stats").status_code == 200
        assert ("统计</a>" in c.get("/leave").data.decode()) == admitted, who
        viewer = _viewer(app, who)
        assert admitted == access.may_read_stats(viewer, viewer.organization), who


# -- the pure rules --------------------------------------------------------------------------

def _viewer(app: Flask, person_id: str) -> access.Viewer:
    return access.viewer_of(app.extensions["calsync"].policies, person_id)


def _occ(klass: str = "CONFIDENTIAL") -> Occurrence:
    start = dt.datetime(2026, 3, 4, 9, tzinfo=TZ)
    return Occurrence("zr", ZHUREN, "guanliban", "meeting", ("zhurenbangong",), "主任办公会",
                      start, start + dt.timedelta(hours=1), start, klass=klass,
                      attendees=(Attendee("张建国", "z@x", "CHAIR", person_id="zhang"),
                                 Attendee("王立新", "w@x", "REQ-PARTICIPANT", person_id="wang")))


STAFF = access.Viewer("qian", "guanliban", "staff", section="zonghe")
MEMBER = access.Viewer("wang", "guanliban", "leader")
SECRETARY = access.Viewer("zhou", "guanliban", "secretary", section="mishuke")
OTHER_SECRETARY = access.Viewer("liu", "jiaoyuju", "secretary", section="bangongshi")


def test_topics_of_a_meeting_one_may_not_see_are_hidden_from_its_sections_staff() -> None:
    """calsync.meetings.agenda's former copy let 综合业务科 staff see their section's topic of a
    confidential meeting they are not invited to; only the page's extra check hid it."""
    assert not access.sees_topic(STAFF, _occ(), "zonghe", "wang")
    assert access.sees_topic(STAFF, _occ("PUBLIC"), "zonghe", "wang")
    assert access.sees_topic(MEMBER, _occ(), "zonghe", "wang")
    assert not access.sees_topic(OTHER_SECRETARY, _occ("PUBLIC"), "zonghe", "wang")


def test_minutes_rule_hides_minutes_from_everyone_not_invited() -> None:
    assert access.sees_minutes(MEMBER, _occ()) and access.sees_minutes(SECRETARY, _occ())
    assert not access.sees_minutes(STAFF, _occ()) and not access.sees_minutes(STAFF, _occ("PUBLIC"))
    assert not access.sees_minutes(OTHER_SECRETARY, _occ("PUBLIC"))


def test_leave_reason_of_another_organizations_note_needs_no_downgraded_role() -> None:
    """The rule itself refuses another organization's secretary: web/meetings.py no longer
    turns their role into "staff" to get the right answer."""
    assert not access.sees_leave_reason(OTHER_SECRETARY, "guanliban", "qian", ("zhang",))
    assert access.sees_leave_reason(SECRETARY, "guanliban", "qian", ("zhang",))
    assert access.sees_leave_reason(STAFF, "guanliban", "qian", ("zhang",))
    assert access.sees_leave_reason(access.Viewer("zhang", "guanliban", "leader"),
                                    "guanliban", "qian", ("zhang", None))
    assert not access.sees_leave_reason(MEMBER, "guanliban", "qian", ("zhang",))


def test_decision_readers_on_the_page_and_in_caldav_are_one_rule() -> None:
    """calsync.ical.tasks (the VTODO collection's readers) and the page (sees_decision)
    answer alike for every viewer, meeting class and missing meeting."""
    secretaries = ("zhou",)
    viewers = (STAFF, MEMBER, SECRETARY, access.Viewer("zhang", "guanliban", "leader"))
    for occ, recorded in ((_occ(), True), (_occ("PUBLIC"), False), (None, True),
                          (None, False), (_occ("PUBLIC"), True)):
        who = access.decision_readers(occ, recorded, secretaries)
        for v in viewers:
            page = access.sees_decision(v, "guanliban", occ, recorded)
            assert page == (who is None or v.person_id in who), (v, occ, recorded)
        assert not access.sees_decision(OTHER_SECRETARY, "guanliban", occ, recorded)


def test_filing_leave_rule() -> None:
    occ = _occ("PUBLIC")
    assert access.may_file_leave(MEMBER, occ, "wang")
    assert not access.may_file_leave(MEMBER, occ, "zhang")           # for someone else
    assert access.may_file_leave(SECRETARY, occ, "zhang")            # 秘书科 for anyone due
    assert not access.may_file_leave(SECRETARY, occ, "qian")         # not due at it
    assert not access.may_file_leave(STAFF, occ, "qian")
    assert not access.may_file_leave(OTHER_SECRETARY, occ, "wang")   # another organization


def test_page_and_feed_scope_agree_on_organizations(app: Flask) -> None:
    policies = app.extensions["calsync"].policies
    for who in USERS:
        v = _viewer(app, who)
        for org in policies.organizations:
            assert (access.page_organization(v, org) == org) == access.may_read_feed(
                policies, v, ("org", org)), (who, org)
        assert access.page_organization(v, None) == v.organization
