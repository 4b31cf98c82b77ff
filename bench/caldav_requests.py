"""Requests of an initial and a no-op publish, before and after the confidentiality layout.

*Before*: one collection per organization holding every resource (confidential ones in full,
as calsync published until the access rule reached CalDAV). *After*: calsync.sync.layouts —
the organization's collection with busy blocks, plus one collection per set of readers of
confidential meetings. Same Radicale, same run; the shipped policies and a synthetic
300-person directory, each with approved confidential requests (a 党组会议 and a 局党委会
per month, each for a few leaders).

    python bench/caldav_requests.py [--people 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.synthetic_directory import synthetic_policies  # noqa: E402
from calsync.app.service import build, collections  # noqa: E402
from calsync.policy import load_policies, shipped_policies  # noqa: E402
from calsync.store import open_store  # noqa: E402
from calsync.sync.client import Target  # noqa: E402
from calsync.sync.publish import CollectionSpec, publish  # noqa: E402
from tests.support.servers import start_radicale  # noqa: E402

START, END = dt.date(2026, 1, 1), dt.date(2027, 12, 31)
CONFIDENTIAL = {"guanliban": ("zonghe", "dangzu", ["wang_fuzhuren", "li_fuzhuren"]),
                "jiaoyuju": ("bangongshi", "dangwei", ["song_fujuzhang"])}


def _requests(store) -> None:
    for org, (section, category, audience) in CONFIDENTIAL.items():
        for month in range(1, 13):
            day = 16 if org == "jiaoyuju" else 15
            start = f"2026-{month:02d}-{day}T15:00:00+08:00"
            req = store.requests.add_request(org, section_id=section, category=category,
                                             title=f"第{month}次研究事项", audience=audience,
                                             start=start,
                                             end=start.replace("T15:", "T17:"), room=None,
                                             important=False, approver_id=None, actor="bench")
            store.requests.decide_request(req.id, True, actor="bench", expected_version=req.version)


def run(label: str, policies_dir: Path, server, work: Path) -> list[tuple]:
    policies = load_policies(policies_dir)
    orgs = sorted(policies.organizations)
    rows = []
    for layout in ("before", "after"):
        db = f"sqlite:///{work / f'{label}-{layout}.sqlite3'}"
        with open_store(db) as store:
            _requests(store)
            built = build(policies, store, START, END, orgs)
            home = server.calendar_home_url  # collections right below it, unique slugs
            if layout == "before":
                specs = [CollectionSpec(f"{label}-before-{o}", o, (o,),
                                        tuple(r for r in built.resources if r.organization == o))
                         for o in orgs]
            else:
                specs = [CollectionSpec(f"{label}-after-{s.slug}", s.display_name,
                                        s.organizations, s.resources, readers=s.readers)
                         for s in collections(policies, built, orgs, "org")]
            target = Target(url=home, username=server.username, password=server.password,
                            server_kind=server.kind)
            for step in ("initial", "no-op"):
                t0 = time.perf_counter()
                result = publish(specs, store, target)
                result.raise_first_error()
                seconds = time.perf_counter() - t0
                size = sum(len(r.ics) for s in specs for r in s.resources)
                rows.append((label, layout, step, len(specs),
                             sum(len(s.resources) for s in specs), result.requests,
                             seconds, size))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--people", type=int, default=300)
    args = p.parse_args()
    server = start_radicale()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            rows = run("shipped", shipped_policies(), server, work)
            big = synthetic_policies(work / "synthetic", args.people)
            rows += run(f"people{args.people}", big, server, work)
    finally:
        server.stop()
    print("| data set | layout | step | collections | resources | requests | s | bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]:.2f} | {r[7]:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
