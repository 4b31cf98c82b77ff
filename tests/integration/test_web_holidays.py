"""节假日 page: a secretary pastes a notice, sees the meetings that move, applies it; the table
lands in ``<instance>/holidays/`` and the calendar (and every later start) uses it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.cli import main
from calsync.policy import shipped_policies
from tests.support.holiday_notices import NOTICE_2027
from tests.support.webapp import login, make_app

USERS = ("zhou_mishukezhang", "qian_keyuan")


@pytest.fixture
def policies_dir(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py",
                                                                            "__pycache__"))
    return root


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    yield app
    app.extensions["calsync"].close()


def test_only_secretaries_see_the_page(app: Flask) -> None:
    assert login(app, "qian_keyuan").get("/holidays").status_code == 403
    page = login(app, "zhou_mishukezhang").get("/holidays").data.decode()
    assert "2027年：<span class=\"tag pending\">暂定</span>" in page
    assert "2026年：制度自带节假日表" in page


def test_a_text_that_is_not_a_notice_is_refused(app: Flask, tmp_path: Path) -> None:
    sec = login(app, "zhou_mishukezhang")
    r = sec.post("/holidays", data={"text": "关于召开2027年工作会议的通知", "preview": "1"})
    assert r.status_code == 400
    assert "not a holiday notice" in r.data.decode()
    edited = NOTICE_2027.replace("（周三）放假1天", "（周四）放假1天", 1)
    r = sec.post("/holidays", data={"text": edited, "apply": "1"})
    assert r.status_code == 400 and "not 周四" in r.data.decode()
    assert not (tmp_path / "inst" / "holidays").exists()


def test_preview_lists_the_moves_then_apply_writes_and_is_used(app: Flask, db_url: str,
                                                               tmp_path: Path,
                                                               policies_dir: Path) -> None:
    sec = login(app, "zhou_mishukezhang")
    week = sec.get("/meetings?week=2027-W06").data.decode()
    assert ">暂定</span>" in week
    meeting = "/meetings/zhoulihui@guanliban.calsync/2027-05-03T09:30:00+08:00"
    page = sec.get(meeting).data.decode()
    assert ">暂定</span></h1>" in page and "日期待国务院放假通知确定" in page
    r = sec.post("/holidays", data={"text": NOTICE_2027, "preview": "1"})
    page = r.data.decode()
    assert r.status_code == 200
    assert "国务院办公厅关于2027年部分节假日安排的通知" in page
    assert "放假 29 天，调休上班 6 天；20 项会议或截止时间将变动" in page
    # The Friday 科务会 of 02-12 is not held (the whole week is off); 05-03's 周例会 moves on.
    assert "科务会（秘书科）</td>\n        <td>2027-02-12" in page
    assert "不再举行" in page
    assert "周例会</td>\n        <td>2027-05-03" in page
    assert not (tmp_path / "inst" / "holidays").exists()  # a preview writes nothing

    r = sec.post("/holidays", data={"text": NOTICE_2027, "apply": "1"})
    assert r.status_code == 302
    table = tmp_path / "inst" / "holidays" / "2027.toml"
    assert table.is_file() and "2027-02-13" in table.read_text(encoding="utf-8")
    cal = app.extensions["calsync"].policies.calendar
    assert not cal.is_law_only(2027) and not cal.is_working_day(dt.date(2027, 2, 12))
    page = sec.get("/holidays").data.decode()
    assert "已应用2027年节假日安排" in page and "2027年：已导入国务院放假通知" in page
    week = sec.get("/meetings?week=2027-W18").data.decode()
    assert ">暂定</span>" not in week
    assert ">暂定</span></h1>" not in sec.get(meeting).data.decode()
    audit = app.extensions["calsync"].store.audit.audit_log(target="holidays:2027")
    assert [a.action for a in audit] == ["holidays.apply"]
    # A restart reads the applied table from the instance folder.
    again = make_app(db_url, tmp_path / "inst", policies_dir)
    try:
        assert not again.extensions["calsync"].policies.calendar.is_law_only(2027)
    finally:
        again.extensions["calsync"].close()


def _published(url: str, user: str, password: str) -> str:
    """Every resource of the collection, straight from the server, as one text."""
    import caldav

    client = caldav.DAVClient(url=url, username=user, password=password)
    return "\n".join(ev.data for ev in client.calendar(url=url).events())


def _held_on(published: str, day: dt.date) -> list[str]:
    """Summaries of the instances on ``day``, expanded by recurring-ical-events."""
    import icalendar
    import recurring_ical_events

    out = []
    for part in published.split("END:VCALENDAR")[:-1]:
        cal = icalendar.Calendar.from_ical(part + "END:VCALENDAR\n")
        out += [str(e["SUMMARY"]) for e in recurring_ical_events.of(cal).at(day)]
    return sorted(out)


def test_apply_reaches_the_calendar_server(db_url: str, tmp_path: Path, policies_dir: Path,
                                           radicale_server, capsys) -> None:
    from urllib.parse import urljoin, urlsplit

    from calsync.app.scheduler import EXTENSION, Scheduler
    from calsync.occurrence import TZ
    from calsync.sync.client import Target

    server = radicale_server
    _, _, body = server.request("PROPFIND", server.calendar_home_url, b"", {"Depth": "1"})
    home_path = urlsplit(server.calendar_home_url).path
    for href in (e.text or "" for e in ET.fromstring(body).iter("{DAV:}href")):
        if urlsplit(href).path.rstrip("/") != home_path.rstrip("/"):
            server.request("DELETE", urljoin(server.calendar_home_url, urlsplit(href).path))
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    core = app.extensions["calsync"]
    try:
        scheduler = Scheduler(core.policies, core.store,
                              Target(server.calendar_home_url, server.username, server.password),
                              orgs=["guanliban"],
                              clock=lambda: dt.datetime(2026, 3, 1, 8, 0, tzinfo=TZ))
        app.extensions[EXTENSION] = scheduler  # not started: the test runs its cycles
        assert scheduler.run_cycle() == {"guanliban": "published"}
        url = f"{server.calendar_home_url}guanliban/"
        before = _published(url, server.username or "", server.password or "")
        assert "STATUS:TENTATIVE" in before
        assert "科务会（秘书科）" in _held_on(before, dt.date(2027, 2, 12))
        sec = login(app, "zhou_mishukezhang")
        assert sec.post("/holidays", data={"text": NOTICE_2027, "apply": "1"}).status_code == 302
        assert scheduler._wake.is_set()  # poked: publishes now, not at the next interval
        assert scheduler.run_cycle() == {"guanliban": "published"}
        after = _published(url, server.username or "", server.password or "")
        # 2027 has its notice: only its last days (waiting for 2028's) stay tentative; the
        # Fridays of 02-12 are gone.
        assert 0 < after.count("STATUS:TENTATIVE") < before.count("STATUS:TENTATIVE") // 4
        assert _held_on(after, dt.date(2027, 2, 12)) == []
        # `calsync publish` on the same instance reads the applied table too: nothing to redo.
        code = main(["publish", "--org", "guanliban", "--dry-run", "--format", "json",
                     "--database-url", db_url, "--instance", str(tmp_path / "inst"),
                     "--caldav-url", server.calendar_home_url,
                     "--username", server.username or "", "--password", server.password or "",
                     "--start", "2026-01-01", "--end", "2027-12-31"])
        assert code == 0
        plan = json.loads(capsys.readouterr().out)
        assert set(plan["counts"]) == {"unchanged"}, plan["counts"]
    finally:
        core.close()
