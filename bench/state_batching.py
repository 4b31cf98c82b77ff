"""Store writes of a publish, before and after batching them (issue 14, item 8).

Before: two ORM write transactions per PUT (the write-ahead row, then the final row).
After: one transaction marks a batch of writes pending, one records those that landed
(calsync.sync.apply.BATCH / FLUSH_SECONDS). The same publish runs on the code of a baseline
revision (``git archive``, default ``main``) and on this checkout, each in a fresh process
against a fresh Radicale, on SQLite and on PostgreSQL; printed side by side:

    python bench/state_batching.py [--resources 300] [--baseline main] [--no-postgres]

Figures: wall time of an initial publish of N small events (one PUT each), the time spent
inside store calls, and the number of committed transactions.
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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calsync//bench//EN\r\nBEGIN:VEVENT\r\n"
         "UID:bench-{i}@guanliban.calsync\r\nDTSTAMP:20261101T010000Z\r\n"
         "DTSTART:20260302T013000Z\r\nDTEND:20260302T023000Z\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\n"
         "SUMMARY:例会 {i}\r\nX-CALSYNC-ORG:guanliban\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


class Timed:
    """The store, timing every call (the publish only sees ``store: object``); a repository
    (``store.sync_state``) is wrapped in turn, adding to the same total."""

    def __init__(self, store: object, total: Timed | None = None) -> None:
        self._store = store
        self._total = total or self
        self.seconds = 0.0

    def __getattr__(self, name: str):
        value = getattr(self._store, name)
        if hasattr(value, "_writing") and not callable(value):     # a repository
            return Timed(value, self._total)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self._total.seconds += time.perf_counter() - t0
        return call


def worker(n: int, db_url: str) -> dict[str, float]:
    """One initial publish of ``n`` events into a fresh collection (in this process)."""
    from sqlalchemy import event

    from calsync.ical.resources import Resource
    from calsync.store import open_store
    from calsync.sync.client import Target
    from calsync.sync.publish import CollectionSpec, publish
    from tests.support.servers import start_radicale

    server = start_radicale()
    try:
        url = server.new_calendar_url("batch")
        resources = tuple(Resource("guanliban", f"bench-{i}", f"bench-{i}@guanliban.calsync",
                                   EVENT.format(i=i).encode()) for i in range(n))
        spec = CollectionSpec("bench", "bench", ("guanliban",), resources, url=url)
        with open_store(db_url) as store:
            commits = [0]
            event.listen(store.engine, "commit", lambda _c: commits.__setitem__(0, commits[0] + 1))
            timed = Timed(store)
            t0 = time.perf_counter()
            result = publish([spec], timed, Target(url, server.username, server.password))
            wall = time.perf_counter() - t0
            result.raise_first_error()
            assert result.counts() == {"create": n}, result.counts()
            return {"wall": wall, "store": timed.seconds, "commits": commits[0]}
    finally:
        server.stop()


def _postgres_url() -> str | None:
    try:
        import psycopg
    except ImportError:
        return None
    name = f"calsync_bench_{os.getpid()}"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.Error:
        return None
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _run(src: Path, n: int, db: str) -> dict[str, float]:
    """The worker on the code in ``src`` (a fresh process, that code first on the path)."""
    tmp = Path(tempfile.mkdtemp(prefix="calsync-bench-db-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}" if db == "sqlite" else _postgres_url()
    assert url, "PostgreSQL is not reachable"
    try:
        env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
        code = (f"import json, sys; sys.path.insert(0, {str(src)!r}); "
                f"sys.path.insert(1, {str(ROOT)!r}); from bench.state_batching import worker; "
                f"print(json.dumps(worker({n}, {url!r})))")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=1800, cwd=src)
        if out.returncode:
            raise SystemExit(out.stderr[-3000:])
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if db == "postgresql":
            _drop_postgres(url)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resources", type=int, default=300)
    ap.add_argument("--baseline", default="main", help="git revision of the 'before' code")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="calsync-bench-base-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
    # the worker itself comes from this checkout; only calsync is the baseline's
    (base / "bench").mkdir(exist_ok=True)
    (base / "bench" / "state_batching.py").write_bytes(Path(__file__).read_bytes())
    dbs = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    print(f"initial publish of {args.resources} small events into a fresh Radicale "
          f"collection; before = {args.baseline}, after = this checkout")
    print(f"{'database':<11} {'':<7} {'wall s':>8} {'store s':>8} {'commits':>8} "
          f"{'commits/PUT':>12}")
    for db in dbs:
        rows = [("before", _run(base, args.resources, db)), ("after", _run(ROOT, args.resources,
                                                                            db))]
        for label, r in rows:
            print(f"{db:<11} {label:<7} {r['wall']:>8.2f} {r['store']:>8.2f} "
                  f"{r['commits']:>8.0f} {r['commits'] / args.resources:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
