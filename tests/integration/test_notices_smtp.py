"""Notices through a real SMTP server (aiosmtpd on loopback) and the outbox, on SQLite and
PostgreSQL: the MIME structure read back by icalendar and by the independent `ical`, update
and cancel sequences, SMTP faults (451, a dropped connection, a timeout) → exactly one
delivery per notice version, 550 → failed and listed, confidential meetings, .eml files."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from urllib.parse import quote

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream

from calsync.app.notices_queue import queue
from calsync.app.service import generation
from calsync.cli import main as cli_main
from calsync.notices.deliver import deliver_due
from calsync.occurrence import TZ
from calsync.policy import PolicySet, load_policies
from calsync.store import Store
from tests.support.servers import free_port
from tests.support.smtp_fixtures import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.support.webapp import confidential_policies

NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)
ORG = ["guanliban"]
ZRB = "zhurenbangong@guanliban.calsync"
MAR4 = dt.datetime(2026, 3, 4, 9, tzinfo=TZ)
CHAIR = "zhang.jianguo@glb.example.org"      # 张建国, 主任


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return load_policies()


def round_trip(policies: PolicySet, store: Store, server: SmtpServer, tmp: Path,
               now: dt.datetime = NOW, timeout: float = 1.0):
    queued = queue(policies, store, ORG, now)
    return queued, deliver_due(store, server.url(timeout), tmp / "outbox", now)


def rows_of(store: Store, rcpt: str, uid: str):
    return [r for r in store.notices.outbox(ORG) if r.recipient == rcpt and r.uid == uid]


def parts(msg: Message) -> dict[str, Message]:
    return {p.get_content_type(): p for p in msg.iter_parts()}


def ics_of(msg: Message) -> bytes:
    return parts(msg)["text/calendar"].get_content().encode("utf-8")


def decoded(msg: Message) -> str:
    """Subject and both parts, decoded and unfolded."""
    text = str(msg["Subject"]) + "".join(p.get_content() for p in msg.iter_parts())
    return text.replace("\r\n ", "").replace("\n ", "")


def reveals_zrb(msg: Message) -> bool:
    """Anything naming the confidential 主任办公会 itself (its generic name also appears in
    other meetings' agendas, e.g. 周例会 "通报…主任办公会作出的重大决定"): its UID, its own
    agenda line, its title as a subject or summary."""
    text = decoded(msg)
    return any(m in text for m in (ZRB, "需要提交主任办公会议讨论的其他重要事项",
                                    "会议名称：主任办公会", "SUMMARY:主任办公会"))


def mail_to(server: SmtpServer, rcpt: str, uid: str) -> list[Message]:
    return [d.message for d in server.recorder.delivered
            if d.rcpt_tos == [rcpt] and uid in decoded(d.message)]


def test_invitation_mime_and_calendar_read_by_two_engines(
        policies: PolicySet, store: Store, smtp_server: SmtpServer, tmp_path: Path) -> None:
    queued, counts = round_trip(policies, store, smtp_server, tmp_path)
    assert queued == len(smtp_server.recorder.delivered) == counts["sent"] > 50
    rows = {r.message_id: r for r in store.notices.outbox(ORG)}
    assert {str(d.message["Message-ID"]) for d in smtp_server.recorder.delivered} == set(rows)
    assert all(r.status == "sent" for r in rows.values())

    [msg] = mail_to(smtp_server, CHAIR, ZRB)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/calendar"]
    cal_part = parts(msg)["text/calendar"]
    assert cal_part.get_param("method") == "REQUEST" and cal_part.get_param("charset") == "utf-8"
    assert parts(msg)["text/plain"].get_param("charset") == "utf-8"
    assert str(msg["From"]) == "秘书科 <mishuke@glb.example.org>"
    assert str(msg["To"]) == f"张建国 <{CHAIR}>" and str(msg["Subject"]) == "会议通知：主任办公会"
    assert msg["Content-Class"] == "urn:content-classes:calendarmessage"   # Outlook
    assert msg["Message-ID"] == rows_of(store, CHAIR, ZRB)[0].message_id
    text = parts(msg)["text/plain"].get_content()
    for label in ("会议名称：主任办公会", "时间：自2026年3月4日（星期三） 09:00起，每两周三",
                  "地点：", "主持：张建国"):
        assert label in text

    data = ics_of(msg)
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "REQUEST"
    events = cal.walk("VEVENT")
    assert {str(e["UID"]) for e in events} == {ZRB} and "RRULE" in events[0]
    assert all(int(e["SEQUENCE"]) == 0 for e in events)
    assert str(events[0]["ORGANIZER"]) == "mailto:mishuke@glb.example.org"
    mine = [a for a in events[0]["ATTENDEE"] if str(a) == f"mailto:{CHAIR}"]
    assert len(mine) == 1 and mine[0].params["RSVP"] == "TRUE"

    expected = {o.start for o in generation(policies, store, dt.date(2026, 1, 1),
                                            dt.date(2027, 12, 31), ORG).occurrences()
                if o.uid == ZRB and o.status != "CANCELLED"}
    by_rie = {e["DTSTART"].dt.astimezone(TZ) for e in recurring_ical_events.of(cal).between(
        dt.datetime(2026, 1, 1, tzinfo=TZ), dt.datetime(2028, 1, 1, tzinfo=TZ))}
    by_ical = {e.dtstart.astimezone(TZ) for e in IcsCalendarStream.calendar_from_ics(
        data.decode()).timeline_tz(TZ)}
    assert by_rie == by_ical == expected and len(expected) > 40


def test_update_and_cancel_keep_the_uid_and_raise_the_sequence(
        policies: PolicySet, store: Store, smtp_server: SmtpServer, tmp_path: Path) -> None:
    round_trip(policies, store, smtp_server, tmp_path)
    first = len(smtp_server.recorder.delivered)
    moved = MAR4 + dt.timedelta(days=1)
    store.decisions.add_decision("guanliban", ZRB, MAR4, "move", actor="t",
                                 source="cli",
                                 new_start=moved,
                                 new_end=moved + dt.timedelta(hours=2))
    queued, counts = round_trip(policies, store, smtp_server, tmp_path)
    updates = smtp_server.recorder.delivered[first:]
    invitees = {r.recipient for r in store.notices.outbox(ORG) if r.uid == ZRB and r.sequence == 0}
    assert queued == counts["sent"] == len(updates) == len(invitees)
    assert {d.rcpt_tos[0] for d in updates} == invitees
    for d in updates:
        cal = icalendar.Calendar.from_ical(ics_of(d.message))
        assert str(cal["METHOD"]) == "REQUEST"
        assert {(str(e["UID"]), int(e["SEQUENCE"])) for e in cal.walk("VEVENT")} == {(ZRB, 1)}
        assert str(d.message["Subject"]) == "会议变更：主任办公会"
        starts = {e.dtstart.astimezone(TZ) for e in IcsCalendarStream.calendar_from_ics(
            ics_of(d.message).decode()).timeline_tz(TZ)}
        assert moved in starts and MAR4 not in starts

    later = MAR4 + dt.timedelta(weeks=2)
    store.decisions.add_decision("guanliban", ZRB, later, "cancel", actor="t",
                                 source="cli")
    round_trip(policies, store, smtp_server, tmp_path)
    cancels = smtp_server.recorder.delivered[first + len(updates):]
    assert {d.rcpt_tos[0] for d in cancels} == invitees
    for d in cancels:
        assert parts(d.message)["text/calendar"].get_param("method") == "CANCEL"
        cal = icalendar.Calendar.from_ical(ics_of(d.message))
        assert str(cal["METHOD"]) == "CANCEL"
        [ev] = cal.walk("VEVENT")
        assert (str(ev["UID"]), int(ev["SEQUENCE"]), str(ev["STATUS"])) == (ZRB, 2, "CANCELLED")
        assert ev["RECURRENCE-ID"].dt == later
        [other] = IcsCalendarStream.calendar_from_ics(ics_of(d.message).decode()).events
        assert (other.uid, other.sequence, other.recurrence_id) == (
            ZRB, 2, later.strftime("%Y%m%dT%H%M%S"))
        assert "以下会议已取消" in parts(d.message)["text/plain"].get_content()
    # message ids: one per (uid, sequence, recipient), never reused
    ids = [str(d.message["Message-ID"]) for d in smtp_server.recorder.delivered]
    assert len(ids) == len(set(ids))


def test_faults_retry_until_each_version_is_delivered_exactly_once(
        policies: PolicySet, store: Store, smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.recorder.faults = ["451", "drop", "stall", "ok", "451"]
    queued, counts = round_trip(policies, store, smtp_server, tmp_path, timeout=0.5)
    assert counts["retry"] == 4 and counts["sent"] == queued - 4
    retrying = store.notices.outbox(ORG, status="queued")
    assert len(retrying) == 4 and all(r.last_error for r in retrying)
    assert any("timed out" in (r.last_error or "") for r in retrying)
    assert any("451" in (r.last_error or "") for r in retrying)
    # not due yet: the backoff holds them
    assert deliver_due(store, smtp_server.url(0.5), tmp_path, NOW + dt.timedelta(seconds=30)
                       ) == {}
    at = NOW
    for _ in range(5):
        at += dt.timedelta(hours=2)
        deliver_due(store, smtp_server.url(0.5), tmp_path, at)
    per_id = smtp_server.recorder.by_message_id()
    rows = store.notices.outbox(ORG)
    assert set(per_id) == {r.message_id for r in rows}
    assert all(len(copies) == 1 for copies in per_id.values())
    assert all(r.status == "sent" for r in rows)
    assert sorted(r.attempts for r in rows if r.attempts > 1) == [2, 2, 2, 2]


def test_a_5xx_is_failed_at_once_and_listed(
        policies: PolicySet, store: Store, smtp_server: SmtpServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    gone = "li.hongmei@glb.example.org"
    smtp_server.recorder.refuse[gone] = "550 5.1.1 mailbox unavailable"
    queued, counts = round_trip(policies, store, smtp_server, tmp_path)
    failed = store.notices.outbox(ORG, status="failed")
    assert failed and {r.recipient for r in failed} == {gone}
    assert all(r.last_error == "550 5.1.1 mailbox unavailable" and r.attempts == 1
               for r in failed)
    assert counts["failed"] == len(failed) and counts["sent"] == queued - len(failed)
    assert gone not in {d.rcpt_tos[0] for d in smtp_server.recorder.delivered}
    assert deliver_due(store, smtp_server.url(), tmp_path, NOW + dt.timedelta(days=1)) == {}
    capsys.readouterr()
    assert cli_main(["notices", "list", "--database-url", store.engine.url.render_as_string(
        hide_password=False), "--status", "failed"]) == 0
    out = capsys.readouterr().out
    assert out.count(gone) == len(failed) and "550 5.1.1 mailbox unavailable" in out


def test_a_crash_after_claiming_is_sent_again_only_after_the_lease(
        policies: PolicySet, store: Store, smtp_server: SmtpServer, tmp_path: Path) -> None:
    queued = queue(policies, store, ORG, NOW)
    first = store.notices.claim_due(NOW, limit=5)
    # a second sender at the same moment takes other rows, never these
    second = store.notices.claim_due(NOW, limit=5)
    assert len(first) == len(second) == 5
    assert not {r.id for r in first} & {r.id for r in second}
    # both senders "crash" here: their rows stay `sending`, and within the lease nobody
    # sends them (the one that claimed them may still be talking to the server)
    counts = deliver_due(store, smtp_server.url(), tmp_path, NOW + dt.timedelta(minutes=1))
    assert counts == {"sent": queued - 10}
    held = {r.id for r in store.notices.outbox(ORG, status="sending")}
    assert held == {r.id for r in first + second}
    deliver_due(store, smtp_server.url(), tmp_path, NOW + dt.timedelta(minutes=11))
    per_id = smtp_server.recorder.by_message_id()
    assert len(per_id) == queued and all(len(v) == 1 for v in per_id.values())
    assert all(r.status == "sent" for r in store.notices.outbox(ORG))


def test_confidential_meetings_go_only_to_invitees(
        store: Store, smtp_server: SmtpServer, tmp_path: Path) -> None:
    policies = load_policies(confidential_policies(tmp_path))
    round_trip(policies, store, smtp_server, tmp_path)
    invitees = {a.email.lower() for o in generation(policies, None, dt.date(2026, 3, 1),
                                                    dt.date(2026, 3, 31), ORG).occurrences()
                if o.uid == ZRB for a in o.attendees}
    revealing = {d.rcpt_tos[0] for d in smtp_server.recorder.delivered
                 if reveals_zrb(d.message)}
    assert revealing == invitees
    for d in smtp_server.recorder.delivered:
        if reveals_zrb(d.message):
            cal = icalendar.Calendar.from_ical(ics_of(d.message))
            assert {str(e["CLASS"]) for e in cal.walk("VEVENT")} == {"CONFIDENTIAL"}
            assert {str(e["UID"]) for e in cal.walk("VEVENT")} == {ZRB}
    assert len(smtp_server.recorder.delivered) > len(invitees)


def test_without_an_smtp_url_notices_are_written_to_the_outbox_folder(
        policies: PolicySet, store: Store, tmp_path: Path) -> None:
    queued = queue(policies, store, ORG, NOW)
    folder = tmp_path / "outbox"
    counts = deliver_due(store, None, folder, NOW)
    rows = store.notices.outbox(ORG)
    assert counts == {"written": queued} and all(r.status == "written" for r in rows)
    files = sorted(folder.glob("*.eml"))
    assert len(files) == queued and {Path(r.path or "") for r in rows} == set(files)
    msg = message_from_bytes(files[0].read_bytes(), policy=default)
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/calendar"]
    assert {str(msg["Message-ID"])} <= {r.message_id for r in rows}
    assert deliver_due(store, None, folder, NOW + dt.timedelta(days=1)) == {}
    assert len(list(folder.glob("*.eml"))) == queued


def test_cli_send_uses_the_smtp_url_from_the_environment(
        store: Store, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CALSYNC_SMTP_URL", smtp_server.url())
    url = store.engine.url.render_as_string(hide_password=False)
    capsys.readouterr()
    assert cli_main(["notices", "send", "--org", "guanliban", "--database-url", url]) == 0
    out = capsys.readouterr().out
    sent = len(smtp_server.recorder.delivered)
    assert sent > 0 and f"queued {sent}; sent {sent} (smtp://127.0.0.1:" in out
    assert cli_main(["notices", "send", "--org", "guanliban", "--database-url", url]) == 0
    assert "queued 0; nothing due" in capsys.readouterr().out
    assert len(smtp_server.recorder.delivered) == sent


# aiosmtpd warns that AUTH without TLS is unsafe: this is loopback, on purpose.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_a_percent_encoded_password_and_a_wrong_one(
        policies: PolicySet, store: Store, smtp_auth_server: SmtpServer, tmp_path: Path) -> None:
    port = smtp_auth_server.port
    queued = queue(policies, store, ORG, NOW)
    wrong = f"smtp://{quote(SMTP_USER, safe='')}:nope@127.0.0.1:{port}?timeout=2"
    counts = deliver_due(store, wrong, tmp_path, NOW)
    assert counts == {"retry": queued} and not smtp_auth_server.recorder.delivered
    rows = store.notices.outbox(ORG)
    assert all(r.status == "queued" and "535" in (r.last_error or "") for r in rows)
    assert all("nope" not in (r.last_error or "") for r in rows)   # no password in errors
    right = (f"smtp://{quote(SMTP_USER, safe='')}:{quote(SMTP_PASSWORD, safe='')}"
             f"@127.0.0.1:{port}?timeout=2")
    counts = deliver_due(store, right, tmp_path, NOW + dt.timedelta(hours=1))
    assert counts == {"sent": queued} == {"sent": len(smtp_auth_server.recorder.delivered)}


def test_an_unreachable_server_keeps_everything_queued(
        policies: PolicySet, store: Store, tmp_path: Path) -> None:
    queued = queue(policies, store, ORG, NOW)
    counts = deliver_due(store, f"smtp://127.0.0.1:{free_port()}?timeout=0.5", tmp_path, NOW)
    assert counts == {"retry": queued}
    assert {r.status for r in store.notices.outbox(ORG)} == {"queued"}
    assert not list(tmp_path.glob("**/*.eml"))


def test_two_planners_queue_each_version_once(policies: PolicySet, store: Store) -> None:
    from calsync.app.notices_queue import new_notice, plan_notices

    mine = plan_notices(policies, store, ORG, NOW)
    theirs = plan_notices(policies, store, ORG, NOW + dt.timedelta(seconds=1))
    assert [(n.uid, n.recipient, n.sequence) for n in mine] == [
        (n.uid, n.recipient, n.sequence) for n in theirs]
    assert store.notices.queue_notices([new_notice(policies, n, NOW) for n in mine]) == len(mine)
    later = NOW + dt.timedelta(seconds=1)
    assert store.notices.queue_notices([new_notice(policies, n, later) for n in theirs]) == 0
    assert len(store.notices.outbox(ORG)) == len(mine)
