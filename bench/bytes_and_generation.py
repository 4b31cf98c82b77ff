"""Bytes per series-year and generation time at a bureau's size, before and after, in one run.

    python bench/bytes_and_generation.py [--baseline REV] [--people 300] [--years 10]

Each figure is measured in a fresh child process, once with the code of ``--baseline`` (a git
revision, extracted with ``git archive``; default: the merge base with ``main``) and once with
this working tree, and printed side by side. Figures:

- shipped policies, 2026 and 2026–2027: bytes of all resources, RECURRENCE-ID overrides, the
  周例会 resource;
- a synthetic directory (bench/synthetic_directory.py) of ``--people`` per organization, 2026:
  bytes per series-year (mean and max over recurring series) and the 周例会;
- ``--years`` years × both organizations × ``--people``: generate() time, render time (every
  resource + the combined ``<org>.ics``, as ``calsync generate`` writes them), written bytes,
  peak RSS of the child.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(tree: Path, policies: Path, synth: Path, task: str, years: int) -> dict:
    """Runs inside the child: ``tree`` is first on sys.path."""
    import datetime as dt
    import resource

    from calsync.meetings.generate import generate
    from calsync.policy import load_policies

    def rendered(policy_dir: Path, start: dt.date, end: dt.date) -> dict:
        from calsync.ical import render
        pol = load_policies(policy_dir)
        gen = generate(pol, start, end)
        out: dict[str, object] = {"series": 0, "bytes": 0, "overrides": 0, "per_series": []}
        for s in gen.series:
            stamp = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
            # a series is one resource, or (since the duty-leader parts) one per part: its
            # bytes are all of them, each with its own VCALENDAR head
            if hasattr(render, "render_resources"):
                ics = b"".join(r.ics for r in render.render_resources(s, stamp))
            else:
                ics = render.render_series(s, stamp).ics
            out["bytes"] += len(ics)
            out["series"] += 1
            out["overrides"] += ics.count(b"RECURRENCE-ID")
            if s.id == "zhoulihui" and s.organization == "guanliban":
                out["zhoulihui"] = len(ics)
            if s.rule is not None:
                out["per_series"].append(len(ics))
        return out

    if task == "shipped-1y":
        return rendered(policies, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    if task == "shipped-2y":
        return rendered(policies, dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    if task == "synth-1y":
        return rendered(synth, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    if task == "synth-10y":
        from calsync.ical.export import write_ics
        c0 = time.process_time()
        pol = load_policies(synth)
        start, end = dt.date(2026, 1, 1), dt.date(2026 + years - 1, 12, 31)
        t0, c1 = time.perf_counter(), time.process_time()
        gen = generate(pol, start, end)
        t1, c2 = time.perf_counter(), time.process_time()
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_ics(pol, gen, Path(tmp), sorted(pol.organizations))
            t2, c3 = time.perf_counter(), time.process_time()
            size = sum(p.stat().st_size for p in paths)
        occs = sum(len(s.occurrences) for s in gen.series)
        return {"generate_s": t1 - t0, "write_s": t2 - t1, "written": size,
                "load_cpu": c1 - c0, "generate_cpu": c2 - c1, "write_cpu": c3 - c2,
                "series": len(gen.series), "occurrences": occs,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    raise SystemExit(f"unknown task {task}")


def run(tree: Path, policies: Path, synth: Path, task: str, years: int) -> dict:
    code = ("import sys, json, pathlib; sys.path.insert(0, sys.argv[1]);"
            "sys.path.insert(1, sys.argv[2]);"
            "from bytes_and_generation import child;"
            "P = pathlib.Path;"
            "print(json.dumps(child(P(sys.argv[1]), P(sys.argv[3]), P(sys.argv[4]),"
            " sys.argv[5], int(sys.argv[6]))))")
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", code, str(tree), str(ROOT / "bench"),
                           str(policies), str(synth), task, str(years)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _kb(n: float) -> str:
    return f"{n / 1024:,.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MB"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", default="")
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--years", type=int, default=10)
    p.add_argument("--skip-baseline-10y", action="store_true",
                   help="the baseline's ten years take about a minute: skip them")
    args = p.parse_args()
    rev = args.baseline or subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
                                          capture_output=True, text=True,
                                          check=True).stdout.strip()
    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic_directory import synthetic_policies

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        subprocess.run(f"git -C {ROOT} archive {rev} | tar -x -C {base}", shell=True,
                       check=True)
        synth = synthetic_policies(Path(tmp) / "synth", args.people)
        trees = {"before": base, "after": ROOT}
        rows: list[tuple[str, str, str]] = []
        res = {k: {} for k in trees}
        for name, tree in trees.items():
            for task in ("shipped-1y", "shipped-2y", "synth-1y", "synth-10y"):
                if task == "synth-10y" and name == "before" and args.skip_baseline_10y:
                    continue
                res[name][task] = run(tree, tree / "policies", synth, task, args.years)

        def row(label: str, get) -> None:
            vals = []
            for name in trees:
                try:
                    vals.append(get(res[name]))
                except KeyError:
                    vals.append("(skipped)")
            rows.append((label, *vals))

        row("shipped 2026: all resources", lambda r: _kb(r["shipped-1y"]["bytes"]))
        row("shipped 2026: overrides", lambda r: str(r["shipped-1y"]["overrides"]))
        row("shipped 2026: 周例会", lambda r: _kb(r["shipped-1y"]["zhoulihui"]))
        row("shipped 2026-27: all resources", lambda r: _kb(r["shipped-2y"]["bytes"]))
        row("shipped 2026-27: overrides", lambda r: str(r["shipped-2y"]["overrides"]))
        row("shipped 2026-27: 周例会", lambda r: _kb(r["shipped-2y"]["zhoulihui"]))
        n = args.people
        row(f"{n} people 2026: all resources", lambda r: _kb(r["synth-1y"]["bytes"]))
        row(f"{n} people 2026: series-year mean",
            lambda r: _kb(sum(r["synth-1y"]["per_series"]) / len(r["synth-1y"]["per_series"])))
        row(f"{n} people 2026: series-year max", lambda r: _kb(max(r["synth-1y"]["per_series"])))
        row(f"{n} people 2026: 周例会", lambda r: _kb(r["synth-1y"]["zhoulihui"]))
        y = args.years
        row(f"{y}y x 2 orgs x {n}: series/occurrences",
            lambda r: f"{r['synth-10y']['series']}/{r['synth-10y']['occurrences']}")
        row(f"{y}y x 2 orgs x {n}: load policies, CPU",
            lambda r: f"{r['synth-10y']['load_cpu']:.2f} s")
        row(f"{y}y x 2 orgs x {n}: generate(), CPU",
            lambda r: f"{r['synth-10y']['generate_cpu']:.2f} s")
        row(f"{y}y x 2 orgs x {n}: generate(), wall",
            lambda r: f"{r['synth-10y']['generate_s']:.2f} s")
        row(f"{y}y x 2 orgs x {n}: render + write, CPU",
            lambda r: f"{r['synth-10y']['write_cpu']:.2f} s")
        row(f"{y}y x 2 orgs x {n}: render + write, wall",
            lambda r: f"{r['synth-10y']['write_s']:.2f} s")
        row(f"{y}y x 2 orgs x {n}: written", lambda r: _kb(r["synth-10y"]["written"]))
        row(f"{y}y x 2 orgs x {n}: peak RSS", lambda r: f"{r['synth-10y']['rss_mb']:.0f} MB")
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'before (' + rev[:7] + ')':>18}  {'after':>14}")
    for label, before, after in rows:
        print(f"{label:{width}}  {before:>18}  {after:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
