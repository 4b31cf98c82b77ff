"""Who sees and enters what of the notice outbox (calsync.access), on SQLite and PostgreSQL:
``calsync notices list|plan`` show a confidential meeting's notices as 忙碌 without subject or
recipients unless ``--as`` names one of its people; ``POST /imip/reply`` keeps an answer only
from a current invitee, entered by a secretary of the organization or the attendee, and the
audit log says who entered it; the 会议通知 POSTs ask the access rule."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import icalendar
import pytest
from flask import Flask

from calsync.access import (
    BUSY_ONLY,
    FULL,
    NONE,
    OPERATOR,
    Viewer,
    may_record_reply,
    notice_visibility,
)
from calsync.cli import main as cli_main
from calsync.ical.render import new_calendar
from calsync.occurrence import TZ
from calsync.store import Store
from tests.support.notice_replies import CHAIR, SECRETARY, STAFF, ZRB, reply_ics
from tests.support.webapp import confidential_policies, login, make_app

MAR4 = dt.datetime(2026, 3, 4, 9, tzinfo=TZ)
MAR18 = dt.datetime(2026, 3, 18, 9, tzinfo=TZ)
WANG = "wang.lixin@glb.example.org"          # 王立新, 副主任: attends 主任办公会


# -- calsync notices list|plan -------------------------------------------------------------

def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert cli_main(list(argv)) == 0
    return capsys.readouterr().out


@pytest.fixture
def sent(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Notices of 管理办 (主任办公会 confidential) queued and written; the common options."""
    common = ["--policies", str(confidential_policies(tmp_path)), "--database-url",
              _url(store)]
    _cli(capsys, "notices", "send", "--org", "guanliban", *common,
         "--instance", str(tmp_path / "inst"))
    secret = [r for r in store.notices.outbox(["guanliban"]) if r.confidential]
    assert secret and any(r.uid == ZRB for r in secret)
    return common


def _listed(capsys: pytest.CaptureFixture[str], common: list[str], *who: str) -> list[dict]:
    return json.loads(_cli(capsys, "notices", "list", "--format", "json", *common, *who))


def test_notices_list_without_as_shows_confidential_notices_as_busy_without_recipients(
        store: Store, sent: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rows = {r.id: r for r in store.notices.outbox(["guanliban"])}
    listed = _listed(capsys, sent)
    assert {x["id"] for x in listed} == set(rows)
    for x in listed:
        if rows[x["id"]].confidential:
            assert (x["subject"], x["recipient"], x["uid"], x["message_id"]) == (
                "忙碌", "", "", "")
        else:
            assert (x["subject"], x["recipient"]) == (rows[x["id"]].subject,
                                                       rows[x["id"]].recipient)
    text = _cli(capsys, "notices", "list", *sent)
    assert "主任办公会" not in text and "zhurenbangong" not in text and "忙碌" in text
    assert "主任办公会" not in json.dumps(listed, ensure_ascii=False)


def test_notices_list_as_a_person_applies_their_visibility(
        store: Store, sent: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    zrb = {r.id for r in store.notices.outbox(["guanliban"]) if r.uid == ZRB}
    invited = {x["id"]: x for x in _listed(capsys, sent, "--as", "wang_fuzhuren")}
    assert all(invited[i]["uid"] == ZRB and "主任办公会" in invited[i]["subject"] for i in zrb)
    assert {invited[i]["recipient"] for i in zrb} >= {CHAIR, WANG}
    staff = {x["id"]: x for x in _listed(capsys, sent, "--as", "qian_keyuan")}
    assert all(staff[i]["subject"] == "忙碌" and staff[i]["recipient"] == "" for i in zrb)
    assert _listed(capsys, sent, "--as", "liu_zhuren") == []   # another organization's


def test_notices_plan_without_as_names_no_confidential_meeting(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--policies", str(confidential_policies(tmp_path)), "--org", "guanliban",
              "--database-url", _url(store)]
    out = _cli(capsys, "notices", "plan", *common)
    assert "主任办公会" not in out and "忙碌" in out and ZRB not in out
    secretary = _cli(capsys, "notices", "plan", *common, "--as", SECRETARY)
    assert "会议通知：主任办公会" in secretary and CHAIR in secretary


# -- POST /imip/reply and /notices/send ---------------------------------------------------

def _app(db_url: str, tmp_path: Path, *users: str) -> Flask:
    return make_app(db_url, tmp_path / "instance", users=(SECRETARY, STAFF, *users))


def _store(app: Flask) -> Store:
    return app.extensions["calsync"].store


def test_a_reply_for_a_cancelled_occurrence_is_refused(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url, tmp_path)
    client = login(app, SECRETARY)
    client.post("/notices/send")
    _store(app).decisions.add_decision("guanliban", ZRB, MAR4, "cancel", actor="t",
                                       source="cli")
    client.post("/notices/send")          # the attendees are told it is cancelled
    r = client.post("/imip/reply", data=reply_ics(ZRB, CHAIR, "ACCEPTED", MAR4),
                    content_type="text/calendar")
    assert r.status_code == 400 and "not invited" in r.get_json()["error"]
    assert _store(app).notices.notice_replies() == []
    r = client.post("/imip/reply", data=reply_ics(ZRB, CHAIR, "ACCEPTED", MAR18),
                    content_type="text/calendar")
    assert r.status_code == 200


def test_a_reply_from_someone_taken_off_the_meeting_is_refused(db_url: str,
                                                               tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path / "instance", users=("liu_zhuren",))
    store = _store(app)
    req = store.requests.add_request("jiaoyuju", section_id="bangongshi", category="juzhangbangong",
                                     title="研究学校安全工作", audience=["song_fujuzhang"],
                                     start="2026-03-03T09:00:00+08:00",
                                     end="2026-03-03T10:00:00+08:00", room=None, important=False,
                                     approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    uid = f"request-{req.id}@jiaoyuju.calsync"
    client = login(app, "liu_zhuren")
    client.post("/notices/send")
    store.decisions.add_decision("jiaoyuju", uid, dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ),
                                 "cancel", actor="t",
                                 source="cli")
    client.post("/notices/send")          # the whole meeting is called off
    r = client.post("/imip/reply", data=reply_ics(uid, "song.lihua@jyj.example.org",
                                                  "ACCEPTED"),
                    content_type="text/calendar")
    assert r.status_code == 400 and "not invited" in r.get_json()["error"]
    assert store.notices.notice_replies() == []


def test_the_audit_log_names_who_entered_a_reply(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url, tmp_path)
    client = login(app, SECRETARY)
    client.post("/notices/send")
    r = client.post("/imip/reply", data={"ics": reply_ics(ZRB, CHAIR, "DECLINED").decode()})
    assert r.status_code == 302
    (entry,) = _store(app).audit.audit_log(target=f"notice-reply:{ZRB}")
    assert entry.actor == SECRETARY and entry.action == "notice.reply"
    assert CHAIR in str(entry.after) and "DECLINED" in str(entry.after)


def test_a_reply_with_one_bad_answer_keeps_none(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url, tmp_path)
    client = login(app, SECRETARY)
    client.post("/notices/send")
    cal = new_calendar()
    cal.add("METHOD", "REPLY")
    for who in (CHAIR, "stranger@example.org"):
        ev = icalendar.Event()
        ev.add("UID", ZRB)
        ev.add("DTSTAMP", dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
        ev.add("RECURRENCE-ID", MAR4)
        addr = icalendar.vCalAddress(f"mailto:{who}")
        addr.params["PARTSTAT"] = "ACCEPTED"
        ev.add("ATTENDEE", addr)
        cal.add_component(ev)
    r = client.post("/imip/reply", data=cal.to_ical(), content_type="text/calendar")
    assert r.status_code == 400 and "stranger@example.org" in r.get_json()["error"]
    assert _store(app).notices.notice_replies() == []


def test_staff_may_neither_send_notices_nor_enter_another_persons_reply(
        db_url: str, tmp_path: Path) -> None:
    app = _app(db_url, tmp_path)
    staff = login(app, STAFF)
    assert staff.post("/notices/send").status_code == 403
    assert _store(app).notices.outbox() == []
    login(app, SECRETARY).post("/notices/send")
    # refused before the invitee check: the answer tells nothing about who was invited
    for who in (CHAIR, "stranger@example.org"):
        r = staff.post("/imip/reply", data=reply_ics(ZRB, who, "ACCEPTED"),
                       content_type="text/calendar")
        assert r.status_code == 403
    assert _store(app).notices.notice_replies() == []


# -- the rules themselves (calsync.access) ------------------------------------------------

SEC = Viewer("zhou_mishukezhang", "guanliban", "secretary", "周", "zhou@glb.example.org")
OTHER_SEC = Viewer("liu_zhuren", "jiaoyuju", "secretary", "刘", "liu@jyj.example.org")
CLERK = Viewer("qian_keyuan", "guanliban", "staff", "钱", "qian.li@glb.example.org")
GUEST = Viewer("school_1", "guanliban", "external", "校长", "s1@example.org")


def test_who_may_record_a_reply() -> None:
    assert may_record_reply(SEC, "guanliban", "zhang_zhuren")
    assert may_record_reply(SEC, "guanliban", None)            # an address outside the directory
    assert not may_record_reply(OTHER_SEC, "guanliban", "zhang_zhuren")
    assert may_record_reply(CLERK, "guanliban", "qian_keyuan")  # their own answer
    assert not may_record_reply(CLERK, "guanliban", "zhang_zhuren")
    assert not may_record_reply(CLERK, "guanliban", None)
    assert not may_record_reply(GUEST, "guanliban", "school_1")


def test_who_sees_a_notice_in_the_outbox() -> None:
    invitees = {"qian.li@glb.example.org", CHAIR}
    assert notice_visibility(OPERATOR, "guanliban", True, invitees) == BUSY_ONLY
    assert notice_visibility(OPERATOR, "guanliban", False, invitees) == FULL
    assert notice_visibility(SEC, "guanliban", True, ()) == FULL
    assert notice_visibility(CLERK, "guanliban", True, invitees) == FULL
    assert notice_visibility(CLERK, "guanliban", True, {CHAIR}) == BUSY_ONLY
    assert notice_visibility(OTHER_SEC, "guanliban", False, invitees) == NONE
    assert notice_visibility(GUEST, "guanliban", False, {CHAIR}) == NONE
