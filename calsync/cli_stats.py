"""``calsync stats``: meetings each section held, per month and per semester (篇二 二.3)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import unicodedata
from collections.abc import Callable

from calsync.cli_sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.occurrence import TZ
from calsync.policy import PolicySet
from calsync.service import generation
from calsync.stats import Stats, section_counts, window
from calsync.store import Store


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command("stats", cmd_stats,
                "count the meetings each section held, per month and per semester "
                "(approved meeting requests and per-section meetings; cancelled ones excluded)")
    p.add_argument("--start", type=_date, help="first day, YYYY-MM-DD "
                   "(default: 1 January of --end's year, or of this year)")
    p.add_argument("--end", type=_date, help="last day, YYYY-MM-DD "
                   "(default: 31 December of --start's year)")
    p.add_argument("--org", action="append", metavar="ID",
                   help="only this organization (repeatable; default: all)")
    add_store_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def stats_range(start: dt.date | None, end: dt.date | None,
                today: dt.date) -> tuple[dt.date, dt.date]:
    """Defaults to one calendar year: --start's, --end's, or this one."""
    year = (start or end or today).year
    start = start or dt.date(year, 1, 1)
    end = end or dt.date(start.year, 12, 31)
    if end < start:
        raise UsageError(f"--end {end} is before --start {start} (swap them)")
    if (end - start).days > 366 * 20:
        raise UsageError("the range is longer than 20 years (choose a shorter --end)")
    return start, end


def org_stats(policies: PolicySet, store: Store | None, org_id: str, start: dt.date, end: dt.date,
              warn: Callable[[str], None] | None = None) -> Stats:
    """Build the organization's occurrences (store inputs applied) over the range widened to
    whole semesters, and count them."""
    org = policies.organizations[org_id]
    first, last = window(org, start, end)
    gen = generation(policies, store, first, last, [org_id])
    for line in gen.warnings:
        if warn is not None:
            warn(line)
    requests = store.meeting_requests(org_id, status="approved") if store is not None else []
    return section_counts(org, gen.occurrences(), requests, start=start, end=end)


def cmd_stats(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    start, end = stats_range(args.start, args.end, dt.datetime.now(TZ).date())
    with store_from(args) as store:
        found = [org_stats(policies, store, o, start, end,
                           lambda line: print(f"calsync: warning: {line}", file=sys.stderr))
                 for o in orgs]
    if args.format == "json":
        json.dump([s.to_json() for s in found], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n\n".join(stats_table(s) for s in found))
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0] + " " * (widths[0] - _width(cells[0]))
        rest = (" " * (w - _width(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()
    return [line(header), *(line(r) for r in rows)]


def stats_table(s: Stats) -> str:
    """Sections × months (and total), then sections × semesters."""
    one_year = len({m[:4] for m in s.months}) <= 1
    labels = [f"{int(m[5:])}月" if one_year else m for m in s.months]
    period = f"{s.start}..{s.end}" if s.start and s.end else ""
    lines = [f"{s.name} {period} 各股室召开会议次数（篇二 二.3）"]
    rows = [[r.section_name, *map(str, r.months), str(r.total)] for r in s.rows]
    rows.append(["合计", *map(str, s.month_totals), str(s.total)])
    lines += _table(["股室", *labels, "合计"], rows)
    if s.semesters:
        lines.append("")
        rows = [[r.section_name, *map(str, r.semesters)] for r in s.rows]
        rows.append(["合计", *map(str, s.semester_totals)])
        lines += _table(["股室", *(x.name for x in s.semesters)], rows)
        lines.append("；".join(f"{x.name}：{x.start}至{x.end}" for x in s.semesters))
    return "\n".join(lines)
