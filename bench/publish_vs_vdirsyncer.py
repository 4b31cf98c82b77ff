"""Publishing side by side: calsync vs vdirsyncer, same Radicale, same .ics files, same run.

For two data sets — the shipped policies (this year and next) and 500 synthetic resources —
it times the initial publish, the no-op publish and the publish after one change, and counts
HTTP requests through a counting loopback proxy. Both tools run as subprocesses, so each pays
its own interpreter start-up. Prints a table; asserts nothing.

    python bench/publish_vs_vdirsyncer.py [--synthetic 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calsync.policy import load_policies  # noqa: E402
from calsync.service import build  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402
from tests.support.servers import ServerHandle, start_radicale  # noqa: E402

PUBLISH_DIR = Path(__file__).with_name("publish_dir.py")


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


def run_set(label: str, files: dict[str, bytes], server: ServerHandle, proxy: FaultProxy,
            work: Path, repeat: int) -> list[tuple[str, str, float, int, float, int]]:
    rows: dict[str, list[tuple[float, int, float, int]]] = {}
    for rnd in range(repeat):
        base = work / f"{label}-{rnd}"
        vdir_c, vdir_v = base / "calsync-src", base / "vdir"
        write_vdir(vdir_c, files)
        write_vdir(vdir_v, files)
        # calsync creates its own collection (its MKCALENDAR is counted); vdirsyncer syncs
        # into one made beforehand.
        coll_c = proxy.proxied(server.new_calendar_url("calsync"))
        coll_v = proxy.proxied(server.mkcalendar(displayname="v"))
        db = f"sqlite:///{base / 'store.sqlite3'}"
        cal_argv = [sys.executable, str(PUBLISH_DIR), str(vdir_c), coll_c, db,
                    server.username or "", server.password or ""]
        cfg = vdirsyncer_config(base, vdir_v, coll_v, server)
        vds = ["vdirsyncer", "-c", str(cfg)]
        subprocess.run([*vds, "discover"], capture_output=True, check=True)

        steps = []
        steps.append(("initial", timed(cal_argv, proxy), timed([*vds, "sync"], proxy)))
        steps.append(("no-op", timed(cal_argv, proxy), timed([*vds, "sync"], proxy)))
        first = sorted(files)[0]
        for folder in (vdir_c, vdir_v):
            path = folder / first
            path.write_bytes(path.read_bytes().replace(b"SUMMARY:", b"SUMMARY:changed ", 1))
        steps.append(("one change", timed(cal_argv, proxy), timed([*vds, "sync"], proxy)))
        for name, (ct, cr), (vt, vr) in steps:
            rows.setdefault(name, []).append((ct, cr, vt, vr))
    out = []
    for name, samples in rows.items():
        med = [statistics.median(s[i] for s in samples) for i in range(4)]
        out.append((label, name, med[0], int(med[1]), med[2], int(med[3])))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3, help="runs per data set (median shown)")
    args = ap.parse_args()
    if not shutil.which("vdirsyncer"):
        raise SystemExit("vdirsyncer is not installed: pip install vdirsyncer")
    work = Path(tempfile.mkdtemp(prefix="calsync-bench-"))
    server = start_radicale()
    proxy = FaultProxy(server.url).start()
    try:
        rows = run_set("shipped", shipped_files(), server, proxy, work, args.repeat)
        rows += run_set(f"synthetic-{args.synthetic}", synthetic_files(args.synthetic), server,
                        proxy, work, args.repeat)
    finally:
        proxy.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Radicale, one collection per tool, median of {args.repeat} runs, wall time incl. "
          f"interpreter start-up")
    head = (f"{'data set':<16} {'step':<11} {'calsync s':>9} {'req':>5} "
            f"{'vdirsyncer s':>12} {'req':>5} {'time ratio':>10}")
    print(head)
    print("-" * len(head))
    for label, name, ct, cr, vt, vr in rows:
        print(f"{label:<16} {name:<11} {ct:>9.2f} {cr:>5} {vt:>12.2f} {vr:>5} {ct / vt:>10.2f}")


if __name__ == "__main__":
    main()
