"""Latency of `calsync serve` at a bureau's size: a synthetic 300-person, 2-organization
directory (bench/synthetic_directory.py), the service with its embedded Radicale, and
20 concurrent clients. Prints, in one run:

- p50/p99 of page and feed requests during the initial publish and at rest (errors, timeouts
  and 503s counted apart), RSS of the whole service (calsync + Radicale);
- a person's feed cold (first render) and warm, the organization feed cold;
- the 304 path against a hello-world Flask 304 under the same waitress (threads=4);
- a warm organization feed against Radicale's GET of the same events (the embedded server's
  collection of that organization).

    python bench/serve_latency.py [--people 300] [--clients 20] [--rest 30] [--during 120]

Asserts nothing; the figures go to the README. Loopback, http.client, one process per client.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_directory import synthetic_policies  # noqa: E402

SECRETARY = "zhou_mishukezhang"
ORGS = ("guanliban", "jiaoyuju")
PASSWORD = "bench-password-1"
TIMEOUT = 30.0


# -- tiny HTTP client ---------------------------------------------------------------------------

def _request(conn: http.client.HTTPConnection, path: str,
             headers: dict[str, str]) -> tuple[int, int]:
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, len(body)


def _client(base: str, plan: list[tuple[str, str, dict[str, str]]], until: float,
            out: mp.Queue) -> None:
    """Cycle through ``plan`` (kind, path, headers) until ``until`` (monotonic)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    rows: list[tuple[str, float, int]] = []
    i = 0
    while time.monotonic() < until:
        kind, path, headers = plan[i % len(plan)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, _ = _request(conn, path, headers)
        except TimeoutError:
            status = -1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        except (OSError, http.client.HTTPException):
            status = -2
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        rows.append((kind, time.perf_counter() - t0, status))
    conn.close()
    out.put(rows)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def mixed_load(base: str, plans: list[list[tuple[str, str, dict[str, str]]]],
               seconds: float, stop: threading.Event | None = None) -> dict[str, dict]:
    """One process per plan for ``seconds``; per kind: count, p50, p99, timeouts, 503s."""
    out: mp.Queue = mp.Queue()
    until = time.monotonic() + seconds
    procs = [mp.Process(target=_client, args=(base, plan, until, out)) for plan in plans]
    for p in procs:
        p.start()
    rows = [r for _ in procs for r in out.get()]
    for p in procs:
        p.join()
    stats: dict[str, dict] = {}
    for kind in sorted({k for k, _, _ in rows}):
        mine = [(t, s) for k, t, s in rows if k == kind]
        ok = [t for t, s in mine if s in (200, 302, 304)]
        stats[kind] = {"n": len(mine), "ok": len(ok), "p50": _pct(ok, 0.5),
                       "p99": _pct(ok, 0.99), "max": max(ok, default=float("nan")),
                       "timeouts": sum(1 for _, s in mine if s == -1),
                       "busy": sum(1 for _, s in mine if s == 503),
                       "errors": sum(1 for _, s in mine if s not in (200, 302, 304, 503, -1))}
    return stats


def rate(url: str, headers: dict[str, str], procs: int, count: int,
         expect: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of ``procs`` × ``count`` keep-alive GETs."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    out: mp.Queue = mp.Queue()

    def work(q: mp.Queue) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
        lat = []
        for _ in range(count):
            t0 = time.perf_counter()
            status, _ = _request(conn, path, headers)
            lat.append(time.perf_counter() - t0)
            if status != expect:
                q.put(("error", status))
                return
        q.put(("ok", lat))
    workers = [mp.Process(target=work, args=(out,)) for _ in range(procs)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    elapsed = time.perf_counter() - t0
    for w in workers:
        w.join()
    lat: list[float] = []
    for kind, value in results:
        if kind != "ok":
            raise SystemExit(f"{url}: HTTP {value}, expected {expect}")
        lat.extend(value)
    return len(lat) / elapsed, _pct(lat, 0.5) * 1000, _pct(lat, 0.99) * 1000


def get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body, resp.headers


def get_ok(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[bytes, Any]:
    """GET until 200 (a 503 says: busy rendering, come back)."""
    for _ in range(600):
        status, body, h = get(base, path, headers)
        if status == 200:
            return body, h
        if status != 503:
            raise SystemExit(f"{path}: HTTP {status}")
        time.sleep(1)
    raise SystemExit(f"{path}: still 503")


def timed_get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[float, int]:
    t0 = time.perf_counter()
    status, body, _ = get(base, path, headers)
    if status != 200:
        raise SystemExit(f"{path}: HTTP {status}")
    return time.perf_counter() - t0, len(body)


# -- the service --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss(pid: int) -> int:
    """RSS in bytes of ``pid`` and every descendant (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            status = (entry / "status").read_text()
        except (OSError, IndexError):
            continue
        children.setdefault(int(stat[1]), []).append(int(entry.name))
        m = re.search(r"VmRSS:\s+(\d+) kB", status)
        rss[int(entry.name)] = int(m.group(1)) * 1024 if m else 0
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, tree_rss(self.pid))


def run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "calsync.cli", *args], input=stdin.encode(),
                          capture_output=True, env=env, timeout=600)
    if done.returncode:
        raise SystemExit((done.stdout + done.stderr).decode())
    return done.stdout.decode()


def login_cookie(base: str) -> str:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    html = resp.read().decode()
    cookie = resp.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    from urllib.parse import urlencode
    body = urlencode({"csrf_token": token, "username": SECRETARY, "password": PASSWORD})
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 302:
        raise SystemExit(f"login failed: HTTP {resp.status}")
    return resp.getheader("Set-Cookie", "").split(";", 1)[0] or cookie


HELLO = """
import logging, sys, waitress
from flask import Flask, Response, request
app = Flask("hello")
ETAG = '"0123456789abcdef"'
@app.route("/feed")
def feed():
    if request.headers.get("If-None-Match") == ETAG:
        return Response(status=304, headers={"ETag": ETAG})
    return Response("hello\\n", headers={"ETag": ETAG})
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4, _quiet=True)
"""


def wait_http(base: str, path: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if get(base, path)[0] in (200, 304):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base}{path} did not answer")


def published(log: Path) -> int:
    text = log.read_text(encoding="utf-8", errors="replace")
    return sum(1 for org in ORGS if re.search(rf"published {org}(:| with)", text))


def fmt(s: dict) -> str:
    return (f"{s['n']:>6} {s['p50'] * 1000:>8.0f} {s['p99'] * 1000:>8.0f} "
            f"{s['max'] * 1000:>8.0f} {s['timeouts']:>8} {s['busy']:>5} {s['errors']:>6}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--during", type=float, default=120.0,
                    help="longest load during the initial publish, seconds")
    ap.add_argument("--rest", type=float, default=30.0, help="load at rest, seconds")
    ap.add_argument("--procs", type=int, default=8, help="clients of the 304 comparison")
    ap.add_argument("--requests", type=int, default=300, help="per client, 304 comparison")
    ap.add_argument("--warm-limit", type=float, default=120.0,
                    help="longest warm-up before the at-rest load, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="calsync-latency-"))
    policies = synthetic_policies(tmp / "policies", args.people)
    inst = tmp / "instance"
    db_url = f"sqlite:///{inst / 'calsync.sqlite3'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CALSYNC_POLICIES": str(policies),
           "CALSYNC_INSTANCE": str(inst), "CALSYNC_DATABASE_URL": db_url}
    env.pop("CALSYNC_CALDAV_URL", None)
    inst.mkdir(parents=True)
    run_cli(["user", "set-password", SECRETARY, "--password-stdin"], env, PASSWORD + "\n")

    from calsync.policy import load_policies
    from calsync.store import open_store
    pol = load_policies(policies)
    people = [(p.id, org.id) for org in pol.organizations.values() for p in org.staff]
    with open_store(db_url) as store:
        tokens = {pid: store.feeds.feed_token(pid, org, actor="bench") for pid, org in people}
    sec_token = tokens[SECRETARY]
    import calsync
    print(f"calsync from {Path(calsync.__file__).parent}; {len(people)} people in "
          f"{len(pol.organizations)} organizations; {os.cpu_count()} CPUs (shared)")

    port, cport = free_port(), free_port()
    log_path = tmp / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "calsync.cli", "serve", "--port", str(port),
                             "--caldav-port", str(cport)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    hello_port = free_port()
    hello = subprocess.Popen([sys.executable, "-c", HELLO, str(hello_port)],
                             stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    sampler = RssSampler(proc.pid)
    sampler.start()
    try:
        t_start = time.monotonic()
        try:
            wait_http(base, "/login", time.monotonic() + 900)
        except SystemExit:
            print(log_path.read_text(encoding="utf-8", errors="replace")[-3000:])
            raise
        print(f"service answers after {time.monotonic() - t_start:.1f} s")
        cookie = {"Cookie": login_cookie(base)}
        pages = [("page", "/meetings", cookie), ("page", "/login", {}),
                 ("page", "/subscriptions", cookie), ("page", "/meetings", cookie),
                 ("page", "/publish", cookie)]
        staff = [pid for pid, _ in people if pid != SECRETARY]

        def plans(offset: int) -> list[list[tuple[str, str, dict[str, str]]]]:
            out = []
            for c in range(args.clients):
                plan = []
                for j in range(10):
                    plan.append(pages[(c + j) % len(pages)])
                    if j % 5 == 4:
                        plan.append(("feed", f"/feeds/{sec_token}/org/{ORGS[0]}.ics", {}))
                    else:
                        who = staff[(offset + c * 10 + j) % len(staff)]
                        plan.append(("feed", f"/feeds/{tokens[who]}/me.ics", {}))
                out.append(plan)
            return out

        print(f"\n{args.clients} clients, half pages (/meetings /subscriptions /publish /login), "
              "half feeds (persons' me.ics, the org feed); latency in ms of answered requests")
        head = (f"{'phase':<22} {'kind':<5} {'n':>6} {'p50':>8} {'p99':>8} {'max':>8} "
                f"{'timeouts':>8} {'503':>5} {'errors':>6}")
        print(head)
        during_start = time.monotonic()
        during = mixed_load(base, plans(0), args.during)
        done_orgs = published(log_path)
        for kind, s in during.items():
            print(f"{'during publish':<22} {kind:<5} {fmt(s)}")
        print(f"  (publish of {len(ORGS)} organizations: {done_orgs} finished within the "
              f"{time.monotonic() - during_start:.0f} s of load)")
        deadline = time.monotonic() + 900
        while published(log_path) < len(ORGS) and time.monotonic() < deadline:
            time.sleep(1)
        publish_s = time.monotonic() - t_start
        print(f"  initial publish finished {publish_s:.0f} s after start")
        t0 = time.monotonic()
        warm = sorted({path for plan in plans(7) for kind, path, _ in plan if kind == "feed"})
        fetched = 0
        for path in warm:
            if time.monotonic() - t0 > args.warm_limit:
                break
            get_ok(base, path)
            fetched += 1
        print(f"  then {fetched} of {len(warm)} feeds fetched once, one after another, in "
              f"{time.monotonic() - t0:.1f} s (subscribers' first fetch after the publish; "
              f"stops after {args.warm_limit:.0f} s)")
        rest = mixed_load(base, plans(7), args.rest)
        for kind, s in rest.items():
            print(f"{'at rest':<22} {kind:<5} {fmt(s)}")
        print(f"RSS of the service (calsync + Radicale), peak so far: "
              f"{sampler.peak / 2**20:.0f} MB")

        # cold and warm single feeds (inputs built: what a newly subscribed person costs)
        fresh = [pid for pid in staff if pid.startswith("synth_guanliban")][-3:]
        colds = [timed_get(base, f"/feeds/{tokens[p]}/me.ics") for p in fresh]
        warms = [timed_get(base, f"/feeds/{tokens[p]}/me.ics")[0] for p in fresh for _ in range(3)]
        print(f"\na person's feed: cold {statistics.median(t for t, _ in colds) * 1000:.0f} ms, "
              f"warm {statistics.median(warms) * 1000:.1f} ms "
              f"({statistics.median(n for _, n in colds) / 1024:.0f} KB)")
        org_cold, org_n = timed_get(base, f"/feeds/{tokens['zhang_zhuren']}/org/{ORGS[0]}.ics")
        org_all, all_n = timed_get(base, f"/feeds/{tokens['wang_fuzhuren']}/org/{ORGS[0]}.ics"
                                         "?all=1")
        print(f"org feed cold: default {org_cold:.2f} s ({org_n / 2**20:.2f} MB); "
              f"?all=1 {org_all:.2f} s ({all_n / 2**20:.2f} MB)")

        # the 304 path vs hello-world Flask under the same waitress
        wait_http(f"http://127.0.0.1:{hello_port}", "/feed", time.monotonic() + 60)
        feed_path = f"/feeds/{tokens[staff[0]]}/me.ics"
        _, h = get_ok(base, feed_path)
        ours = rate(base + feed_path, {"If-None-Match": h["ETag"]}, args.procs,
                    args.requests, 304)
        theirs = rate(f"http://127.0.0.1:{hello_port}/feed",
                      {"If-None-Match": '"0123456789abcdef"'}, args.procs, args.requests, 304)
        print(f"\n304 path, {args.procs} clients × {args.requests}, waitress threads=4")
        print(f"{'server':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        print(f"{'calsync feed 304':<28} {ours[0]:>8.0f} {ours[1]:>8.2f} {ours[2]:>8.2f}")
        print(f"{'hello-world Flask 304':<28} {theirs[0]:>8.0f} {theirs[1]:>8.2f} "
              f"{theirs[2]:>8.2f}")
        print(f"ratio: {ours[0] / theirs[0]:.2f}× (target ≥ 0.8×)")

        # warm feed vs Radicale's GET of the same events
        from calsync.caldav_server.auth import PASSWORD_FILE, SERVICE_USER
        from calsync.caldav_server.process import COLLECTION_ROOT
        secret = (inst / "caldav" / PASSWORD_FILE).read_text(encoding="utf-8").strip()
        auth = base64.b64encode(f"{SERVICE_USER}:{secret}".encode()).decode()
        cal_base = f"http://127.0.0.1:{cport}"
        cal_path = f"/{COLLECTION_ROOT}/{ORGS[0]}/"
        gz = {"Accept-Encoding": "gzip"}      # what calendar apps send, to both servers
        rad_headers = {"Authorization": f"Basic {auth}", **gz}
        rstatus, rbody, _ = get(cal_base, cal_path, rad_headers)
        fpath = f"/feeds/{sec_token}/org/{ORGS[0]}.ics?all=1"
        fbody, _ = get_ok(base, fpath, gz)
        n = max(5, args.requests // 10)
        feed_rate = rate(base + fpath, gz, 4, n, 200)
        rad_rate = rate(cal_base + cal_path, rad_headers, 4, n, rstatus)
        print(f"\nwarm org feed (?all=1) vs Radicale GET of the collection, 4 clients × {n}, "
              "Accept-Encoding: gzip (bytes on the wire)")
        print(f"{'server':<28} {'bytes':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        print(f"{'calsync org feed':<28} {len(fbody):>9} {feed_rate[0]:>8.1f} "
              f"{feed_rate[1]:>8.1f} {feed_rate[2]:>8.1f}")
        print(f"{'Radicale GET':<28} {len(rbody):>9} {rad_rate[0]:>8.1f} {rad_rate[1]:>8.1f} "
              f"{rad_rate[2]:>8.1f}")
        print(f"ratio: {feed_rate[0] / rad_rate[0]:.1f}× (target ≥ 10×)")
        print(f"\nRSS of the service (calsync + Radicale), peak: {sampler.peak / 2**20:.0f} MB, "
              f"now {tree_rss(proc.pid) / 2**20:.0f} MB")
    finally:
        sampler.stop.set()
        for p in (proc, hello):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGINT if p is proc else signal.SIGTERM)
                try:
                    p.wait(90)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        log.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
