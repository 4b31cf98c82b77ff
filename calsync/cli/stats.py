"""``calsync stats``: meetings each section held (and had scheduled), per month and per
semester or half-year (篇二 二.3, 篇一 四.4), and ``calsync week``: the weekly schedule sheet."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from calsync.access import OPERATOR, viewer_of
from calsync.app.held_inputs import org_held, org_sheet
from calsync.cli import add_viewer_option, parse_date
from calsync.cli.sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.meetings import held_report, weekly
from calsync.occurrence import TZ
from calsync.policy import PolicySet


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command("stats", cmd_stats,
                "count the meetings each section held and had scheduled, per month and per "
                "semester (half-year without semesters); cancelled and merged-away ones are "
                "never held")
    p.add_argument("--start", type=parse_date, help="first day, YYYY-MM-DD "
                   "(default: 1 January of --end's year, or of this year)")
    p.add_argument("--end", type=parse_date, help="last day, YYYY-MM-DD "
                   "(default: 31 December of --start's year)")
    p.add_argument("--now", type=_instant, help="count as held what ended before this "
                   "(YYYY-MM-DDTHH:MM, Asia/Shanghai; default: now)")
    p.add_argument("--org", action="append", metavar="ID",
                   help="only this organization (repeatable; default: all)")
    add_store_options(p)
    p.add_argument("--format", choices=("text", "json", "csv", "xlsx"), default="text")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="write to FILE (needed for --format xlsx; one organization)")
    add_viewer_option(p)

    w = command("week", cmd_week, "the weekly schedule sheet (一周会议安排) of one "
                "organization: text, JSON or a Word document")
    w.add_argument("--date", type=parse_date, help="any day of the week (default: the coming week: "
                   "this week until Thursday, next week from Friday)")
    add_store_options(w)
    w.add_argument("--org", action="append", metavar="ID", help="the organization")
    w.add_argument("--format", choices=("text", "json", "docx"), default="text")
    w.add_argument("--output", type=Path, metavar="FILE", help="write to FILE (docx)")
    add_viewer_option(w)


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time; write YYYY-MM-DDTHH:MM") from None
    return value if value.tzinfo else value.replace(tzinfo=TZ)


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


def _write(data: bytes, output: Path | None, what: str) -> None:
    if output is None:
        if sys.stdout.isatty():
            raise UsageError(f"{what} is binary: add --output FILE")
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        print(f"calsync: wrote {output}", file=sys.stderr)


def cmd_stats(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    now = (args.now or dt.datetime.now(TZ)).astimezone(TZ)
    start, end = stats_range(args.start, args.end, now.date())
    viewer = viewer_of(policies, args.as_person) if args.as_person else OPERATOR
    if args.format == "xlsx" and len(orgs) != 1:
        raise UsageError("--format xlsx writes one organization: add --org ID")
    with store_from(args) as store:
        found = [org_held(policies, store, o, start, end, now, warn=lambda line: print(
                     f"calsync: warning: {line}", file=sys.stderr)) for o in orgs]
    if args.format == "json":
        text = json.dumps([held_report.to_json(s, viewer) for s in found], ensure_ascii=False,
                          indent=2) + "\n"
        _write(text.encode(), args.output, "json") if args.output else sys.stdout.write(text)
    elif args.format == "csv":
        data = b"".join(held_report.to_csv(s, viewer) for s in found)
        _write(data, args.output, "csv") if args.output else sys.stdout.write(
            data.decode("utf-8-sig"))
    elif args.format == "xlsx":
        _write(held_report.to_xlsx(found[0], viewer), args.output, "xlsx")
    else:
        print("\n\n".join(held_report.text_tables(s) for s in found))
    return 0


def cmd_week(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    if len(orgs) != 1:
        raise UsageError("the weekly sheet is one organization's: add --org ID")
    day = args.date or dt.datetime.now(TZ).date()
    monday = (day - dt.timedelta(days=day.weekday()) if args.date
              else weekly.coming_week(day))
    viewer = viewer_of(policies, args.as_person) if args.as_person else OPERATOR
    with store_from(args) as store:
        s = org_sheet(policies, store, orgs[0], monday, viewer, public=not args.as_person)
    if args.format == "docx":
        _write(weekly.to_docx(s), args.output, "docx")
    elif args.format == "json":
        print(json.dumps({"organization": s.organization, "title": s.title,
                          "week": [s.monday.isoformat(), s.sunday.isoformat()],
                          "lines": [dict(zip(("date", "weekday", "time", "name", "location",
                                                "chair", "attendees", "organizer"),
                                               (x.date.isoformat(), *weekly.cells(x)[1:]),
                                               strict=True)) for x in s.lines]},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{s.title}（{s.period}）")
        for x in s.lines:
            print("  ".join(c for c in weekly.cells(x) if c))
        if not s.lines:
            print("本周无会议安排。")
    return 0
