"""Foreign and watched events reach the clash check: publish keeps them (reading only what
changed, so a no-op stays one request), `calsync clashes` and the page see them."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urljoin

from calsync.app.service import clash_view
from calsync.cli import main
from calsync.meetings.clashes import busy_from_ics
from calsync.policy import load_policies
from calsync.store import open_store
from tests.integration.test_cli_publish import home, publish  # noqa: F401  (home is a fixture)
from tests.support.servers import ServerHandle

QIAN = "qian.li@glb.example.org"   # staff of 管理办, due at 周例会 (all staff)
WEEK = (dt.date(2026, 3, 2), dt.date(2026, 3, 8))


def event(uid: str, start: str, end: str, summary: str = "市里的会", attendee: str = QIAN,
          status: str = "CONFIRMED") -> bytes:
    return (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//app//x//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
            f"SUMMARY:{summary}\r\nSTATUS:{status}\r\nATTENDEE;CN=钱丽:mailto:{attendee}\r\n"
            f"END:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def put(server: ServerHandle, url: str, body: bytes) -> None:
    status = server.request("PUT", url, body, {"Content-Type": "text/calendar"})[0]
    assert status in (201, 204), status


def foreign_clashes(db_url: str) -> list:
    with open_store(db_url) as store:
        clashes, _ = clash_view(load_policies(), store, *WEEK, ["guanliban"])
    return [c for c in clashes if any(i.foreign_uid for i in c.items)]


def test_foreign_event_in_the_collection_is_a_clash(capsys, caldav_server, db_url,
                                                    home) -> None:  # noqa: F811
    publish(capsys, caldav_server, db_url, home)
    url = urljoin(home, "guanliban/city-meeting.ics")
    # 2026-03-02 09:00–10:00 +08:00: overlaps 周例会 09:30, where 钱丽 is due
    put(caldav_server, url, event("city-1@example.org", "20260302T010000Z", "20260302T020000Z"))
    result = publish(capsys, caldav_server, db_url, home)
    gl = next(c for c in result["collections"] if c["url"].rstrip("/").endswith("guanliban"))
    assert gl["requests"] == 2          # the listing, and one multiget for the new object
    (clash,) = foreign_clashes(db_url)
    assert clash.kind == "person" and clash.subject == QIAN
    assert {i.summary for i in clash.items} == {"市里的会", "周例会"}
    again = publish(capsys, caldav_server, db_url, home)
    assert [c["requests"] for c in again["collections"]] == [1, 1]   # no-op: nothing re-read
    # the CLI sees it too
    capsys.readouterr()
    assert main(["clashes", "--start", "2026-03-02", "--end", "2026-03-08", "--format",
                 "json", "--database-url", db_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(i["foreign_uid"] == "city-1@example.org" for r in rows for i in r["items"])
    # moved away in the other app: re-read, no clash any more; deleted: forgotten
    put(caldav_server, url, event("city-1@example.org", "20260302T070000Z", "20260302T080000Z"))
    publish(capsys, caldav_server, db_url, home)
    assert foreign_clashes(db_url) == []
    caldav_server.request("DELETE", url)
    publish(capsys, caldav_server, db_url, home)
    with open_store(db_url) as store:
        assert store.busy.busy_objects(urljoin(home, "guanliban/")) == {}


def test_watched_calendar_is_read_and_checked(capsys, caldav_server, db_url,
                                              home) -> None:  # noqa: F811
    watched = caldav_server.mkcalendar(displayname="上级会议")
    put(caldav_server, urljoin(watched, "a.ics"),
        event("upper-1@example.org", "20260302T013000Z", "20260302T023000Z", "省厅视频会"))
    result = publish(capsys, caldav_server, db_url, home, "--watch", watched)
    assert result["watched"] == {watched: 1}
    (clash,) = foreign_clashes(db_url)
    assert {i.summary for i in clash.items} == {"省厅视频会", "周例会"}
    caldav_server.request("DELETE", urljoin(watched, "a.ics"))
    publish(capsys, caldav_server, db_url, home, "--watch", watched)
    assert foreign_clashes(db_url) == []   # read whole each time: gone there, gone here


def test_unreadable_foreign_data_is_skipped_not_fatal() -> None:
    good = event("x@example.org", "20260302T010000Z", "20260302T020000Z")
    found = busy_from_ics([b"garbage", good, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"],
                          *WEEK, "src")
    assert [b.uid for b in found] == ["x@example.org"]
    cancelled = event("y@example.org", "20260302T010000Z", "20260302T020000Z",
                      status="CANCELLED")
    assert busy_from_ics([cancelled], *WEEK) == []
