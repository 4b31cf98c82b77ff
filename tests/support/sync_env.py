"""One sync test's world (a CalDAV server, a fresh collection, the fault proxy and the store)
and the events it publishes; the ``env`` fixture is in tests/integration/conftest.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import caldav

from calsync.ical.resources import Resource
from calsync.sync.client import Target
from calsync.sync.normalize import semantic_key, uid_of
from calsync.sync.publish import (
    CollectionSpec,
    PublishResult,
    publish,
)
from tests.support.faultproxy import FaultProxy
from tests.support.servers import ServerHandle

ORG = "guanliban"
XML = {"Content-Type": "application/xml; charset=utf-8"}


def event(n: int, summary: str = "例会", org: str | None = ORG, uid: str | None = None) -> bytes:
    uid = uid or f"m{n}@{ORG}.calsync"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calsync//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20250101T000000Z",
        f"DTSTART:202501{6 + n % 20:02d}T010000Z",
        "DURATION:PT1H",
        "RRULE:FREQ=WEEKLY;COUNT=6",
        f"SUMMARY:{summary} {n}",
        *([f"X-CALSYNC-ORG:{org}"] if org else []),
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def resource(n: int, summary: str = "例会") -> Resource:
    return Resource(ORG, f"m{n}", f"m{n}@{ORG}.calsync", event(n, summary))


@dataclass
class Env:
    """One test's world: a server, a fresh collection, the proxy and the store."""

    server: ServerHandle
    proxy: FaultProxy
    store: Any
    url: str  # the collection, through the proxy

    @property
    def direct_url(self) -> str:
        return self.url.replace(f"127.0.0.1:{self.proxy.port}", f"127.0.0.1:{self.server.port}")

    def target(self, timeout: float = 10.0) -> Target:
        home = self.proxy.proxied(self.server.calendar_home_url)
        return Target(home, self.server.username, self.server.password, timeout)

    def spec(self, resources: list[Resource]) -> list[CollectionSpec]:
        return [CollectionSpec("x", "管理办公室", (ORG,), tuple(resources), url=self.url)]

    def publish(self, resources: list[Resource], **kw: Any) -> PublishResult:
        return publish(self.spec(resources), self.store, self.target(kw.pop("timeout", 10.0)), **kw)

    def items(self) -> dict[str, tuple[str, bytes]]:
        """href -> (etag, body), read straight from the server (no proxy, no calsync code)."""
        body = b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
        headers = {"Depth": "1", **XML}
        status, _, data = self.server.request("PROPFIND", self.direct_url, body, headers)
        assert status == 207, data
        out = {}
        own = self.direct_url.split(str(self.server.port), 1)[1].rstrip("/")
        for resp in ET.fromstring(data).iter("{DAV:}response"):
            href = resp.findtext("{DAV:}href") or ""
            path = href.split(str(self.server.port), 1)[-1]
            if path.rstrip("/") == own:
                continue
            st, headers, ics = self.server.request("GET", f"{self.server.url.rstrip('/')}{path}")
            assert st == 200
            out[path] = (headers.get("ETag") or headers.get("Etag") or "", ics)
        return out

    def by_uid(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for _, ics in self.items().values():
            u = uid_of(ics)
            assert u not in out, f"duplicate UID {u}"
            out[u] = ics
        return out

    def app(self) -> Any:
        """The calendar app's view of the collection (a separate caldav client)."""
        s = self.server
        client = caldav.DAVClient(
            url=s.calendar_home_url, username=s.username, password=s.password,
            auth_type="basic" if s.username else None,
        )  # fmt: skip
        return client.calendar(url=self.direct_url)

    def app_edit(self, uid: str, **props: Any) -> None:
        ev = self.app().event_by_uid(uid)
        comp = ev.icalendar_component
        for k, v in props.items():
            comp.pop(k.upper(), None)
            comp.add(k.upper(), v)
        ev.save()

    def app_delete(self, uid: str) -> None:
        self.app().event_by_uid(uid).delete()

    def put_raw(self, name: str, ics: bytes) -> None:
        url = f"{self.direct_url}{name}"
        status, _, _ = self.server.request("PUT", url, ics, {"Content-Type": "text/calendar"})
        assert status in (201, 204)


def assert_converged(env: Env, resources: list[Resource]) -> None:
    """Server == policy (for unconflicted uids), store agrees with the server."""
    on_server = env.by_uid()
    rows = env.store.sync_state.get_resources(env.url)
    items = env.items()
    for href, (etag, ics) in items.items():
        u = uid_of(ics)
        if u in rows:
            assert rows[u].href == href and rows[u].etag == etag, u
    open_uids = {c.uid for c in env.store.conflicts.open_conflicts()}
    for r in resources:
        if r.uid not in open_uids:
            assert semantic_key(on_server[r.uid]) == semantic_key(r.ics), r.uid
