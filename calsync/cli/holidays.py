"""``calsync holidays``: import a State Council holiday notice; show a year's working days."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from calsync.calendar.notice import parse_notice
from calsync.cli import settings_of
from calsync.errors import UsageError
from calsync.policy import PolicySet, load, shipped_policies
from calsync.policy.holiday_tables import write_table, year_summary
from calsync.settings import instance_path


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = sub.add_parser("holidays", help="State Council holiday notices and the working days",
                       description="State Council holiday notices and the working days")
    inner = p.add_subparsers(metavar="ACTION")
    p.set_defaults(func=lambda _args: _usage(p))
    imp = inner.add_parser("import", help="read a 部分节假日安排的通知 and write "
                           "DIR/holidays/YYYY.toml",
                           description="read a 部分节假日安排的通知 (text file, UTF-8) and write "
                           "DIR/holidays/YYYY.toml; a text that is not such a notice or is "
                           "ambiguous is refused (exit 2) and nothing is written")
    imp.add_argument("notice", type=Path, metavar="NOTICE_FILE")
    imp.add_argument("--policies", metavar="DIR",
                     help="policy folder to write into (default: $CALSYNC_POLICIES)")
    imp.set_defaults(func=cmd_import)
    show = inner.add_parser("show", help="a year's days off and make-up working days, and "
                            "where they come from (notice, shipped or law-only)")
    show.add_argument("year", type=int, metavar="YEAR")
    show.add_argument("--policies", metavar="DIR",
                      help="policy folder (default: $CALSYNC_POLICIES or the shipped policies)")
    show.add_argument("--instance", type=Path, metavar="DIR",
                      help="instance folder whose applied tables count (default: "
                           "$CALSYNC_INSTANCE or ./instance)")
    show.add_argument("--format", choices=("json", "table"), default="json")
    show.set_defaults(func=cmd_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def cmd_import(args: argparse.Namespace) -> int:
    folder = settings_of(args).policies
    if not folder:
        raise UsageError("no policy folder to write into: the shipped policies are not "
                         "edited (pass --policies DIR or set CALSYNC_POLICIES)")
    try:
        text = args.notice.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read {args.notice}: {why} (save the notice as UTF-8 "
                         "text)") from None
    notice = parse_notice(text)
    root = Path(folder)
    load(root)  # refuse a folder that is not a policy folder before writing into it
    target = write_table(notice, root / "holidays")
    print(f"{target}: {notice.year}: {len(notice.holidays)} days off, "
          f"{len(notice.workdays)} make-up working days ({notice.source})")
    return 0


def origin(policies: PolicySet, year: int, instance: Path | None = None) -> str:
    if year not in policies.calendar.years:
        return "law-only"
    if instance is not None and (instance / "holidays" / f"{year}.toml").exists():
        return "notice"   # applied on the 节假日 page
    own = policies.root / "holidays" / f"{year}.toml"
    shipped = shipped_policies() / "holidays" / f"{year}.toml"
    return "notice" if own.exists() and own.resolve() != shipped.resolve() else "shipped"


def cmd_show(args: argparse.Namespace) -> int:
    if not 1990 <= args.year <= 2200:
        raise UsageError(f"{args.year} is not a year calsync knows (choose 1990–2200)")
    instance = instance_path(args.instance)
    policies = load(args.policies or None, instance)
    summary = year_summary(policies.calendar, args.year, origin(policies, args.year, instance))
    if args.format == "json":
        json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{summary['year']}: {summary['source']}"
          + (f" ({summary['notice']})" if summary["notice"] else ""))
    for h in summary["holidays"]:
        end = f" – {h['end']}" if h["end"] != h["start"] else ""
        print(f"  休  {h['start']}{end}  {h['name']}")
    for day in summary["workdays"]:
        print(f"  班  {day}")
    if "provisional_weekdays" in summary:
        print(f"  暂定 {len(summary['provisional_weekdays'])} weekdays the coming notice may "
              "still change")
    return 0
