"""Publishing side by side: calsync vs vdirsyncer, same Radicale, same .ics files, same run.

For two data sets — the shipped policies (this year and next) and 500 synthetic resources —
it times the initial publish, the no-op publish and the publish after one change, and counts
HTTP requests through a counting loopback proxy. Both tools run as subprocesses, so each pays
its own interpreter start-up. On those sets calsync's side publishes the same folder of files
through its engine (bench/publish_dir.py). The set "shipped-cli" runs the command itself,
`calsync publish --org guanliban` with the shipped policies and a store of its own, cold:
policies to calendars, its collections (the organization's and the confidential ones) and
its no-op witness, against vdirsyncer pushing the same events as files into one collection;
its "one change" renames a room in a copy of the policies. Prints a table; asserts nothing.

    python bench/publish_vs_vdirsyncer.py [--synthetic 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import niquests
import radicale
import vdirsyncer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calsync.app.service import build  # noqa: E402
from calsync.policy import load_policies  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.servers import DEFAULT_USERS, ServerHandle, start_radicale  # noqa: E402

PUBLISH_DIR = Path(__file__).with_name("publish_dir.py")
WARM_DRIVER = Path(__file__).with_name("warm_driver.py")
CLI_PASSWORD = "bench-cli"


def shipped_files() -> dict[str, bytes]:
    policies = load_policies()
    built = build(policies, None, dt.date(2026, 1, 1), dt.date(2027, 12, 31), ["guanliban"])
    return {f"{r.name}.ics": r.ics for r in built.resources}


def synthetic_files(n: int) -> dict[str, bytes]:
    """``n`` distinct series, cloned from the real 主任办公会 resource with new UIDs."""
    template = shipped_files()["zhurenbangong.ics"]
    out = {}
    for i in range(n):
        body = template.replace(b"zhurenbangong@guanliban.calsync",
                                f"bench-{i:04d}@guanliban.calsync".encode())
        out[f"bench-{i:04d}.ics"] = body.replace(b"SUMMARY:", f"SUMMARY:{i:04d} ".encode(), 1)
    return out


def write_vdir(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)


def vdirsyncer_config(work: Path, vdir: Path, url: str, server: ServerHandle) -> Path:
    cfg = work / "vdirsyncer.conf"
    cfg.write_text(f"""[general]
status_path = "{work / 'status'}/"

[pair bench]
a = "bench_local"
b = "bench_remote"
collections = null
conflict_resolution = "a wins"

[storage bench_local]
type = "filesystem"
path = "{vdir}/"
fileext = ".ics"

[storage bench_remote]
type = "caldav"
url = "{url}"
username = "{server.username}"
password = "{server.password}"
""", encoding="utf-8")
    return cfg


def timed(argv: list[str], proxy: FaultProxy) -> tuple[float, int]:
    proxy.reset_counts()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, sum(proxy.counts.values())


class Warm:
    """A ``warm_driver.py`` process: publishes timed inside one long-lived interpreter."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(WARM_DRIVER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def timed(self, words: list[str], proxy: FaultProxy) -> tuple[float, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        proxy.reset_counts()
        self.proc.stdin.write(" ".join(shlex.quote(w) for w in words) + "\n")
        self.proc.stdin.flush()
        while True:  # a tool may print on stdout too: the answer is the first number
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit("warm driver died")
            if line.strip() == "error":
                raise SystemExit(f"warm {words[0]} failed (traceback above)")
            try:
                return float(line), sum(proxy.counts.values())
            except ValueError:
                continue

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def floor(files: dict[str, bytes], server: ServerHandle) -> tuple[float, float]:
    """What any client must wait for: the same PUTs sent one by one by a bare HTTP client
    (keep-alive, no parsing, no bookkeeping), and one sync-collection REPORT on the result."""
    url = server.mkcalendar(displayname="floor")
    session = niquests.Session()
    session.auth = server.auth
    t0 = time.perf_counter()
    for name, body in files.items():
        r = session.put(url + name, data=body, headers={
            "If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"})
        r.raise_for_status()
    puts = time.perf_counter() - t0
    ask = ('<propfind xmlns="DAV:"><prop><sync-token/></prop></propfind>')
    r = session.request("PROPFIND", url, data=ask, headers={"Depth": "0"})
    token = re.search(r"<[^>]*sync-token>([^<]+)<", r.text)
    assert token, r.text
    report = ('<sync-collection xmlns="DAV:"><sync-token>' + token.group(1) +
              '</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>')
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        session.request("REPORT", url, data=report, headers={"Depth": "0"}).raise_for_status()
        best = min(best, time.perf_counter() - t0)
    session.close()
    return puts, best


STEPS = ("initial", "no-op", "one change")
CLI_USERS = 8       # Radicale accounts for the CLI set: each round publishes into a new home


def calsync_command() -> list[str]:
    found = shutil.which("calsync")
    return [found] if found else [sys.executable, "-m", "calsync.cli"]


def run_cli_set(files: dict[str, bytes], server: ServerHandle, proxy: FaultProxy, work: Path,
                repeat: int) -> list[Row]:
    """`calsync publish` (the command, shipped policies) against vdirsyncer, cold."""
    from calsync.policy import shipped_policies

    samples: dict[str, list[tuple[float, int, float, int]]] = {}
    for rnd in range(repeat):
        base = work / f"cli-{rnd}"
        policies = base / "policies"
        shutil.copytree(shipped_policies(), policies)
        vdir = base / "vdir"
        write_vdir(vdir, files)
        user = f"cli{rnd}"
        home = proxy.proxied(f"{server.url}{user}/")
        coll_v = proxy.proxied(server.mkcalendar(displayname="v"))
        cfg = vdirsyncer_config(base, vdir, coll_v, server)
        vds = ["vdirsyncer", "-c", str(cfg)]
        subprocess.run([*vds, "discover"], capture_output=True, check=True)
        cal = functools.partial(timed, [
            *calsync_command(), "publish", "--org", "guanliban", "--start", "2026-01-01",
            "--end", "2027-12-31", "--policies", str(policies), "--caldav-url", home,
            "--username", user, "--password", CLI_PASSWORD,
            "--database-url", f"sqlite:///{base / 'store.sqlite3'}",
            "--instance", str(base / "instance")], proxy)
        for step in STEPS:
            if step == "one change":
                rooms = policies / "guanliban" / "directory.toml"
                rooms.write_text(rooms.read_text(encoding="utf-8").replace(
                    '"大会议室"', '"大会议室（东楼）"', 1), encoding="utf-8")
                path = vdir / sorted(files)[0]
                path.write_bytes(path.read_bytes().replace(b"SUMMARY:", b"SUMMARY:changed ", 1))
            samples.setdefault(step, []).append((*cal(), *timed([*vds, "sync"], proxy)))
    rows: list[Row] = []
    for step, got in samples.items():
        med = [statistics.median(s[i] for s in got) for i in range(4)]
        rows.append(("shipped-cli", "cold", step, med[0], int(med[1]), med[2], int(med[3])))
    return rows
Row = tuple[str, str, str, float, int, float, int]


def run_set(label: str, files: dict[str, bytes], server: ServerHandle, proxy: FaultProxy,
            work: Path, repeat: int) -> tuple[list[Row], tuple[float, float]]:
    samples: dict[tuple[str, str], list[tuple[float, int, float, int]]] = {}
    floors = []
    for rnd in range(repeat):
        for mode in ("cold", "warm"):
            base = work / f"{label}-{rnd}-{mode}"
            vdir_c, vdir_v = base / "calsync-src", base / "vdir"
            write_vdir(vdir_c, files)
            write_vdir(vdir_v, files)
            # calsync creates its own collection (its MKCALENDAR is counted); vdirsyncer syncs
            # into one made beforehand.
            coll_c = proxy.proxied(server.new_calendar_url("calsync"))
            coll_v = proxy.proxied(server.mkcalendar(displayname="v"))
            db = f"sqlite:///{base / 'store.sqlite3'}"
            cal_args = [str(vdir_c), coll_c, db, server.username or "", server.password or ""]
            cfg = vdirsyncer_config(base, vdir_v, coll_v, server)
            vds = ["vdirsyncer", "-c", str(cfg)]
            subprocess.run([*vds, "discover"], capture_output=True, check=True)
            drivers = [Warm(), Warm()] if mode == "warm" else []
            if drivers:
                cal = functools.partial(drivers[0].timed, ["calsync", *cal_args], proxy)
                vds_sync = functools.partial(drivers[1].timed, ["vdirsyncer", str(cfg)], proxy)
            else:
                cal = functools.partial(timed, [sys.executable, str(PUBLISH_DIR), *cal_args],
                                        proxy)
                vds_sync = functools.partial(timed, [*vds, "sync"], proxy)
            try:
                for step in STEPS:
                    if step == "one change":
                        first = sorted(files)[0]
                        for folder in (vdir_c, vdir_v):
                            path = folder / first
                            path.write_bytes(path.read_bytes().replace(
                                b"SUMMARY:", b"SUMMARY:changed ", 1))
                    samples.setdefault((mode, step), []).append((*cal(), *vds_sync()))
            finally:
                for d in drivers:
                    d.close()
        floors.append(floor(files, server))
    rows: list[Row] = []
    for (mode, step), got in samples.items():
        med = [statistics.median(s[i] for s in got) for i in range(4)]
        rows.append((label, mode, step, med[0], int(med[1]), med[2], int(med[3])))
    fl = (statistics.median(f[0] for f in floors), statistics.median(f[1] for f in floors))
    return rows, fl


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3, help="runs per data set (median shown)")
    args = ap.parse_args()
    if not shutil.which("vdirsyncer"):
        raise SystemExit("vdirsyncer is not installed: pip install vdirsyncer")
    if args.repeat > CLI_USERS:
        raise SystemExit(f"--repeat is at most {CLI_USERS}")
    work = Path(tempfile.mkdtemp(prefix="calsync-bench-"))
    users = {**DEFAULT_USERS, **{f"cli{i}": CLI_PASSWORD for i in range(CLI_USERS)}}
    server = start_radicale(users=users)
    proxy = FaultProxy(server.url).start()
    sets = [("shipped", shipped_files()),
            (f"synthetic-{args.synthetic}", synthetic_files(args.synthetic))]
    results = []
    try:
        for label, files in sets:
            rows, fl = run_set(label, files, server, proxy, work, args.repeat)
            results.append((label, len(files), rows, fl))
        cli_rows = run_cli_set(sets[0][1], server, proxy, work, args.repeat)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Radicale {radicale.VERSION}, vdirsyncer {vdirsyncer.__version__}; one collection "
          f"per tool and mode; median of {args.repeat} runs.")
    print("cold: each publish is a new process (wall time incl. interpreter start-up); "
          "warm: publishes timed inside one running process.")
    head = (f"{'data set':<16} {'mode':<5} {'step':<11} {'calsync s':>9} {'req':>5} "
            f"{'vdirsyncer s':>12} {'req':>5} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    for rows in [r[2] for r in results] + [cli_rows]:
        for lab, mode, step, ct, cr, vt, vr in rows:
            print(f"{lab:<16} {mode:<5} {step:<11} {ct:>9.3f} {cr:>5} {vt:>12.3f} {vr:>5} "
                  f"{ct / vt:>6.2f}")
    print()
    print("Server floor (bare HTTP client, same files, same Radicale, no proxy):")
    for label, n, _rows, (puts, report) in results:
        print(f"{label:<16} {n} sequential PUTs {puts:.3f} s; one no-change sync REPORT "
              f"{report * 1000:.1f} ms")


if __name__ == "__main__":
    main()
