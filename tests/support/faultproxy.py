"""A threaded HTTP/1.1 reverse proxy on loopback that counts requests and injects faults.

Bytes are relayed verbatim (request line, headers, chunked or Content-Length bodies, both
ways); only Host is rewritten, and ``Expect: 100-continue`` is answered by the proxy (it reads
the whole body before choosing a fault). One upstream connection per client connection.
Fault kinds:
  drop_before       close the client connection without forwarding
  drop_after        forward, read the server's full answer, close without answering
  status_500        answer 500 without forwarding
  delay             sleep ``delay_seconds`` (longer than the client's timeout), then forward
  precondition_412  answer 412 without forwarding; only to requests with If-Match/If-None-Match
"""

from __future__ import annotations

import contextlib
import functools
import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from tests.support.httpwire import Headers, get, read_body, read_headers, readline

FAULT_KINDS = ("drop_before", "drop_after", "status_500", "delay", "precondition_412")


def _canned(code: int, reason: str) -> tuple[int, bytes]:
    body = f"fault injected by calsync test proxy: {code} {reason}\n"
    head = f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\n"
    return code, f"{head}Content-Length: {len(body)}\r\n\r\n{body}".encode()


_ANSWERED_BY_PROXY = {  # kind -> (status, canned response)
    "status_500": _canned(500, "Internal Server Error"),
    "precondition_412": _canned(412, "Precondition Failed"),
}


@dataclass
class _Request:
    method: str
    path: str
    version: str
    headers: Headers
    body: bytes  # raw framing as received (chunked stays chunked)

    @property
    def conditional(self) -> bool:
        return any(k.lower() in ("if-match", "if-none-match") for k, _ in self.headers)

    @property
    def wants_close(self) -> bool:
        conn = (get(self.headers, "Connection") or "").lower()
        return "keep-alive" not in conn if self.version == "HTTP/1.0" else "close" in conn


@dataclass
class _Rule:
    """An inject() (``rng`` None: the first kind, ``remaining`` times) or a random schedule."""

    kinds: list[str]
    methods: Iterable[str] | None  # upper-cased frozenset after __post_init__
    remaining: int = 0
    delay: float | None = None
    rng: random.Random | None = None
    rate: float = 1.0

    def __post_init__(self) -> None:
        if bad := [k for k in self.kinds if k not in FAULT_KINDS]:
            raise ValueError(f"unknown fault kind(s) {bad}; expected some of {FAULT_KINDS}")
        if self.methods is not None:
            self.methods = frozenset(m.upper() for m in self.methods)

    def pick(self, req: _Request) -> str | None:
        if self.methods is not None and req.method not in self.methods:
            return None
        if self.rng is None:
            kind: str | None = self.kinds[0]
        else:  # draw both numbers every time so the schedule doesn't depend on the kinds
            hit, drawn = self.rng.random() < self.rate, self.rng.choice(self.kinds)
            kind = drawn if hit else None
        return None if kind == "precondition_412" and not req.conditional else kind


class FaultProxy:
    """Reverse proxy in front of ``target_url``; see the module doc for the fault kinds."""

    upstream_timeout = 60.0  # seconds; per socket operation towards the server
    idle_timeout = 60.0  # seconds a kept-alive client connection may sit idle

    def __init__(self, target_url: str, delay_seconds: float = 2.0) -> None:
        parts = urlsplit(target_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"FaultProxy needs an http:// target, got {target_url!r}")
        self.target_host, self.target_port = parts.hostname, parts.port or 80
        self.target_prefix = parts.path.rstrip("/")
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        self._log: list[tuple[str, str, int | None]] = []
        self._fault_log: list[tuple[str, str, str]] = []
        self._requests: list[tuple[str, str, dict[str, str], bytes]] = []  # + raw body
        self._injections: list[_Rule] = []
        self._schedule: _Rule | None = None
        self._server: socketserver.ThreadingTCPServer | None = None
        self._conns: set[socket.socket] = set()

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._serve_connection(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # a stuck handler must not block interpreter exit
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # quick stop()
        threading.Thread(target=serve, name="faultproxy", daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Proxy URL with the target's path prefix kept, so it can replace target_url as-is."""
        return f"http://127.0.0.1:{self.port}{self.target_prefix}/"

    def proxied(self, url: str) -> str:
        """Rewrite a URL on the target server to go through this proxy."""
        return urlsplit(url)._replace(netloc=f"127.0.0.1:{self.port}").geturl()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:  # wake handler threads blocked on keep-alive reads
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._server = None

    def _snapshot(self, store: Any) -> Any:
        with self._lock:
            return type(store)(store)

    @property
    def headers_log(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, {lower-cased header: value}) per request received, in order."""
        return [(m, p, h) for m, p, h, _ in self._snapshot(self._requests)]

    @property
    def bodies_log(self) -> list[tuple[str, str, bytes]]:
        """(method, path, raw body as received) per request received, in order."""
        return [(m, p, b) for m, p, _, b in self._snapshot(self._requests)]

    @property
    def counts(self) -> Counter[str]:
        """Requests received, by method (faulted ones included); a snapshot."""
        return Counter(m for m, _, _ in self.headers_log)

    @property
    def path_counts(self) -> Counter[tuple[str, str]]:
        """Requests received, by (method, path); a snapshot."""
        return Counter((m, p) for m, p, _ in self.headers_log)

    @property
    def log(self) -> list[tuple[str, str, int | None]]:
        """(method, path, status the client got) in completion order; None = no answer sent."""
        return self._snapshot(self._log)

    @property
    def fault_log(self) -> list[tuple[str, str, str]]:
        """(kind, method, path) for each fault applied."""
        return self._snapshot(self._fault_log)

    def reset_counts(self) -> None:
        with self._lock:
            for store in (self._log, self._fault_log, self._requests):
                store.clear()

    def set_faults(
        self,
        rate: float,
        seed: int,
        kinds: Iterable[str] = FAULT_KINDS,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Fault each (matching) request with probability ``rate``, drawn from Random(seed)
        in arrival order (same schedule every run for a sequential client). A drawn
        precondition_412 on an unconditional request is a no-op; inject() goes first."""
        rule = _Rule(list(kinds), methods, rng=random.Random(seed), rate=rate)
        with self._lock:
            self._schedule = rule

    def inject(
        self,
        kind: str,
        n: int = 1,
        methods: Iterable[str] | None = None,
        delay: float | None = None,
    ) -> None:
        """Apply ``kind`` to the next ``n`` matching requests (optionally only these methods)."""
        rule = _Rule([kind], methods, remaining=n, delay=delay)
        with self._lock:
            self._injections.append(rule)

    def clear_faults(self) -> None:
        with self._lock:
            self._injections, self._schedule = [], None

    def _choose_fault(self, req: _Request) -> tuple[str | None, float]:
        with self._lock:
            headers = {k.lower(): v for k, v in req.headers}
            self._requests.append((req.method, req.path, headers, req.body))
            kind, delay = None, None
            for rule in self._injections:
                if (kind := rule.pick(req)) is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._injections.remove(rule)
                    delay = rule.delay
                    break
            else:
                kind = self._schedule.pick(req) if self._schedule and self._schedule.kinds else None
            if kind is not None:
                self._fault_log.append((kind, req.method, req.path))
            return kind, (self.delay_seconds if delay is None else delay)

    def _reply(self, client: socket.socket, req: _Request, status: int, data: bytes) -> bool:
        """Log, then send (a client holding its answer must find it in .log); False if lost."""
        with self._lock:
            self._log.append(entry := (req.method, req.path, status))
            idx = len(self._log) - 1
        try:
            client.sendall(data)
            return True
        except OSError:  # it never arrived: the entry becomes "no answer"
            with self._lock:
                if idx < len(self._log) and self._log[idx] is entry:
                    self._log[idx] = (req.method, req.path, None)
            return False

    def _serve_connection(self, client: socket.socket, rfile: BinaryIO) -> None:
        client.settimeout(self.idle_timeout)
        with self._lock:
            self._conns.add(client)
        upstream: tuple[socket.socket, BinaryIO] | None = None
        try:
            while (req := self._read_request(client, rfile)) is not None:
                kind, delay = self._choose_fault(req)
                keep = logged = False
                try:
                    if kind in _ANSWERED_BY_PROXY:
                        code, canned = _ANSWERED_BY_PROXY[kind]
                        logged = True
                        sent = self._reply(client, req, code, canned)
                        keep = sent and not req.wants_close
                    elif kind != "drop_before":
                        if kind == "delay":
                            time.sleep(delay)
                        upstream, code, raw, must_close = self._forward(req, upstream)
                        if kind != "drop_after":  # drop_after: the write happened, no answer
                            logged = True
                            sent = self._reply(client, req, code, raw)
                            keep = sent and not (must_close or req.wants_close)
                except (EOFError, OSError, ValueError):
                    pass  # upstream failed, or the client left (e.g. timed out during a delay)
                finally:
                    if not logged:  # None: the client got no answer
                        with self._lock:
                            self._log.append((req.method, req.path, None))
                if not keep:
                    return
        finally:
            with self._lock:
                self._conns.discard(client)
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream[0].close()
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def _read_request(self, client: socket.socket, rfile: BinaryIO) -> _Request | None:
        """The next request on this connection; None once the client closed it (or sent junk)."""
        try:
            line = readline(rfile, eof_ok=True)
            while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests
                line = readline(rfile, eof_ok=True)
            if not line:
                return None
            method, path, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
            headers, _ = read_headers(rfile)
            if (get(headers, "Expect") or "").lower() == "100-continue":
                # we need the body before choosing a fault, so say "go on" ourselves
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                headers = [(k, v) for k, v in headers if k.lower() != "expect"]
            body = read_body(rfile, headers) or b""
        except (EOFError, OSError, ValueError):
            return None
        return _Request(method, path, version, headers, body)

    def _request_bytes(self, req: _Request) -> bytes:
        host = f"{self.target_host}:{self.target_port}"
        lines = [f"{req.method} {req.path} {req.version}\r\n"]
        lines += [f"{k}: {host if k.lower() == 'host' else v}\r\n" for k, v in req.headers]
        return "".join([*lines, "\r\n"]).encode("latin-1") + req.body

    def _exchange(
        self, up: tuple[socket.socket, BinaryIO] | None, data: bytes
    ) -> tuple[tuple[socket.socket, BinaryIO], bytes]:
        """Send ``data`` on ``up`` (a new connection if None); return it and the status line."""
        if up is None:
            addr = (self.target_host, self.target_port)
            sock = socket.create_connection(addr, self.upstream_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            up = (sock, sock.makefile("rb"))
        up[0].sendall(data)
        return up, readline(up[1])

    def _forward(
        self, req: _Request, upstream: tuple[socket.socket, BinaryIO] | None
    ) -> tuple[tuple[socket.socket, BinaryIO], int, bytes, bool]:
        """Send ``req`` upstream; return (connection, status, raw response, must_close)."""
        data = self._request_bytes(req)
        try:
            upstream, status_line = self._exchange(upstream, data)
        except (OSError, EOFError):
            if upstream is None:
                raise
            # the server closed an idle keep-alive connection: retry once, fresh
            with contextlib.suppress(OSError):
                upstream[0].close()
            upstream, status_line = self._exchange(None, data)
        rfile, raw = upstream[1], bytearray()
        while True:
            version, status_s, *_ = status_line.decode("latin-1").split(" ", 2)
            status = int(status_s)
            headers, raw_headers = read_headers(rfile)
            raw += status_line + raw_headers
            if not (100 <= status < 200 and status != 101):
                break
            status_line = readline(rfile)  # interim answer: relay it, then the real one
        conn_hdr = (get(headers, "Connection") or "").lower()
        must_close = "close" in conn_hdr or (version == "HTTP/1.0" and "keep-alive" not in conn_hdr)
        if req.method != "HEAD" and status not in (204, 304):
            body = read_body(rfile, headers)
            if body is None:  # delimited by close
                body, must_close = rfile.read(), True
            raw += body
        return upstream, status, bytes(raw), must_close
