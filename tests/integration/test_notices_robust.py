"""Mail never breaks on content (real SMTP sink, aiosmtpd; SQLite and PostgreSQL): a title with
CR/LF goes out as one clean Subject line (no injected header), and a message that cannot be
built or sent is marked failed with its reason while every other notice is sent — from the
scheduler, from 会议通知's button, and in the delivery loop itself."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from calsync.app.scheduler import Scheduler
from calsync.notices.deliver import deliver_due
from calsync.occurrence import TZ
from calsync.policy import load_policies, shipped_policies
from calsync.store import Store, open_store
from calsync.store.outbox import NewNotice
from calsync.sync.client import Target
from tests.support.servers import ServerHandle
from tests.support.smtp_fixtures import SmtpServer
from tests.support.web_fixtures import empty_home
from tests.support.webapp import login, make_app

NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)
ORG = "jiaoyuju"
TITLE = "研究学校安全工作\r\nBcc: all@jyj.example.org"
BROKEN = "song..lihua@jyj.example.org"   # passes the directory check, not RFC 5322


def _request(store: Store, title: str = TITLE) -> str:
    req = store.requests.add_request(ORG, section_id="bangongshi", category="juzhangbangong",
                                     title=title, audience=["song_fujuzhang"],
                                     start="2026-03-03T09:00:00+08:00",
                                     end="2026-03-03T10:00:00+08:00",
                                     room=None, important=False, approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    return f"request-{req.id}@jiaoyuju.calsync"


def _broken_directory(root: Path) -> Path:
    target = root / "p"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / ORG / "directory.toml"
    text = path.read_text(encoding="utf-8")
    assert 'email = "song.lihua@jyj.example.org"' in text
    path.write_text(text.replace("song.lihua@jyj.example.org", BROKEN), encoding="utf-8")
    return target


def _calendar(data: bytes) -> str:
    msg = message_from_bytes(data, policy=default)
    return next(p.get_content() for p in msg.walk() if p.get_content_type() == "text/calendar")


def test_the_scheduler_sends_a_title_with_cr_lf_as_one_clean_subject(
        radicale_server: ServerHandle, sqlite_url: str, smtp_server: SmtpServer,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CALSYNC_SMTP_URL", smtp_server.url())
    target = Target(empty_home(radicale_server), radicale_server.username,
                    radicale_server.password, 30)
    with open_store(sqlite_url) as store:
        uid = _request(store)
        scheduler = Scheduler(load_policies(), store, target, orgs=[ORG], interval=3600,
                              instance_dir=tmp_path, clock=lambda: NOW)
        with caplog.at_level(logging.INFO, logger="calsync"):
            assert scheduler.run_cycle() == {ORG: "published"}
        assert "could not send notices" not in caplog.text
        sent = store.notices.outbox([ORG], status="sent")
        assert sent and len(sent) == len(store.notices.outbox([ORG]))
        delivered = smtp_server.recorder.delivered
        assert len(delivered) == len(sent)
        ours = [d for d in delivered if f"UID:{uid}" in _calendar(d.data)]
        assert ours
        for d in ours:
            raw_headers = d.data.split(b"\r\n\r\n", 1)[0]
            assert b"\nBcc:" not in raw_headers and b"\rBcc:" not in raw_headers
            msg = message_from_bytes(d.data, policy=default)
            assert msg["Bcc"] is None
            subject = str(msg["Subject"])
            assert subject == "会议通知：研究学校安全工作 Bcc: all@jyj.example.org（局长办公会）"
            assert "all@jyj.example.org" not in d.rcpt_tos


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_are_sent(
        db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    app = make_app(db_url, tmp_path / "instance", _broken_directory(tmp_path),
                   users=("liu_zhuren",), CALSYNC_SMTP_URL=smtp_server.url())
    store = app.extensions["calsync"].store
    uid = _request(store, "研究学校安全工作")
    client = login(app, "liu_zhuren")
    r = client.post("/notices/send")
    assert r.status_code == 302
    rows = store.notices.outbox([ORG])
    failed = [n for n in rows if n.status == "failed"]
    assert [(n.uid, n.recipient) for n in failed] == [(uid, BROKEN)]
    assert "cannot build" in (failed[0].last_error or "")
    assert BROKEN in (failed[0].last_error or "")
    others = [n for n in rows if n.status != "failed"]
    assert others and all(n.status == "sent" for n in others)
    assert any(n.uid == uid for n in others)      # the meeting's other invitees got theirs
    delivered = smtp_server.recorder.delivered
    assert len(delivered) == len(others)
    assert all(BROKEN not in d.rcpt_tos for d in delivered)
    page = client.get("/notices").get_data(as_text=True)
    listed = page[page.index('id="failed"'):page.index('id="outbox"')]
    assert BROKEN in listed and "cannot build" in listed
    # the next round neither crashes nor sends it again
    assert client.post("/notices/send").status_code == 302
    assert len(smtp_server.recorder.delivered) == len(others)


def _row(uid: str, recipient: str, message: str) -> NewNotice:
    return NewNotice(ORG, uid, recipient, "", 0, "REQUEST", "invite", f"<{uid}>", "s", "s",
                     False, {}, message)


GOOD = ("From: a@jyj.example.org\r\nTo: b@jyj.example.org\r\nSubject: ok\r\n"
        "Message-ID: <x@jyj.example.org>\r\n\r\nbody\r\n")


@pytest.mark.parametrize("smtp", [True, False], ids=["smtp", "outbox-folder"])
def test_delivery_marks_a_message_it_cannot_send_failed_and_sends_the_rest(
        store: Store, smtp_server: SmtpServer, tmp_path: Path, smtp: bool) -> None:
    # a row stored by an older calsync: its text is not 7-bit, so it cannot go out as is
    store.notices.queue_notices([_row("bad@x", "b@jyj.example.org", GOOD.replace("body", "主体")),
                                 _row("good@x", "b@jyj.example.org", GOOD)], at=NOW)
    counts = deliver_due(store, smtp_server.url() if smtp else None, tmp_path / "outbox", NOW)
    by_uid = {n.uid: n for n in store.notices.outbox([ORG])}
    assert by_uid["bad@x"].status == "failed"
    assert "cannot send" in (by_uid["bad@x"].last_error or "")
    assert by_uid["good@x"].status == ("sent" if smtp else "written")
    assert counts["failed"] == 1
    if smtp:
        assert len(smtp_server.recorder.delivered) == 1
    else:
        assert [p.name for p in (tmp_path / "outbox").glob("*.eml")] == [
            Path(by_uid["good@x"].path or "").name]
