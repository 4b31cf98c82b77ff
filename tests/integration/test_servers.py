"""The real-server fixtures, the fault proxy and the quirks table, checked against live servers."""

from __future__ import annotations

import contextlib
import http.client
import re
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit

import niquests
import pytest
from caldav.collection import CalendarSet
from caldav.lib import error

from calsync.sync.quirks import QUIRKS, detect_server_kind, quirks_for
from tests.support.faultproxy import FaultProxy
from tests.support.servers import ServerHandle

ICS_CT = {"Content-Type": "text/calendar; charset=utf-8"}


def ics(uid: str, summary: str = "Weekly meeting") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync//tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART:20260302T010000Z\r\nDTEND:20260302T020000Z\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def path_of(url: str) -> str:
    return urlsplit(url).path


def status_of(server: ServerHandle, url: str) -> int:
    return server.request("GET", url)[0]


def test_create_put_read_back_through_proxy(
    caldav_server: ServerHandle, fault_proxy: FaultProxy, calendar_url: str
) -> None:
    client = caldav_server.caldav_client(fault_proxy.proxied(caldav_server.calendar_home_url))
    home = CalendarSet(client=client, url=fault_proxy.proxied(caldav_server.calendar_home_url))
    cal_id = path_of(calendar_url).rstrip("/").rsplit("/", 1)[1]
    cal = home.make_calendar(cal_id=cal_id)
    assert path_of(str(cal.url)) == path_of(calendar_url)

    uid = str(uuid.uuid4())
    event = cal.add_event(ics(uid), no_overwrite=True, increase_seqno=False)
    assert event.etag and event.etag.startswith('"'), "server sent no ETag on PUT"
    put_headers = [h for m, _, h in fault_proxy.headers_log if m == "PUT"]
    assert put_headers and put_headers[0].get("if-none-match") == "*"

    loaded = cal.event_by_url(event.url)  # one GET
    assert uid in loaded.data
    assert loaded.etag == event.etag  # unchanged since the PUT

    # an update with the cached ETag is a single conditional PUT
    created_etag = event.etag
    event.data = ics(uid, "Moved")
    # precondition="etag": Xandikos answers PUTs with a Schedule-Tag, which caldav would
    # otherwise prefer (If-Schedule-Tag-Match lets the server merge instead of refusing)
    event.save(increase_seqno=False, precondition="etag")
    assert fault_proxy.headers_log[-1][2].get("if-match") == created_etag
    assert event.etag != created_etag

    # exactly the requests made: no discovery, no UID search, no 401 round trip
    assert fault_proxy.counts == Counter({"MKCALENDAR": 1, "PUT": 2, "GET": 1})
    assert [s for _, _, s in fault_proxy.log] == [201, 201, 200, 204]
    assert fault_proxy.path_counts[("PUT", path_of(str(event.url)))] == 2


def test_proxy_keeps_alive_and_relays_any_method(
    caldav_server: ServerHandle, fault_proxy: FaultProxy, calendar: str
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=5)
    headers = caldav_server.auth_headers()
    seen: list[tuple[str, int]] = []
    sockets: list[object] = []
    body = '<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
    for method, payload, extra in [
        ("OPTIONS", None, {}),
        ("PROPFIND", body, {"Depth": "0", "Content-Type": "application/xml"}),
        ("PUT", ics("keepalive"), {**ICS_CT, "If-None-Match": "*"}),
        ("GET", None, {}),
        ("DELETE", None, {}),
    ]:
        target = path_of(calendar) + ("keepalive.ics" if method in ("PUT", "GET", "DELETE") else "")
        conn.request(method, target, payload, {**headers, **extra})
        resp = conn.getresponse()
        resp.read()
        sockets.append(conn.sock)
        seen.append((method, resp.status))
    conn.close()
    assert [s for _, s in seen][:2] == [200, 207]
    assert dict(seen)["PUT"] == 201 and dict(seen)["GET"] == 200
    assert dict(seen)["DELETE"] in (200, 204)
    assert all(s is sockets[0] for s in sockets), "proxy closed a keep-alive connection"
    assert fault_proxy.counts == Counter(m for m, _ in seen)
    assert [(m, s) for m, _, s in fault_proxy.log] == seen


def test_proxy_relays_chunked_request_and_response(
    xandikos_server: ServerHandle, fault_proxy_factory
) -> None:
    # Xandikos (aiohttp) accepts chunked request bodies; Radicale's wsgiref server does not
    proxy = fault_proxy_factory(xandikos_server)
    url = xandikos_server.mkcalendar()
    chunks = (part.encode() for part in ics("chunked").splitlines(keepends=True))
    resp = niquests.put(proxy.proxied(url + "chunked.ics"), data=chunks, headers=ICS_CT)
    assert resp.status_code == 201
    sent = proxy.headers_log[-1][2]
    assert sent.get("transfer-encoding") == "chunked" and "content-length" not in sent
    status, _, data = xandikos_server.request("GET", url + "chunked.ics")
    assert status == 200 and b"UID:chunked" in data


@pytest.mark.parametrize("kind", ["drop_before", "status_500", "precondition_412"])
def test_faults_that_write_nothing(
    caldav_server: ServerHandle, fault_proxy: FaultProxy, calendar: str, kind: str
) -> None:
    cal = caldav_server.caldav_client(fault_proxy.proxied(calendar)).calendar(
        url=fault_proxy.proxied(calendar)
    )
    fault_proxy.inject(kind, methods=["PUT"])
    expected = {
        "drop_before": niquests.exceptions.ConnectionError,
        "status_500": error.PutError,
        "precondition_412": error.ConsistencyError,
    }[kind]
    with pytest.raises(expected):
        cal.add_event(ics(kind), no_overwrite=True)
    assert fault_proxy.fault_log == [(kind, "PUT", path_of(calendar) + f"{kind}.ics")]
    assert status_of(caldav_server, calendar + f"{kind}.ics") == 404
    # the fault was one-shot: the same save now goes through
    cal.add_event(ics(kind), no_overwrite=True)
    assert status_of(caldav_server, calendar + f"{kind}.ics") == 200


def test_precondition_412_spares_unconditional_requests(
    caldav_server: ServerHandle, fault_proxy: FaultProxy, calendar: str
) -> None:
    fault_proxy.inject("precondition_412")
    target = fault_proxy.proxied(calendar + "plain.ics")
    auth = caldav_server.auth
    assert niquests.put(target, data=ics("plain"), headers=ICS_CT, auth=auth).status_code == 201
    resp = niquests.put(target, data=ics("plain"), headers={**ICS_CT, "If-Match": '"x"'}, auth=auth)
    assert resp.status_code == 412 and b"fault injected" in resp.content
    assert [k for k, _, _ in fault_proxy.fault_log] == ["precondition_412"]


def test_drop_after_writes_but_client_never_learns(
    caldav_server: ServerHandle, fault_proxy: FaultProxy, calendar: str
) -> None:
    cal = caldav_server.caldav_client(fault_proxy.proxied(calendar)).calendar(
        url=fault_proxy.proxied(calendar)
    )
    fault_proxy.inject("drop_after", methods=["PUT"])
    with pytest.raises(niquests.exceptions.ConnectionError):
        cal.add_event(ics("dropped-after"), no_overwrite=True)
    status, _, data = caldav_server.request("GET", calendar + "dropped-after.ics")
    assert status == 200 and b"UID:dropped-after" in data
    assert fault_proxy.log[-1] == ("PUT", path_of(calendar) + "dropped-after.ics", None)
    # a retry of the create now meets the server's own If-None-Match refusal
    with pytest.raises(error.ConsistencyError):
        cal.add_event(ics("dropped-after"), no_overwrite=True)


def test_delay_outlasts_client_timeout(
    caldav_server: ServerHandle, fault_proxy_factory, calendar: str
) -> None:
    proxy = fault_proxy_factory(caldav_server, delay_seconds=1.0)
    client = caldav_server.caldav_client(proxy.proxied(calendar), timeout=0.3)
    cal = client.calendar(url=proxy.proxied(calendar))
    proxy.inject("delay", methods=["PUT"])
    started = time.monotonic()
    with pytest.raises(niquests.exceptions.Timeout):
        cal.add_event(ics("slow"), no_overwrite=True)
    assert time.monotonic() - started < 0.9
    # the proxy forwards after the delay: the write lands although the client gave up
    deadline = time.monotonic() + 5
    while status_of(caldav_server, calendar + "slow.ics") != 200:
        assert time.monotonic() < deadline, "delayed PUT never reached the server"
        time.sleep(0.05)


def test_seeded_fault_schedule_is_reproducible(
    caldav_server: ServerHandle, fault_proxy: FaultProxy
) -> None:
    def run(seed: int) -> list[int | None]:
        fault_proxy.reset_counts()
        fault_proxy.set_faults(rate=0.3, seed=seed, kinds=["status_500", "drop_before"])
        for _ in range(30):
            with contextlib.suppress(niquests.exceptions.ConnectionError):
                niquests.options(fault_proxy.url, auth=caldav_server.auth, timeout=5)
        fault_proxy.clear_faults()
        return [s for _, _, s in fault_proxy.log]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 3 <= sum(s != 200 for s in first) <= 18
    assert set(first) <= {200, 500, None}


def test_quirks_sync_token_claims_hold(caldav_server: ServerHandle, calendar: str) -> None:
    q = QUIRKS[caldav_server.kind]
    cal = caldav_server.caldav_client(calendar).calendar(url=calendar)
    for uid in ("s1", "s2"):
        caldav_server.request("PUT", calendar + f"{uid}.ics", ics(uid).encode(), ICS_CT)

    def sync(token: str | None):
        return cal.get_objects_by_sync_token(sync_token=token, disable_fallback=True)

    if not q.sync_token:
        with pytest.raises(error.DAVError):
            sync(None)
        return
    first = sync(None)
    assert {path_of(str(o.url)).rsplit("/", 1)[1] for o in first.objects} >= {"s1.ics", "s2.ics"}
    assert first.sync_token
    caldav_server.request("PUT", calendar + "s3.ics", ics("s3").encode(), ICS_CT)
    caldav_server.request("DELETE", calendar + "s1.ics")
    changed = sync(first.sync_token)
    names = {path_of(str(o.url)).rsplit("/", 1)[1] for o in changed.objects}
    assert "s3.ics" in names and "s2.ics" not in names
    assert any(path_of(u).endswith("/s1.ics") for u in map(str, changed.deleted_urls))
    assert changed.sync_token != first.sync_token


def test_quirks_sync_limit_and_token_claims_hold(
    caldav_server: ServerHandle, calendar: str
) -> None:
    q = quirks_for(caldav_server.kind)
    for i in range(4):
        caldav_server.request("PUT", calendar + f"l{i}.ics", ics(f"l{i}").encode(), ICS_CT)

    def report(token: str, limit: int | None = None) -> tuple[int, str]:
        lim = f"<D:limit><D:nresults>{limit}</D:nresults></D:limit>" if limit else ""
        body = (
            '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>{lim}"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>"
        )
        status, _, data = caldav_server.request(
            "REPORT", calendar, body.encode(), {"Content-Type": "application/xml"}
        )
        return status, data.decode()

    status, full = report("")
    members = len(re.findall(r"\.ics</(?:\w+:)?href>", full))
    assert status == 207 and members == 4
    status, limited = report("", limit=2)
    got = len(re.findall(r"\.ics</(?:\w+:)?href>", limited))
    has_507 = re.search(r"<(?:\w+:)?status>HTTP/1\.1 507", limited) is not None
    observed = {
        (False, 4): "ignored",
        (False, 2): "truncates_silently",
        (True, 2): "honoured",
    }.get((has_507, got), f"other: 507={has_507} members={got}")
    assert observed == q.sync_limit
    status, _ = report("http://example.invalid/never-issued")
    assert status == q.invalid_sync_token_status


def test_quirks_put_etag_and_detection_claims_hold(
    caldav_server: ServerHandle, calendar: str
) -> None:
    q = quirks_for(caldav_server.kind)
    status, headers, _ = caldav_server.request(
        "PUT", calendar + "e.ics", ics("e").encode(), {**ICS_CT, "If-None-Match": "*"}
    )
    assert status == 201
    assert ("ETag" in headers) == q.etag_on_put
    assert ("Schedule-Tag" in headers) == q.schedule_tag_on_put
    status, _, _ = caldav_server.request(
        "PUT", calendar + "e.ics", ics("e").encode(), {**ICS_CT, "If-None-Match": "*"}
    )
    assert (status == 412) == q.if_none_match_star
    status, _, body = caldav_server.request(
        "PUT", calendar + "e2.ics", ics("e").encode(), {**ICS_CT, "If-None-Match": "*"}
    )
    assert status == q.uid_conflict_status and b"no-uid-conflict" in body
    server_header = caldav_server.request("OPTIONS", caldav_server.url)[1].get("Server")
    assert detect_server_kind(server_header, caldav_server.url) == caldav_server.kind
