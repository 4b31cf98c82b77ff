"""会议通知 page and the REPLY endpoint, on a real store (SQLite and PostgreSQL) and a real
SMTP server: the outbox is listed to secretaries only, 5xx failures are shown with the
server's answer, no SMTP URL means .eml files, and replies update PARTSTAT on the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

from flask import Flask

from calsync.occurrence import TZ
from tests.support.notice_replies import CHAIR, SECRETARY, STAFF, ZRB, reply_ics
from tests.support.smtp_fixtures import SmtpServer
from tests.support.webapp import login, make_app


def app_with(db_url: str, tmp_path: Path, **extra: object) -> Flask:
    return make_app(db_url, tmp_path / "instance", users=(SECRETARY, STAFF), **extra)


def test_send_without_smtp_writes_eml_files_and_lists_them(db_url: str,
                                                           tmp_path: Path) -> None:
    app = app_with(db_url, tmp_path)
    client = login(app, SECRETARY)
    page = client.get("/notices").get_data(as_text=True)
    assert 'id="no-smtp"' in page and "没有通知" in page
    r = client.post("/notices/send", follow_redirects=True)
    page = r.get_data(as_text=True)
    files = sorted((tmp_path / "instance" / "outbox").glob("*.eml"))
    assert r.status_code == 200 and files
    assert f"新增通知{len(files)}封；已写入文件夹{len(files)}封" in page
    assert page.count('data-status="written"') == len(files)
    assert str(files[0]) in page
    assert login(app, STAFF).get("/notices").status_code == 403


def test_a_5xx_is_shown_to_the_secretary(db_url: str, tmp_path: Path,
                                         smtp_server: SmtpServer) -> None:
    smtp_server.recorder.refuse["li.hongmei@glb.example.org"] = "550 5.1.1 mailbox unavailable"
    app = app_with(db_url, tmp_path, CALSYNC_SMTP_URL=smtp_server.url())
    client = login(app, SECRETARY)
    client.post("/notices/send")
    page = client.get("/notices").get_data(as_text=True)
    failed = page[page.index('id="failed"'):page.index('id="outbox"')]
    assert "li.hongmei@glb.example.org" in failed and "550 5.1.1 mailbox unavailable" in failed
    assert "CALSYNC_SMTP_URL" not in page and f"smtp://127.0.0.1:{smtp_server.port}" in page
    assert page.count('data-status="sent"') == len(smtp_server.recorder.delivered) > 0


def test_a_reply_updates_partstat_on_the_page(db_url: str, tmp_path: Path) -> None:
    app = app_with(db_url, tmp_path)
    client = login(app, SECRETARY)
    client.post("/notices/send")
    when = dt.datetime(2026, 3, 4, 9, tzinfo=TZ)
    r = client.post("/imip/reply", data=reply_ics(ZRB, CHAIR, "DECLINED", when),
                    content_type="text/calendar")
    assert r.status_code == 200 and r.get_json()["recorded"] == [
        f"{CHAIR} DECLINED {ZRB} {when.isoformat()}"]
    r = client.post("/imip/reply", data={"ics": reply_ics(ZRB, CHAIR, "ACCEPTED").decode()},
                    follow_redirects=True)
    assert "已记录1条回复" in r.get_data(as_text=True)
    replies = {(a.recipient, a.recurrence_id): a.partstat
               for a in app.extensions["calsync"].store.notices.notice_replies(["guanliban"])}
    assert replies == {(CHAIR, when.isoformat()): "DECLINED", (CHAIR, ""): "ACCEPTED"}
    page = client.get("/notices").get_data(as_text=True)
    listed = page[page.index('id="replies"'):]
    assert "<strong>接受</strong>" in listed and "<strong>拒绝</strong>" in listed
    assert "主任办公会（2026-03-04 09:00）" in listed
    # the meeting page shows the answer beside the attendee: per occurrence, else the series'
    for day, answer in (("2026-03-04", "拒绝"), ("2026-03-18", "接受")):
        page = client.get(f"/meetings/{ZRB}/{quote(day + 'T09:00:00+08:00')}")
        item = page.get_data(as_text=True).split("张建国 <small>")[1].split("</li>")[0]
        assert f"邮件回复：{answer}" in item


def test_replies_from_people_never_notified_change_nothing(db_url: str,
                                                           tmp_path: Path) -> None:
    app = app_with(db_url, tmp_path)
    client = login(app, SECRETARY)
    client.post("/notices/send")
    for body in (reply_ics(ZRB, "stranger@example.org", "ACCEPTED"),
                 reply_ics("nope@guanliban.calsync", CHAIR, "ACCEPTED"),
                 b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"):
        r = client.post("/imip/reply", data=body, content_type="text/calendar")
        assert r.status_code == 400 and r.get_json()["error"]
    assert app.extensions["calsync"].store.notices.notice_replies() == []
    assert login(app, STAFF).post("/imip/reply", data=reply_ics(ZRB, CHAIR, "ACCEPTED"),
                                  content_type="text/calendar").status_code == 403


def test_the_reply_endpoint_needs_the_csrf_token(db_url: str, tmp_path: Path) -> None:
    app = app_with(db_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": SECRETARY, "password": "secret-pw-1",
                                    "csrf_token": token})
    assert r.status_code == 302
    body = reply_ics(ZRB, CHAIR, "ACCEPTED")
    assert client.post("/imip/reply", data=body,
                       content_type="text/calendar").status_code == 400
    r = client.post("/imip/reply", data=body, content_type="text/calendar",
                    headers={"X-CSRFToken": token})
    assert r.status_code == 400 and "never sent" in r.get_json()["error"]
