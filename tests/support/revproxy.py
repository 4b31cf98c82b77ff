"""A reverse proxy for tests, in its own process, doing what nginx in front of calsync does:
forward every request to one upstream and add ``X-Forwarded-For`` (the peer appended to what
the client sent, like nginx's ``$proxy_add_x_forwarded_for``), ``X-Forwarded-Proto`` and
``X-Forwarded-Host`` (the Host it was asked for, which it also passes on).

It connects upstream *from* a loopback address of its own (``--source``, e.g. 127.0.0.2), so
the upstream can tell the proxy's address from the client's on one machine; ``client_from``
gives a requests session whose connections come from another one (e.g. 127.0.0.3).

    python -m tests.support.revproxy UPSTREAM_PORT [--proto https] [--source 127.0.0.2]

prints ``revproxy listening on 127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import requests
from requests.adapters import HTTPAdapter
from urllib3 import PoolManager

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
READY = "revproxy listening on "


class _Forward(BaseHTTPRequestHandler):
    upstream: tuple[str, int]
    source: str
    proto: str

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        prior = self.headers.get("X-Forwarded-For")
        peer = self.client_address[0]
        headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
        headers["X-Forwarded-Proto"] = self.proto
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        conn = http.client.HTTPConnection(*self.upstream, timeout=60,
                                          source_address=(self.source, 0))
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():  # every Set-Cookie on its own line
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _forward

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"revproxy: {self.client_address[0]} {format % args}\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="revproxy")
    p.add_argument("upstream_port", type=int)
    p.add_argument("--upstream-host", default="127.0.0.1")
    p.add_argument("--source", default="127.0.0.2", help="address to connect upstream from")
    p.add_argument("--proto", default="https", help="X-Forwarded-Proto to send")
    args = p.parse_args(argv)
    handler = type("Forward", (_Forward,), {"upstream": (args.upstream_host, args.upstream_port),
                                            "source": args.source, "proto": args.proto})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print(f"{READY}127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@dataclass
class Proxy:
    proc: subprocess.Popen[str]
    port: int
    _log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._log.close()


def start_proxy(upstream_port: int, log_path: Path, source: str = "127.0.0.2",
                proto: str = "https") -> Proxy:
    """The proxy as a separate process in front of ``127.0.0.1:upstream_port``."""
    log = open(log_path, "ab")  # noqa: SIM115 - closed by Proxy.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.revproxy", str(upstream_port),
         "--source", source, "--proto", proto],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
        cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until bound (or the process died: "")
    if not line.startswith(READY):
        proc.kill()
        proc.wait(10)
        log.close()
        raise AssertionError(f"the proxy did not start: {line!r}\n{log_path.read_text()}")
    return Proxy(proc, int(line.rsplit(":", 1)[1]), log)


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **kwargs: object) -> None:
        self.poolmanager = PoolManager(num_pools=connections, maxsize=maxsize, block=block,
                                       source_address=(self.source, 0), **kwargs)


def client_from(address: str) -> requests.Session:
    """A requests session whose connections leave from the loopback ``address``."""
    s = requests.Session()
    adapter = _SourceAdapter(address)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


if __name__ == "__main__":
    main()
