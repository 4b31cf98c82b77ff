"""议题与议程 page through the Flask test client: every role's step, the 403s (staff of another
section, the wrong leader, another organization's secretary), late topics, hostile input,
materials files, and the approved agenda in feeds, masked for a non-invitee."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from flask import Flask
from flask.testing import FlaskClient

from calsync.occurrence import TZ
from tests.support.webapp import confidential_policies, login, make_app

ZHUREN = "zhurenbangong@guanliban.calsync"
ZHOULIHUI = "zhoulihui@guanliban.calsync"
ZR_RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()    # deadline 03-02 17:00
ZL_RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ).isoformat()   # deadline 02-27 15:00: past
USERS = ("qian_keyuan", "lin_keyuan", "zhou_mishukezhang", "wang_fuzhuren", "li_fuzhuren",
         "zhang_zhuren", "liu_zhuren")


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    app = make_app(db_url, tmp_path / "instance", users=USERS,
                   CALSYNC_AGENDA_MAX_BYTES=4096)
    yield app
    app.extensions["calsync"].close()


def _page(uid: str, rid: str, tail: str = "") -> str:
    return f"/agenda/{uid}/{rid}{tail}"


def _submit(c: FlaskClient, title: str, uid: str = ZHUREN, rid: str = ZR_RID, **extra):
    data = {"title": title, "presenter": "", "minutes": "20", "link": "", **extra}
    return c.post(_page(uid, rid, "/topics"), data=data, content_type="multipart/form-data")


def _topics(app: Flask, uid: str = ZHUREN, rid: str = ZR_RID):
    return app.extensions["calsync"].store.agenda.topics(uid, dt.datetime.fromisoformat(rid))


def _agendas(app: Flask, uid: str = ZHUREN, rid: str = ZR_RID):
    return app.extensions["calsync"].store.agenda.agendas(uid, dt.datetime.fromisoformat(rid))


def test_each_role_does_its_own_step(app: Flask) -> None:
    qian, lin = login(app, "qian_keyuan"), login(app, "lin_keyuan")
    zhou, wang = login(app, "zhou_mishukezhang"), login(app, "wang_fuzhuren")
    li, zhang, liu = login(app, "li_fuzhuren"), login(app, "zhang_zhuren"), login(app, "liu_zhuren")
    meeting = qian.get(f"/meetings/{ZHUREN}/{ZR_RID}").get_data(as_text=True)
    assert 'id="agenda-link"' in meeting                            # linked from the meeting
    page = qian.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    assert "2026-03-02 周一 17:00（议题材料截止，篇一 二.4）" in page
    pdf = (io.BytesIO(b"%PDF-1.4 materials"), "考评办法（草案）.pdf")
    r = _submit(qian, "审议窗口考评办法", link="https://oa.example.org/doc/1", file=pdf)
    assert r.status_code == 302
    (t,) = _topics(app)
    assert (t.section, t.presenter, t.minutes, t.late_note) == ("zonghe", "钱丽", 20, "")
    # staff of another section: does not see it, cannot decide it (404: not even that it
    # exists, like an unknown topic — issue 20)
    assert "审议窗口考评办法" not in lin.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    assert lin.get(f"/agenda/topic/{t.id}/file").status_code == 404
    for who in (zhou, zhang):   # only 综合业务科's 分管领导 (王立新) consents
        assert who.post(f"/agenda/topic/{t.id}/consent", data={"version": 1}).status_code == 403
    for who in (lin, li, liu):  # those who do not see the topic at all
        assert who.post(f"/agenda/topic/{t.id}/consent", data={"version": 1}).status_code == 404
    assert wang.post(f"/agenda/topic/{t.id}/consent", data={"version": 1}).status_code == 302
    assert _topics(app)[0].state == "consented"
    order = {"agenda": 0, f"pos_{t.id}": 1}
    for who in (qian, wang, zhang, liu):      # only the organizer section (秘书科) orders
        assert who.post(_page(ZHUREN, ZR_RID, "/order"), data=order).status_code == 403
    assert zhou.post(_page(ZHUREN, ZR_RID, "/order"), data=order).status_code == 302
    store = app.extensions["calsync"].store
    (draft,) = store.agenda.agendas(ZHUREN, dt.datetime.fromisoformat(ZR_RID))
    for who in (zhou, wang, qian, liu):       # only the chair (主任) approves
        r = who.post(_page(ZHUREN, ZR_RID, "/approve"), data={"agenda": draft.id})
        assert r.status_code == 403
    assert zhang.post(_page(ZHUREN, ZR_RID, "/approve"),
                      data={"agenda": draft.id}).status_code == 302
    assert store.agenda.agendas(ZHUREN, dt.datetime.fromisoformat(ZR_RID))[0].status == "approved"
    desc = zhang.get(f"/meetings/{ZHUREN}/{ZR_RID}").get_data(as_text=True)
    assert "议程：\n1. 审议窗口考评办法（汇报：钱丽，约20分钟）" in desc
    # the materials: a download for those who see the topic, never rendered inline
    r = zhou.get(f"/agenda/topic/{t.id}/file")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 materials"
    assert r.mimetype == "application/octet-stream"
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # another organization's secretary: not even the page
    assert liu.get(_page(ZHUREN, ZR_RID)).status_code == 404
    assert _submit(liu, "越权议题").status_code == 403
    assert len(_topics(app)) == 1


def test_zhoulihui_late_topic_is_kept_and_the_duty_leader_approves(app: Flask) -> None:
    qian, wang = login(app, "qian_keyuan"), login(app, "wang_fuzhuren")
    zhou, zhang = login(app, "zhou_mishukezhang"), login(app, "zhang_zhuren")
    page = qian.get(_page(ZHOULIHUI, ZL_RID)).get_data(as_text=True)
    assert "已过截止时间" in page                      # 02-27 15:00 is before NOW (03-01)
    r = _submit(qian, "综合业务科上周工作完成情况", uid=ZHOULIHUI, rid=ZL_RID)
    assert r.status_code == 302
    (t,) = _topics(app, ZHOULIHUI, ZL_RID)
    assert t.late_note == "逾期：晚于周工作报表报送截止（2026-02-27 15:00，篇一 三.5）提交"
    assert "逾期" in qian.get(_page(ZHOULIHUI, ZL_RID)).get_data(as_text=True)
    wang.post(f"/agenda/topic/{t.id}/consent", data={"version": 1})
    zhou.post(_page(ZHOULIHUI, ZL_RID, "/order"), data={"agenda": 0, f"pos_{t.id}": 1})
    (draft,) = _agendas(app, ZHOULIHUI, ZL_RID)
    # 三.4 "报值班领导审定": March's duty leader is 王立新, not the 主任
    assert zhang.post(_page(ZHOULIHUI, ZL_RID, "/approve"),
                      data={"agenda": draft.id}).status_code == 403
    assert wang.post(_page(ZHOULIHUI, ZL_RID, "/approve"),
                     data={"agenda": draft.id}).status_code == 302
    assert _agendas(app, ZHOULIHUI, ZL_RID)[0].status == "approved"


def test_meetings_without_a_topic_deadline_have_no_agenda_page(app: Flask) -> None:
    qian = login(app, "qian_keyuan")
    kewuhui = "kewuhui-zonghe-fri@guanliban.calsync"
    rid = dt.datetime(2026, 3, 6, 9, 0, tzinfo=TZ).isoformat()
    assert qian.get(_page(kewuhui, rid)).status_code == 404
    assert 'id="agenda-link"' not in qian.get(f"/meetings/{kewuhui}/{rid}").get_data(as_text=True)


def test_hostile_input(app: Flask) -> None:
    qian = login(app, "qian_keyuan")
    xss = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert _submit(qian, xss, presenter='"><svg onload=alert(1)>').status_code == 302
    page = qian.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    assert "<script>alert" not in page and "<svg onload" not in page
    assert "&lt;script&gt;alert" in page
    for link in ("javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd"):
        r = _submit(qian, "带链接的议题", link=link)
        assert r.status_code == 302
        assert "材料链接须为" in qian.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    folder = Path(app.config["CALSYNC_INSTANCE"]) / "agenda-files"
    # over the limit (4 KiB here): refused while streaming, nothing left behind
    r = _submit(qian, "大文件", file=(io.BytesIO(b"x" * 5000), "big.pdf"))
    assert "材料文件超过" in qian.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    # far over it: refused from Content-Length, before the body is read
    r = _submit(qian, "巨大文件", file=(io.BytesIO(b"x" * 200_000), "huge.pdf"))
    assert r.status_code == 413 and "材料文件过大" in r.get_data(as_text=True)
    r = _submit(qian, "网页文件", file=(io.BytesIO(b"<script>x</script>"), "evil.html"))
    assert "材料文件须为" in qian.get(_page(ZHUREN, ZR_RID)).get_data(as_text=True)
    assert [t.title for t in _topics(app)] == [xss]          # none of the refused was stored
    assert not folder.exists() or list(folder.iterdir()) == []
    # a path in the file name stays a label; the stored name is random, inside the folder
    _submit(qian, "路径", file=(io.BytesIO(b"%PDF"), "../../../etc/evil.pdf"))
    t = _topics(app)[-1]
    assert t.file_label == "evil.pdf" and (folder / t.file_name).is_file()
    assert (folder / t.file_name).stat().st_mode & 0o077 == 0


# -- the approved agenda in feeds, and the confidential rule ----------------------------------

@pytest.fixture
def secret_app(db_url: str, tmp_path: Path):
    app = make_app(db_url, tmp_path / "instance", confidential_policies(tmp_path),
                   users=USERS)
    yield app
    app.extensions["calsync"].close()


def _feed_event(app: Flask, person: str) -> icalendar.Event:
    token = app.extensions["calsync"].store.feeds.feed_token(person, "guanliban", actor="test")
    r = app.test_client().get(f"/feeds/{token}/org/guanliban.ics")
    assert r.status_code == 200
    cal = icalendar.Calendar.from_ical(r.data)
    (ev,) = [e for e in recurring_ical_events.of(cal).at((2026, 3, 4))
             if e["DTSTART"].dt.isoformat() == ZR_RID]
    return ev


def test_confidential_agenda_shows_only_to_invitees(secret_app: Flask) -> None:
    app = secret_app
    zhou, zhang, qian = (login(app, n) for n in ("zhou_mishukezhang", "zhang_zhuren",
                                                  "qian_keyuan"))
    # an uninvited staff member may neither see nor use the page of a confidential meeting
    # (404 like an unknown occurrence: issue 20)
    assert qian.get(_page(ZHUREN, ZR_RID)).status_code == 404
    assert _submit(qian, "不应提交").status_code == 404
    assert _submit(zhou, "研究党风廉政建设责任分工").status_code == 302   # 秘书科's own topic
    (t,) = _topics(app)
    assert zhang.post(f"/agenda/topic/{t.id}/consent", data={"version": 1}).status_code == 302
    zhou.post(_page(ZHUREN, ZR_RID, "/order"), data={"agenda": 0, f"pos_{t.id}": 1})
    (draft,) = _agendas(app)
    assert zhang.post(_page(ZHUREN, ZR_RID, "/approve"),
                      data={"agenda": draft.id}).status_code == 302
    seen = _feed_event(app, "wang_fuzhuren")                 # 副主任: invited
    assert str(seen["DESCRIPTION"]).startswith("议程：\n1. 研究党风廉政建设责任分工")
    hidden = _feed_event(app, "qian_keyuan")                 # not invited: 忙碌 only
    assert str(hidden["SUMMARY"]) == "忙碌"
    assert "DESCRIPTION" not in hidden or "议程" not in str(hidden["DESCRIPTION"])
    assert "研究党风廉政" not in hidden.to_ical().decode()
