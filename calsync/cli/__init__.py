"""The ``calsync`` command: a thin shell around the pure core."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from calsync.cli.errors import run_guarded
from calsync.errors import UsageError
from calsync.settings import SETTINGS, Settings, instance_path

if TYPE_CHECKING:
    from calsync.meetings.generate import Generation
    from calsync.policy import PolicySet

Command = Callable[[argparse.Namespace], int]

# The commands each calsync.cli.* module registers, in the order of `calsync --help`, with their
# help lines. `calsync --help` shows them without importing the modules (which pull in SQLAlchemy,
# the CalDAV client and Flask: most of a second); `calsync COMMAND` imports only the module
# of COMMAND. tests/test_cli_lazy.py checks this table against the modules' own registration.
LAZY: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("sync", (
        ("publish", "publish the calendars to a CalDAV server"),
        ("conflicts", "list calendar-app edits waiting for a decision"),
        ("resolve", "decide conflicts: keep the server's or the policy's (one id, or in "
                    "bulk)"))),
    ("clashes", (
        ("clashes", "list clashes: people or rooms booked twice, same-audience meetings in "
                    "one half-day, moves onto non-working days"),)),
    ("web", (
        ("serve", "run the service: web page, feeds, CalDAV server and publishing scheduler"),
        ("user", "manage web users (users come from the directory)"))),
    ("stats", (
        ("stats", "count the meetings each section held and had scheduled, per month and per "
                  "semester (half-year without semesters); cancelled and merged-away ones are "
                  "never held"),
        ("week", "the weekly schedule sheet (一周会议安排) of one organization: text, JSON or "
                 "a Word document"))),
    ("series", (
        ("series", "decide a whole series from a date on: stagger it (offset) or record that "
                   "a person sends a substitute (delegate); list or withdraw such "
                   "decisions"),)),
    ("holidays", (("holidays", "State Council holiday notices and the working days"),)),
    ("directory", (("directory", "the directory from the office's 通讯录"),)),
    ("notices", (
        ("notices", "meeting notices by e-mail (iMIP): plan, send, list the outbox, record "
                    "replies"),)),
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=wanted or "")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    settings_of(args)  # once, before the command: its options over the CALSYNC_* variables
    return run_guarded(lambda: args.func(args))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, the modules of other commands are not imported (their
    commands appear with their help line only; ``""``: no module at all, for `--help`)."""
    parser = argparse.ArgumentParser(
        prog="calsync", description="Meeting regulations → calendars (iCalendar, CalDAV).")
    sub = parser.add_subparsers(metavar="COMMAND")

    def command(name: str, func: Command, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--policies", metavar="DIR",
                       help="policy folder (default: $CALSYNC_POLICIES or the shipped policies)")
        p.set_defaults(func=func)
        return p

    def instanced(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--instance", type=Path, metavar="DIR",
                       help="instance folder whose applied holiday tables count (default: "
                            "$CALSYNC_INSTANCE or ./instance)")
        return p

    instanced(command("validate", cmd_validate,
                      "check the policy files (and the instance's holiday tables); one line "
                      "per organization"))

    def ranged(p: argparse.ArgumentParser, days: int) -> None:
        """``days`` = 0: the publishing horizon, this year and the next."""
        p.add_argument("--start", type=parse_date, help="first day, YYYY-MM-DD (default: "
                       + ("today)" if days else "1 January of this year)"))
        p.add_argument("--end", type=parse_date, help="last day, YYYY-MM-DD (default: "
                       + (f"start + {days} days)" if days else "31 December of next year)"))
        p.add_argument("--org", action="append", metavar="ID",
                       help="only this organization (repeatable; default: all)")
        p.set_defaults(default_days=days)

    gen = instanced(command("generate", cmd_generate, "write the iCalendar files"))
    ranged(gen, 365)
    gen.add_argument("--out", required=True, type=Path, metavar="DIR",
                     help="folder for <org>.ics and <org>/<series>.ics")
    gen.add_argument("--dtstamp", type=_datetime, metavar="ISO",
                     help="DTSTAMP for every event (default: the policy's `revised`)")
    add_viewer_option(gen)

    occ = instanced(command("occurrences", cmd_occurrences, "list the expanded occurrences"))
    ranged(occ, 27)
    occ.add_argument("--format", choices=("table", "json"), default="table")
    add_viewer_option(occ)

    def with_policies(func: Callable[..., int]) -> Command:
        def run(args: argparse.Namespace) -> int:
            policies = _load(args)
            return func(args, policies, _orgs(args, policies))
        return run

    def policed(name: str, func: Callable[..., int], text: str) -> argparse.ArgumentParser:
        return command(name, with_policies(func), text)

    known = {name for _, names in LAZY for name, _ in names}
    own = {"validate", "generate", "occurrences", ""}

    def needed(names: dict[str, str]) -> bool:
        if only is None or only not in known | own:   # all, or an unknown word: all
            return True
        return only in names

    for module, names in LAZY:
        if not needed(dict(names)):
            for name, text in names:       # the help line only; nothing imported
                sub.add_parser(name, help=text, description=text)
            continue
        if module != "sync":   # publish must not pay for it before its witness is read
            importlib.import_module("calsync.policy")  # first: calsync.calendar needs it
        mod = importlib.import_module(f"calsync.cli.{module}")
        if module == "sync":
            mod.register(sub, policed, ranged, command)
        elif module == "clashes":
            mod.register(sub, policed, ranged)
        elif module in ("holidays", "directory"):
            mod.register(sub, command)
        else:
            mod.register(sub, policed)
    return parser


def settings_of(args: argparse.Namespace) -> Settings:
    """The command's settings: its options over the ``CALSYNC_*`` variables over the defaults
    (calsync.settings). An option overrides the setting whose name is its ``dest``. Built
    once and kept on ``args``."""
    found = getattr(args, "settings", None)
    if found is None:
        given = vars(args)
        found = Settings.from_env().override(
            **{s.name: given.get(s.name) for s in SETTINGS if s.option})
        args.settings = found
    return found


def add_viewer_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="as_person", metavar="PERSON",
                   help="show what this person may see (a person id); default: confidential "
                        "meetings as 忙碌 with the time only")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _datetime(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date-time with an offset; write e.g. 2026-11-01T09:00:00+08:00")
    return value


def _load(args: argparse.Namespace) -> PolicySet:
    """The policies as every command sees them: ``--policies`` with the instance's applied
    holiday tables (``--instance``, else ``CALSYNC_INSTANCE`` or ./instance) and attendance
    rules, checked (calsync.policy.load)."""
    from calsync.policy import load  # here: `calsync --help` does not load the policy code

    return load(getattr(args, "policies", None) or None,
                instance_path(getattr(args, "instance", None)))


def _range(args: argparse.Namespace, policies: PolicySet) -> tuple[dt.date, dt.date, list[str]]:
    from calsync.occurrence import TZ  # here, like every import of a command: fast --help

    start = args.start or dt.datetime.now(TZ).date()
    end = args.end or start + dt.timedelta(days=args.default_days)
    if end < start:
        raise UsageError(f"--end {end} is before --start {start} (swap them)")
    if (end - start).days > 366 * 20:
        raise UsageError("the range is longer than 20 years (choose a shorter --end)")
    return start, end, _orgs(args, policies)


def _orgs(args: argparse.Namespace, policies: PolicySet) -> list[str]:
    chosen = getattr(args, "org", None)
    if isinstance(chosen, str):
        chosen = [chosen]
    orgs = chosen or sorted(policies.organizations)
    unknown = [o for o in orgs if o not in policies.organizations]
    if unknown:
        raise UsageError(f"unknown organization {', '.join(unknown)} "
                         f"(choose from {', '.join(sorted(policies.organizations))})")
    return orgs


def _warn(gen: Generation) -> None:
    for line in gen.warnings:
        print(f"calsync: warning: {line}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    policies = _load(args)
    for org in policies.organizations.values():
        scheduled = sum(len(mt.schedules) for mt in org.meeting_types.values())
        print(f"{org.id}: ok — {org.name}: {len(org.meeting_types)} meeting types "
              f"({scheduled} schedules), {len(org.deadlines)} deadlines, "
              f"{len(org.staff)} staff, {len(org.people) - len(org.staff)} external, "
              f"{len(org.sections)} sections, {len(org.rooms)} rooms")
    years = sorted(policies.calendar.years)
    print(f"holidays: {', '.join(map(str, years)) or 'none'}")
    return 0


def _viewed(args: argparse.Namespace
            ) -> tuple[PolicySet, Generation, dt.date, dt.date, list[str]]:
    """The policies and the generation of the asked range, warnings said, as ``--as`` may see
    it (calsync.access: confidential meetings masked without it)."""
    # here, not at the top: `calsync --help` and the other commands never load generation
    from calsync.access import for_viewer, viewer_of
    from calsync.meetings.generate import generate

    policies = _load(args)
    start, end, orgs = _range(args, policies)
    gen = generate(policies, start, end, orgs)
    _warn(gen)
    viewer = viewer_of(policies, args.as_person)
    return (policies, replace(gen, series=tuple(for_viewer(viewer, gen.series))),
            start, end, orgs)


def cmd_generate(args: argparse.Namespace) -> int:
    from calsync.ical.export import write_ics  # here: only `calsync generate` needs it

    policies, gen, start, end, orgs = _viewed(args)
    written = write_ics(policies, gen, args.out, orgs, args.dtstamp)
    counts = Counter(p.organization for s in gen.series for p in s.parts())   # the files
    occs = Counter(o.organization for o in gen.occurrences())
    for org in orgs:
        print(f"{org}: {counts[org]} resources, {occs[org]} occurrences "
              f"{start}..{end} → {args.out / (org + '.ics')}")
    print(f"{len(written)} files written")
    return 0


def cmd_occurrences(args: argparse.Namespace) -> int:
    # here: only `calsync occurrences` needs them
    from calsync.ical.export import occurrence_json, occurrence_rows, occurrence_table

    _, gen, _, _, _ = _viewed(args)
    if args.format == "json":
        rows = [occurrence_json(s, o) for s, o in occurrence_rows(gen)]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(occurrence_table(gen))
    return 0

