"""``calsync clashes``: double bookings, same-audience meetings and non-working days."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Callable

from calsync.access import clash_for_viewer, viewer_of
from calsync.app.service import generation, policy_clashes, stored_busy
from calsync.cli.sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.meetings.clashes import Clash, clash_json, recurrence_id
from calsync.occurrence import TZ, default_horizon
from calsync.policy import PolicySet

KIND_LABELS = {"person": "人员冲突", "room": "会场冲突", "audience": "参会人员重合",
               "non-working-day": "非工作日"}


def register(sub: argparse._SubParsersAction, command: Callable[..., argparse.ArgumentParser],
             ranged: Callable[[argparse.ArgumentParser, int], None]) -> None:
    p = command("clashes", cmd_clashes,
                "list clashes: people or rooms booked twice, same-audience meetings "
                "in one half-day, moves onto non-working days")
    ranged(p, 0)
    add_store_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--as", dest="as_person", metavar="PERSON",
                   help="show what this person may see (a person id); default: clashes "
                        "with confidential meetings without their names")


def cmd_clashes(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    start, end = _horizon(args)
    with store_from(args) as store:
        gen = generation(policies, store, start, end, orgs)
        busy = stored_busy(store, start, end)  # foreign/watched events kept by publish
    for line in gen.warnings:
        print(f"calsync: warning: {line}", file=sys.stderr)
    viewer = viewer_of(policies, args.as_person)
    by_rid = {(o.uid, recurrence_id(o)): o for o in gen.occurrences()}
    clashes = [shown for c in policy_clashes(policies, gen.occurrences(), busy)
               if (shown := clash_for_viewer(viewer, c, by_rid)) is not None]
    if args.format == "json":
        json.dump([clash_json(c) for c in clashes], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(clash_table(clashes, start, end))
    return 0


def _horizon(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    first, last = default_horizon(dt.datetime.now(TZ).date())
    start, end = args.start or first, args.end or last
    if end < start:
        raise UsageError(f"--end {end} is before --start {start} (swap them)")
    if (end - start).days > 366 * 20:
        raise UsageError("the range is longer than 20 years (choose a shorter --end)")
    return start, end


def clash_table(clashes: list[Clash], start: dt.date, end: dt.date) -> str:
    """One block per clash: when, what, who/where, the meetings, the suggestion."""
    if not clashes:
        return f"{start}..{end}: 没有冲突"
    lines = []
    for c in clashes:
        when = f"{c.start.astimezone(TZ):%Y-%m-%d %H:%M}–{c.end.astimezone(TZ):%H:%M}"
        who = c.subject_name or c.subject
        lines.append(f"{when}  {KIND_LABELS.get(c.kind, c.kind)}"
                     + (f"  {who}" if who else "") + f"  [{c.id}]")
        for i in c.items:
            origin = f" (原定 {i.recurrence_id[:16].replace('T', ' ')})" if (
                i.recurrence_id and i.recurrence_id[:16] != i.start.isoformat()[:16]) else ""
            lines.append(f"    {i.start.astimezone(TZ):%m-%d %H:%M} {i.summary}{origin}")
        lines.append(f"    → {c.suggestion}")
    counts = Counter(c.kind for c in clashes)
    total = "，".join(f"{KIND_LABELS[k]} {counts[k]}" for k in KIND_LABELS if counts[k])
    lines.append(f"{start}..{end}: {len(clashes)} 个冲突（{total}）")
    return "\n".join(lines)
