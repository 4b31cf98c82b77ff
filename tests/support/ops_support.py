"""Helpers for the operations tests (issue 14): emptying collections, a proxy that fails
every PUT after the first N, and a calendar home cleared for the CLI."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit

from tests.support.faultproxy import FaultProxy, _Request
from tests.support.servers import ServerHandle


def hrefs(body: bytes) -> list[str]:
    return [e.text or "" for e in ET.fromstring(body).iter("{DAV:}href")]


def members(server: ServerHandle, url: str) -> list[str]:
    """Paths of the objects in a collection (Depth 1)."""
    status, _, body = server.request("PROPFIND", url, b"", {"Depth": "1"})
    assert status == 207, status
    own = urlsplit(url).path.rstrip("/")
    return [urlsplit(h).path for h in hrefs(body)
            if urlsplit(h).path.rstrip("/") != own and h.endswith(".ics")]


def empty_collection(server: ServerHandle, url: str) -> int:
    """Delete every object of a collection, as a broken sync client or a person would."""
    gone = 0
    for path in members(server, url):
        status, _, _ = server.request("DELETE", urljoin(url, path))
        assert status in (200, 204), status
        gone += 1
    return gone


def cleared_home(server: ServerHandle) -> str:
    """The calendar home with every collection below it removed."""
    home = server.calendar_home_url
    status, _, body = server.request("PROPFIND", home, b"", {"Depth": "1"})
    assert status == 207
    home_path = urlsplit(home).path
    for href in hrefs(body):
        path = urlsplit(href).path
        if path.startswith(home_path) and path.rstrip("/") != home_path.rstrip("/"):
            server.request("DELETE", urljoin(home, path))
    return home


class FailPutsAfter(FaultProxy):
    """Forward the first ``ok`` PUTs, answer 500 to every later one (a server dying mid-run);
    ``slow`` seconds before each forwarded PUT (a slowed server)."""

    def __init__(self, target_url: str, ok: int = 10**9, slow: float = 0.0) -> None:
        super().__init__(target_url)
        self.ok, self.slow = ok, slow
        self.puts = 0
        self.put_seen = threading.Event()
        self._count_lock = threading.Lock()

    def _choose_fault(self, req: _Request) -> tuple[str | None, float]:
        kind, delay = super()._choose_fault(req)
        if kind is None and req.method == "PUT":
            with self._count_lock:
                self.puts += 1
                n = self.puts
            self.put_seen.set()
            if n > self.ok:
                return "status_500", delay
            if self.slow:
                return "delay", self.slow
        return kind, delay
