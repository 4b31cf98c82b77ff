"""Feed serving side by side: calsync's organization feed vs Radicale's GET of the same calendar.

The shipped policies (this year and next) are published to a Radicale; calsync's web app serves
``/feeds/<token>/org/guanliban.ics`` under waitress (threads=4) in this process. A loopback load
client (N processes × M requests on keep-alive connections, ``http.client``; or ``wrk`` when it
is installed) fetches (a) the calsync feed and (b) Radicale's GET of the collection, once for
200 answers and once for 304 answers (If-None-Match with the ETag each server gave). Prints
requests/s and p50/p99 latency per row; asserts nothing.

    python bench/feed_vs_radicale.py [--procs 4] [--requests 200]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import logging
import multiprocessing as mp
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import waitress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calsync.web import create_app  # noqa: E402

from calsync.app.service import publish_orgs  # noqa: E402
from calsync.occurrence import default_horizon  # noqa: E402
from calsync.policy import load_policies  # noqa: E402
from calsync.store import open_store  # noqa: E402
from calsync.sync.client import Target  # noqa: E402
from tests.support.servers import start_radicale  # noqa: E402

ORG = "guanliban"
VIEWER = "zhou_mishukezhang"      # a secretary: sees every detail, like the CalDAV account


def _worker(url: str, headers: dict[str, str], count: int, expect: int,
            out: mp.Queue) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    path = parts.path
    latencies = []
    for _ in range(count):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        latencies.append(time.perf_counter() - t0)
        if resp.status != expect:
            out.put(("error", resp.status))
            return
    conn.close()
    out.put(("ok", latencies))


def load(url: str, headers: dict[str, str], procs: int, count: int,
         expect: int) -> tuple[float, float, float] | int:
    """(requests/s, p50 ms, p99 ms) for ``procs`` × ``count`` keep-alive GETs, or the status
    the server gave instead of ``expect``."""
    _worker(url, headers, 5, expect, q := mp.Queue())   # warm up (and check the answer)
    kind, value = q.get()
    if kind != "ok":
        return value
    out: mp.Queue = mp.Queue()
    workers = [mp.Process(target=_worker, args=(url, headers, count, expect, out))
               for _ in range(procs)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    elapsed = time.perf_counter() - t0
    for w in workers:
        w.join()
    latencies: list[float] = []
    for kind, value in results:
        if kind != "ok":
            raise SystemExit(value)
        latencies.extend(value)
    latencies.sort()
    n = len(latencies)
    return n / elapsed, latencies[n // 2] * 1000, latencies[min(n - 1, int(n * 0.99))] * 1000


def head(url: str, headers: dict[str, str]) -> tuple[str, int]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", parts.path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"{url}: HTTP {resp.status}")
    return resp.getheader("ETag") or "", len(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="per process and row")
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)   # "Task queue depth" noise
    if shutil.which("wrk"):
        print("(wrk is installed; this run uses the http.client load client for both sides)")
    tmp = Path(tempfile.mkdtemp(prefix="calsync-feedbench-"))
    server = start_radicale()
    try:
        policies = load_policies()
        db_url = f"sqlite:///{tmp / 'calsync.sqlite3'}"
        start, end = default_horizon(dt.date.today())
        with open_store(db_url) as store:
            target = Target(server.calendar_home_url, server.username, server.password)
            _built, result = publish_orgs(policies, store, target, [ORG], start, end)
            collection = result.collections[0].url
            print(f"published {result.counts()} to {collection}")
        app = create_app({"CALSYNC_DATABASE_URL": db_url, "CALSYNC_INSTANCE": str(tmp / "inst"),
                          "WTF_CSRF_ENABLED": False})
        token = app.extensions["calsync"].store.feeds.feed_token(VIEWER, ORG, actor="bench")
        port = free_port()
        web = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
        threading.Thread(target=web.run, daemon=True).start()
        feed = f"http://127.0.0.1:{port}/feeds/{token}/org/{ORG}.ics"
        auth = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
        sides = [("calsync feed", feed, {}),
                 ("Radicale GET", collection, {"Authorization": f"Basic {auth}"})]
        print(f"{args.procs} processes × {args.requests} requests, keep-alive, loopback\n")
        print(f"{'server':<14} {'answer':<6} {'bytes':>9} {'req/s':>9} {'p50 ms':>8} "
              f"{'p99 ms':>8}")
        for name, url, headers in sides:
            etag, size = head(url, headers)
            for status, extra in ((200, {}), (304, {"If-None-Match": etag})):
                got = load(url, {**headers, **extra}, args.procs, args.requests, status)
                if isinstance(got, int):
                    print(f"{name:<14} {status:<6} (answers {got} to a matching If-None-Match)")
                    continue
                rps, p50, p99 = got
                shown = size if status == 200 else 0
                print(f"{name:<14} {status:<6} {shown:>9} {rps:>9.1f} {p50:>8.2f} {p99:>8.2f}")
        web.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
