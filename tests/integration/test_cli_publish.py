"""`calsync publish / conflicts / resolve` end to end: real servers, SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit

import icalendar
import pytest

from calsync.cli import main
from calsync.occurrence import TZ
from calsync.store import open_store
from tests.support.servers import ServerHandle

HORIZON = ["--start", "2026-01-01", "--end", "2026-12-31"]
SERIES = "zhoulihui@guanliban.calsync"
# 周例会 is one resource per duty leader; March 2026 is 王立新's (wang_fuzhuren)
WEEKLY = "zhoulihui--wang_fuzhuren@guanliban.calsync"
RESOURCES = 17   # 13 series + 周例会's four duty leaders


@pytest.fixture
def home(caldav_server: ServerHandle) -> str:
    """The calendar home, emptied: the CLI creates its collections right below it."""
    status, _, body = caldav_server.request(
        "PROPFIND", caldav_server.calendar_home_url, b"", {"Depth": "1"})
    assert status == 207
    home_path = urlsplit(caldav_server.calendar_home_url).path
    for href in _hrefs(body):
        path = urlsplit(href).path
        if path.startswith(home_path) and path.rstrip("/") != home_path.rstrip("/"):
            caldav_server.request("DELETE", urljoin(caldav_server.calendar_home_url, path))
    return caldav_server.calendar_home_url


def _hrefs(body: bytes) -> list[str]:
    return [e.text or "" for e in ET.fromstring(body).iter("{DAV:}href")]


def run(capsys, server: ServerHandle, db_url: str, *args: str) -> tuple[int, str, str]:
    creds = []
    if server.username:
        creds = ["--username", server.username, "--password", server.password or ""]
    code = main([args[0], *creds_for(args[0], creds), "--database-url", db_url, *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def creds_for(command: str, creds: list[str]) -> list[str]:
    return creds if command == "publish" else []


def publish(capsys, server: ServerHandle, db_url: str, home: str, *extra: str) -> dict:
    code, out, err = run(capsys, server, db_url, "publish", "--caldav-url", home, *HORIZON,
                         "--format", "json", *extra)
    result = json.loads(out)
    result["code"], result["stderr"] = code, err
    return result


def server_event(server: ServerHandle, url: str) -> tuple[icalendar.Calendar, str]:
    status, headers, body = server.request("GET", url)
    assert status == 200, status
    return icalendar.Calendar.from_ical(body), headers.get("etag") or headers.get("ETag")


def href_of(result: dict, uid: str) -> str:
    for c in result["collections"]:
        for a in c["actions"]:
            if a["uid"] == uid and a.get("href"):
                return a["href"]
    raise AssertionError(f"{uid} not in {result}")


def app_move(server: ServerHandle, url: str, rid: dt.datetime, new: dt.datetime) -> None:
    """What a calendar app does when someone drags one occurrence: an override, If-Match."""
    cal, etag = server_event(server, url)
    master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
    override = icalendar.Event()
    for key in ("UID", "SUMMARY", "DTSTAMP", "X-CALSYNC-ORG"):
        override.add(key, master[key])
    override.add("RECURRENCE-ID", rid)
    override.add("DTSTART", new)
    override.add("DTEND", new + dt.timedelta(hours=1))
    cal.add_component(override)
    status, _, _ = server.request("PUT", url, cal.to_ical(),
                                  {"If-Match": etag, "Content-Type": "text/calendar"})
    assert status in (200, 201, 204), status


def test_publish_twice_then_nothing_to_do(capsys, caldav_server, db_url, home) -> None:
    first = publish(capsys, caldav_server, db_url, home)
    assert first["code"] == 0 and first["ok"]
    assert first["counts"] == {"create": RESOURCES}
    again = publish(capsys, caldav_server, db_url, home)
    assert again["counts"] == {"unchanged": RESOURCES}
    # One request per collection (guanliban, jiaoyuju) for a publish that changes nothing.
    assert [c["requests"] for c in again["collections"]] == [1, 1]
    cal, _ = server_event(caldav_server, urljoin(home, href_of(first, WEEKLY)))
    assert {str(e["UID"]) for e in cal.walk("VEVENT")} == {WEEKLY}


def test_dry_run_writes_nothing(capsys, caldav_server, db_url, home) -> None:
    plan = publish(capsys, caldav_server, db_url, home, "--dry-run")
    assert plan["dry_run"] and plan["counts"] == {"create": RESOURCES}
    real = publish(capsys, caldav_server, db_url, home)
    assert real["counts"] == {"create": RESOURCES}  # the dry run left the server and store alone


def test_app_edit_is_a_conflict_and_keep_server_records_a_move(
        capsys, caldav_server, db_url, home) -> None:
    first = publish(capsys, caldav_server, db_url, home)
    url = urljoin(home, href_of(first, WEEKLY))
    rid = dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ)
    new = dt.datetime(2026, 3, 10, 14, 0, tzinfo=TZ)
    app_move(caldav_server, url, rid, new)
    edited, _ = server_event(caldav_server, url)

    second = publish(capsys, caldav_server, db_url, home)
    assert second["counts"]["conflict"] == 1
    after, _ = server_event(caldav_server, url)
    assert after.to_ical() == edited.to_ical()  # left as the app wrote it
    code, out, _ = run(capsys, caldav_server, db_url, "conflicts", "--format", "json")
    conflicts = json.loads(out)
    assert code == 0 and [c["uid"] for c in conflicts] == [WEEKLY]
    waiting = publish(capsys, caldav_server, db_url, home)  # nothing to do until resolved
    assert waiting["counts"]["conflict"] == 1
    assert [c["requests"] for c in waiting["collections"]] == [1, 1]  # the copy is not re-read

    code, out, _ = run(capsys, caldav_server, db_url, "resolve", str(conflicts[0]["id"]),
                       "--keep", "server", *HORIZON)
    assert code == 0 and "1 decision(s) recorded" in out
    with open_store(db_url) as store:
        [decision] = store.decisions.active_decisions("guanliban")
    assert (decision.action, decision.source) == ("move", "calendar-app")
    assert decision.new_start == new
    assert decision.series_uid == SERIES   # the app edited a part; decisions key the series

    third = publish(capsys, caldav_server, db_url, home)
    assert third["counts"].get("conflict", 0) == 0
    cal, _ = server_event(caldav_server, url)
    starts = {e["RECURRENCE-ID"].dt: e["DTSTART"].dt for e in cal.walk("VEVENT")
              if "RECURRENCE-ID" in e}
    assert starts[rid] == new
    assert publish(capsys, caldav_server, db_url, home)["counts"] == {"unchanged": RESOURCES}


def test_keep_policy_overwrites_the_app_edit(capsys, caldav_server, db_url, home) -> None:
    first = publish(capsys, caldav_server, db_url, home)
    url = urljoin(home, href_of(first, WEEKLY))
    rid = dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ)
    app_move(caldav_server, url, rid, dt.datetime(2026, 3, 10, 14, 0, tzinfo=TZ))
    publish(capsys, caldav_server, db_url, home)
    with open_store(db_url) as store:
        [conflict] = store.conflicts.open_conflicts()
    code, _, _ = run(capsys, caldav_server, db_url, "resolve", str(conflict.id),
                     "--keep", "policy", *HORIZON)
    assert code == 0
    after = publish(capsys, caldav_server, db_url, home)
    assert after["counts"] == {"unchanged": RESOURCES - 1, "update": 1}
    cal, _ = server_event(caldav_server, url)
    starts = {e["RECURRENCE-ID"].dt: e["DTSTART"].dt for e in cal.walk("VEVENT")
              if "RECURRENCE-ID" in e}
    assert starts.get(rid, rid) == rid  # back where the policy has it


def test_app_deletion_kept_becomes_cancellation(capsys, caldav_server, db_url, home) -> None:
    first = publish(capsys, caldav_server, db_url, home)
    uid = "xitong-2026@guanliban.calsync"
    url = urljoin(home, href_of(first, uid))
    assert caldav_server.request("DELETE", url)[0] in (200, 204)
    second = publish(capsys, caldav_server, db_url, home)
    assert second["counts"]["conflict"] == 1
    with open_store(db_url) as store:
        [conflict] = store.conflicts.open_conflicts()
    assert conflict.kind == "deleted"
    code, out, _ = run(capsys, caldav_server, db_url, "resolve", str(conflict.id),
                       "--keep", "server", *HORIZON)
    assert code == 0 and "1 decision(s) recorded" in out
    publish(capsys, caldav_server, db_url, home)
    code, out, _ = run(capsys, caldav_server, db_url, "conflicts")
    assert "no open conflicts" in out
    # The meeting is now cancelled on the server, not silently re-created as if nothing happened.
    status, _, body = caldav_server.request("PROPFIND", urljoin(home, "guanliban/"), b"",
                                            {"Depth": "1"})
    assert status == 207
    found = [h for h in _hrefs(body) if "xitong-2026" in h]
    assert found
    cal, _ = server_event(caldav_server, urljoin(home, found[0]))
    assert [str(e["STATUS"]) for e in cal.walk("VEVENT")] == ["CANCELLED"]


def test_app_deletion_of_a_duty_leaders_part_cancels_only_their_weeks(
        capsys, caldav_server, db_url, home) -> None:
    first = publish(capsys, caldav_server, db_url, home)
    url = urljoin(home, href_of(first, WEEKLY))
    assert caldav_server.request("DELETE", url)[0] in (200, 204)
    assert publish(capsys, caldav_server, db_url, home)["counts"]["conflict"] == 1
    with open_store(db_url) as store:
        [conflict] = store.conflicts.open_conflicts()
    assert conflict.uid == WEEKLY
    code, out, _ = run(capsys, caldav_server, db_url, "resolve", str(conflict.id),
                       "--keep", "server", *HORIZON)
    assert code == 0
    with open_store(db_url) as store:
        cancelled = store.decisions.active_decisions("guanliban")
    assert cancelled and {d.series_uid for d in cancelled} == {SERIES}
    assert {d.action for d in cancelled} == {"cancel"}
    # 王立新's weeks (March, June, October 2026) and nobody else's
    months = {d.recurrence_id.month for d in cancelled}
    assert months == {3, 6, 10}
    assert f"{len(cancelled)} decision(s) recorded" in out


def test_foreign_events_are_never_touched(capsys, caldav_server, db_url, home) -> None:
    publish(capsys, caldav_server, db_url, home)
    foreign_url = urljoin(home, "guanliban/someone-elses.ics")
    body = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//app//x//EN\r\nBEGIN:VEVENT\r\n"
            b"UID:foreign-1@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
            b"DTSTART:20260309T013000Z\r\nDTEND:20260309T023000Z\r\nSUMMARY:lunch\r\n"
            b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert caldav_server.request("PUT", foreign_url, body,
                                 {"Content-Type": "text/calendar"})[0] in (201, 204)
    before = caldav_server.request("GET", foreign_url)
    result = publish(capsys, caldav_server, db_url, home, "--force")
    assert result["collections"][0]["counts"]["foreign"] == 1
    assert caldav_server.request("GET", foreign_url)[2] == before[2]


def test_safety_valve_stops_a_vanished_calendar(capsys, caldav_server, db_url, home) -> None:
    publish(capsys, caldav_server, db_url, home)
    assert caldav_server.request("DELETE", urljoin(home, "guanliban/"))[0] in (200, 204)
    stopped = publish(capsys, caldav_server, db_url, home)
    assert stopped["code"] == 3 and "--force" in stopped["stderr"]
    # Nothing was recreated (Xandikos answers a PROPFIND of a missing collection with a 207
    # holding a 404, so look at the home's members instead).
    status, _, body = caldav_server.request("PROPFIND", home, b"", {"Depth": "1"})
    assert status == 207
    assert not [h for h in _hrefs(body) if urlsplit(h).path.rstrip("/").endswith("/guanliban")]


def test_per_person_layout(capsys, caldav_server, db_url, home) -> None:
    result = publish(capsys, caldav_server, db_url, home, "--layout", "per-person",
                     "--org", "guanliban")
    assert result["code"] == 0
    by_url = {c["url"]: c["counts"].get("create", 0) for c in result["collections"]}
    # 主任 张建国: 周例会, 主任办公会, 秘书科's 科务会 ×2 (分管), combined year-end, June
    director = next(n for u, n in by_url.items() if u.endswith("guanliban-zhang_zhuren/"))
    staff = next(n for u, n in by_url.items() if u.endswith("guanliban-sun_keyuan/"))
    # 周例会 (four objects, one per duty leader) and his section's two 科务会 series
    assert staff == 4 + 2
    assert director == 4 + 5
    assert len(by_url) == 14   # one collection per member of staff


def test_without_a_server_the_message_names_the_fix(capsys, db_url) -> None:
    code = main(["publish", "--database-url", db_url])
    err = capsys.readouterr().err
    assert code == 2 and "--caldav-url" in err and "CALSYNC_CALDAV_URL" in err


def test_wrong_password_is_reported_without_it(capsys, radicale_server, db_url) -> None:
    secret = "s3cret-Not-Printed"
    code = main(["publish", "--caldav-url", radicale_server.calendar_home_url,
                 "--username", radicale_server.username, "--password", secret,
                 "--database-url", db_url, *HORIZON])
    out, err = capsys.readouterr()
    assert code != 0
    assert secret not in out + err
    assert "401" in err or "password" in err.lower()


def test_a_fresh_store_adopts_everything_it_would_write(capsys, caldav_server, tmp_path,
                                                        home) -> None:
    """A second instance (or a lost store) finds the collection already as the policy says:
    every resource is adopted, none is a conflict. The year-end meeting merges two types
    (X-CALSYNC-MEETING-TYPES); written with a comma, Radicale kept only the first."""
    ref = publish(capsys, caldav_server, f"sqlite:///{tmp_path}/a.sqlite3", home,
                  "--start", "2026-01-01", "--end", "2027-12-31")
    assert ref["code"] == 0 and ref["counts"]["create"] > RESOURCES
    fresh = publish(capsys, caldav_server, f"sqlite:///{tmp_path}/b.sqlite3", home,
                    "--start", "2026-01-01", "--end", "2027-12-31")
    assert fresh["code"] == 0, fresh["stderr"]
    assert fresh["counts"] == {"adopt": ref["counts"]["create"]}, fresh["stderr"]
