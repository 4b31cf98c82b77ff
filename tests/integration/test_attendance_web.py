"""签到 and 考勤 through the Flask test client, on SQLite and PostgreSQL: the window and late
marks, the short code for people without an account (rate-limited), hand corrections
(audited, shown), the policy's keepers (教育督导室 for 全局干部职工会), confidentiality (an
uninvited colleague or another organization sees and signs nothing), the monthly report
masked for a reader not invited, exports read back, and the report by e-mail."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from calsync.occurrence import TZ
from tests.support.webapp import confidential_policies, login, make_app

UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
PAGE = f"/signin/{UID}/{RID.isoformat()}"
USERS = ("zhou_mishukezhang", "wang_fuzhuren", "li_fuzhuren", "zhang_zhuren", "qian_keyuan",
         "feng_kezhang", "liu_zhuren", "deng_zhuren", "huang_juzhang", "du_keyuan")


def _at(app: Flask, hh: int, mm: int, day: int = 4) -> None:
    app.extensions["calsync"].fixed_now = dt.datetime(2026, 3, day, hh, mm, tzinfo=TZ)


def _text(r) -> str:
    return r.get_data(as_text=True)


def _flash(client: FlaskClient) -> str:
    return " ".join(re.findall(r'<p class="flash \w+">([^<]*)</p>', _text(client.get(PAGE))))


def _marks(app: Flask) -> dict[str, tuple[str, str]]:
    return {m.person_key: (m.status, m.method)
            for m in app.extensions["calsync"].store.attendance.attendance_marks(UID, RID)}


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    app = make_app(db_url, tmp_path / "instance", users=USERS)
    yield app
    app.extensions["calsync"].close()


@pytest.fixture
def secret_app(tmp_path: Path):
    """主任办公会 confidential; the monthly report goes to 冯涛 (督查考评科), not invited."""
    root = confidential_policies(tmp_path)
    path = root / "guanliban" / "attendance.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'report_to = "director"', 'report_to = "person:feng_kezhang"'), encoding="utf-8")
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "instance", root,
                   users=USERS)
    yield app
    app.extensions["calsync"].close()


def _sheet(app: Flask, keeper: FlaskClient):
    assert keeper.get(PAGE).status_code == 200               # the keeper's visit makes it
    return app.extensions["calsync"].store.attendance.get_signin_sheet(UID, RID)


def test_window_and_late_marks(app: Flask) -> None:
    wang, li, zhou = (login(app, n) for n in ("wang_fuzhuren", "li_fuzhuren",
                                              "zhou_mishukezhang"))
    assert 'id="signin-link"' in _text(wang.get(f"/meetings/{UID}/{RID.isoformat()}"))
    _at(app, 8, 29)                                          # opens 30 minutes before
    page = _text(wang.get(PAGE))
    assert "签到尚未开始：03月04日 08:30 开放签到" in page and 'id="sign-button"' not in page
    wang.post(f"{PAGE}/self")
    assert _marks(app) == {}
    assert "签到尚未开始" in _flash(wang)
    _at(app, 8, 45)
    assert 'id="sign-button"' in _text(wang.get(PAGE))
    wang.post(f"{PAGE}/self")
    assert "签到成功：王立新，08:45。" in _flash(wang)
    _at(app, 9, 3)
    li.post(f"{PAGE}/self")
    assert "签到成功：李红梅，09:03，记为迟到。" in _flash(li)
    wang.post(f"{PAGE}/self")                                # twice: the first one stands
    assert "王立新 已于 08:45 签到（出席），无需重复签到。" in _flash(wang)
    assert _marks(app) == {"wang_fuzhuren": ("present", "self"),
                           "li_fuzhuren": ("late", "self")}
    _at(app, 11, 1)                                          # closes at the end (11:00)
    zhang = login(app, "zhang_zhuren")
    zhang.post(f"{PAGE}/self")
    assert "签到已于 03月04日 11:00 结束" in _flash(zhang) and "zhang_zhuren" not in _marks(app)
    counts = re.search(r'id="counts">(.*?)</p>', _text(zhou.get(PAGE))).group(1)
    assert re.sub(r"</?b>", "", counts) == "应到 6 人，出席 1，迟到 1，请假 0，缺席 4，出席率 33%"


def test_code_for_people_without_an_account(app: Flask) -> None:
    sheet = _sheet(app, login(app, "zhou_mishukezhang"))
    anon = app.test_client()
    _at(app, 8, 50)
    page = _text(anon.get(f"/s/{sheet.token}"))
    assert 'id="code-form"' in page and "主任办公会" not in page   # nothing before signing
    assert anon.get("/s/not-a-token").status_code == 404
    wrong = anon.post(f"/s/{sheet.token}", data={"code": "x", "name": "陈静"})
    assert wrong.status_code == 400 and "签到码不正确" in _text(wrong)
    nobody = anon.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "路人甲"})
    assert nobody.status_code == 400 and "未能凭此姓名签到" in _text(nobody)   # neutral
    ok = anon.post(f"/s/{sheet.token}", data={"code": f" {sheet.code} ", "name": "陈 静"})
    assert "签到成功：陈静，08:50。" in _text(ok) and "主任办公会" in _text(ok)
    assert _marks(app) == {"chen_mishu": ("present", "code")}
    # guesses from one address: locked by the login limiter, even with the right one after
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    for code in [c for c in (f"{i:06d}" for i in range(61)) if c != sheet.code][:60]:
        r = guesser.post(f"/s/{sheet.token}", data={"code": code, "name": "赵志强"})
        if r.status_code == 429:
            break
        assert r.status_code == 400
    assert r.status_code == 429
    locked = guesser.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "赵志强"})
    assert locked.status_code == 429 and "错误次数过多" in _text(locked)
    assert "zhao_jijian" not in _marks(app)
    # a renewed code: the old one no longer works
    zhou = login(app, "zhou_mishukezhang")
    zhou.post(f"{PAGE}/code", data={"version": sheet.version})
    new = app.extensions["calsync"].store.attendance.get_signin_sheet(UID, RID)
    assert new.version == 2 and new.token == sheet.token
    if new.code != sheet.code:                    # (one chance in a million it is the same)
        old = anon.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "赵志强"})
        assert old.status_code == 400
    fresh = anon.post(f"/s/{sheet.token}", data={"code": new.code, "name": "赵志强"})
    assert "签到成功：赵志强" in _text(fresh)


def test_hand_corrections_are_audited_and_shown(app: Flask) -> None:
    zhou, wang, qian, liu = (login(app, n) for n in ("zhou_mishukezhang", "wang_fuzhuren",
                                                     "qian_keyuan", "liu_zhuren"))
    _at(app, 9, 10)
    mark = {"person": "zhao_jijian", "status": "present", "version": "0"}
    assert zhou.post(f"{PAGE}/mark", data=mark).status_code == 302
    zhou.post(f"{PAGE}/mark", data={**mark, "status": "late", "version": "1"})
    zhou.post(f"{PAGE}/mark", data={**mark, "status": "absent", "version": "1"})  # stale
    assert "赵志强 的考勤刚被他人更改或已签到" in _flash(zhou)
    assert _marks(app) == {"zhao_jijian": ("late", "hand")}
    page = _text(zhou.get(PAGE))
    shown = re.search(r'id="corrections">(.*?)</ul>', page, re.S).group(1)
    assert "周晓燕：赵志强：未登记 → 出席" in shown and "周晓燕：赵志强：出席 → 迟到" in shown
    assert wang.post(f"{PAGE}/mark", data=mark).status_code == 403      # attendee, no keeper
    assert qian.post(f"{PAGE}/mark", data=mark).status_code == 403      # not invited
    assert qian.get(PAGE).status_code == 403
    assert liu.post(f"{PAGE}/mark", data=mark).status_code == 404       # other organization
    assert liu.get(PAGE).status_code == 404
    assert zhou.post(f"{PAGE}/mark", data={**mark, "person": "qian_keyuan"}).status_code == 400
    zhou.post(f"{PAGE}/mark", data={**mark, "person": "wang_fuzhuren", "status": "absent"})
    wang.post(f"{PAGE}/self")                   # the keeper's mark stands; he is told whom to ask
    assert "会务人员已将 王立新 登记为缺席" in _flash(wang)
    assert _marks(app) == {"zhao_jijian": ("late", "hand"), "wang_fuzhuren": ("absent", "hand")}


def test_confidential_meeting_only_for_invitees(secret_app: Flask) -> None:
    app = secret_app
    sheet = _sheet(app, login(app, "zhou_mishukezhang"))
    qian, liu = login(app, "qian_keyuan"), login(app, "liu_zhuren")
    _at(app, 8, 50)
    assert 'id="signin-link"' not in _text(qian.get(f"/meetings/{UID}/{RID.isoformat()}"))
    for client in (qian, liu):
        assert client.get(PAGE).status_code == 404
        assert client.get(f"{PAGE}/report.csv").status_code == 404
        assert client.get(f"{PAGE}/poster").status_code == 404
        assert client.post(f"{PAGE}/self").status_code == 404
        assert client.post(f"{PAGE}/mark", data={"person": "wang_fuzhuren", "status":
                                                 "present", "version": "0"}).status_code == 404
        page = _text(client.get(f"/s/{sheet.token}"))
        assert "主任办公会" not in page and 'id="not-listed"' in page
        assert client.post(f"/s/{sheet.token}", data={"code": sheet.code,
                                                      "name": "王立新"}).status_code == 403
    assert _marks(app) == {}
    wang = login(app, "wang_fuzhuren")
    r = wang.post(f"/s/{sheet.token}")                         # invited: one button
    assert "签到成功：王立新" in _text(r) and "主任办公会" in _text(r)


def test_month_report_masks_a_confidential_meeting_for_a_reader_not_invited(
        secret_app: Flask) -> None:
    app = secret_app
    zhou, feng, qian = (login(app, n) for n in ("zhou_mishukezhang", "feng_kezhang",
                                                "qian_keyuan"))
    _at(app, 8, 50)
    zhou.post(f"{PAGE}/mark", data={"person": "wang_fuzhuren", "status": "present",
                                    "version": "0"})
    weekly = f"/signin/zhoulihui@guanliban.calsync/{quote('2026-03-02T09:30:00+08:00')}"
    _at(app, 9, 20, day=2)
    assert zhou.get(weekly).status_code == 200
    feng.post(f"{weekly}/self")
    _at(app, 9, 0, day=31)
    assert qian.get("/attendance?month=2026-03").status_code == 403
    page = _text(feng.get("/attendance?month=2026-03"))
    assert "忙碌" in page and "主任办公会" not in page and "周例会" in page
    wb = load_workbook(io.BytesIO(feng.get("/attendance/export.xlsx?month=2026-03").data))
    titles = [r[0].value for r in wb["汇总"].iter_rows(min_row=2)]
    assert titles[:2] == ["周例会", "忙碌"] and titles[-1] == "合计"
    detail = [[c.value for c in r] for r in wb["明细"].iter_rows(min_row=2)]
    assert detail and {d[0] for d in detail} == {"周例会"}
    weekly_invited = next(r[2].value for r in wb["汇总"].iter_rows(min_row=2)
                          if r[0].value == "周例会")
    assert len(detail) == weekly_invited                     # no line of the masked one
    feng_row = next(d for d in detail if d[2] == "冯涛")
    assert feng_row[4] == "出席"
    assert feng.post("/attendance/send", data={"month": "2026-03"}).status_code == 403
    sent = zhou.post("/attendance/send", data={"month": "2026-03"}, follow_redirects=True)
    assert "未发送：未配置邮件" in _text(sent)                 # no SMTP: says how to turn it on
    full = load_workbook(io.BytesIO(zhou.get("/attendance/export.xlsx?month=2026-03").data))
    assert "主任办公会" in [r[0].value for r in full["汇总"].iter_rows(min_row=2)]


def _ganbu(app: Flask) -> tuple[str, str]:
    """An ad-hoc 全局干部职工会 of 教育局 (keeper: 教育督导室, 篇二 四.2)."""
    from calsync.app.service import generation

    core = app.extensions["calsync"]
    row = core.store.adhoc.add_adhoc("jiaoyuju", meeting_type="ganbu",
                                     start="2026-03-05T15:00:00+08:00",
                                     end="2026-03-05T16:30:00+08:00", actor="liu_zhuren")
    occs = generation(core.policies, core.store, dt.date(2026, 3, 5), dt.date(2026, 3, 5),
                      ["jiaoyuju"]).occurrences()
    occ = next(o for o in occs if o.uid.startswith(f"adhoc-{row.id}@"))
    return occ.uid, occ.nominal_start.isoformat()


def test_keeper_is_who_the_policy_names_and_the_report_goes_to_the_director(
        app: Flask, smtp_server, monkeypatch: pytest.MonkeyPatch) -> None:
    uid, rid = _ganbu(app)
    page = f"/signin/{uid}/{rid}"
    deng, liu, huang, du = (login(app, n) for n in ("deng_zhuren", "liu_zhuren",
                                                    "huang_juzhang", "du_keyuan"))
    _at(app, 15, 2, day=5)
    assert 'id="signin-code"' in _text(deng.get(page))         # 教育督导室 keeps the sheet
    liu_page = _text(liu.get(page))
    assert 'id="signin-code"' not in liu_page and 'id="counts"' in liu_page   # 办公室 reads
    assert liu.get(f"{page}/poster").status_code == 403
    mark = {"person": "du_keyuan", "status": "present", "version": "0"}
    assert liu.post(f"{page}/mark", data=mark).status_code == 403
    assert deng.post(f"{page}/mark", data=mark).status_code == 302
    huang.post(f"{page}/self")                                 # 局长 signs in late
    huang_page = _text(huang.get(page))
    assert "考勤情况报送：黄" in huang_page and 'id="counts"' in huang_page  # report_to reads
    assert 'id="counts"' not in _text(du.get(page))              # an attendee: own line only
    assert du.get(f"{page}/report.csv").status_code == 403
    # without mail: nothing is sent, the page says how to turn it on
    deng.post(f"{page}/send")
    assert "未配置邮件" in _text(deng.get(page))
    monkeypatch.setenv("CALSYNC_SMTP_URL", smtp_server.url())
    deng.post(f"{page}/send")
    (got,) = smtp_server.recorder.delivered
    director = app.extensions["calsync"].policies.organizations["jiaoyuju"].people[
        "huang_juzhang"]
    assert got.rcpt_tos == [director.email]
    msg = got.message
    assert msg.get_content_type() == "text/plain"              # plain e-mail, not iMIP
    body = msg.get_content()
    assert "会议考勤情况：全局干部职工会" in str(msg["Subject"])
    assert "出席1人，迟到1人" in body and "迟到：" in body
    from calsync.app.notices_queue import plan_notices

    store = app.extensions["calsync"].store
    (row,) = [n for n in store.notices.outbox(["jiaoyuju"]) if n.kind == "attendance"]
    assert row.status == "sent"
    planned = plan_notices(app.extensions["calsync"].policies, store, ["jiaoyuju"],
                           dt.datetime(2026, 3, 5, 16, 0, tzinfo=TZ))
    assert not [n for n in planned if n.uid == row.uid]       # never taken for an invitation
