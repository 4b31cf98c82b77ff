"""``calsync publish``, ``conflicts`` and ``resolve``: CalDAV commands of the CLI."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from calsync.errors import UsageError
from calsync.occurrence import TZ
from calsync.policy import PolicySet
from calsync.service import (
    default_horizon,
    publish_orgs,
    refresh_watched,
    resolve_and_record,
)
from calsync.store import Store, open_store
from calsync.sync.apply import ProgressEvent
from calsync.sync.client import Target
from calsync.sync.layouts import LAYOUTS
from calsync.sync.publish import PublishResult
from calsync.sync.recovery import KIND_CHOICES, select_conflicts


def add_store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL",
                   help="store (default: $CALSYNC_DATABASE_URL or instance/calsync.sqlite3)")
    p.add_argument("--instance", type=Path, metavar="DIR",
                   help="instance folder (default: $CALSYNC_INSTANCE or ./instance)")


def add_target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--caldav-url", metavar="URL",
                   help="calendar home on the CalDAV server (default: $CALSYNC_CALDAV_URL)")
    p.add_argument("--username", help="default: $CALSYNC_CALDAV_USERNAME")
    p.add_argument("--password", help="default: $CALSYNC_CALDAV_PASSWORD (prefer the variable)")
    p.add_argument("--server-kind", metavar="KIND",
                   help="quirks to use (radicale, xandikos, nextcloud, baikal, generic); "
                        "default: detected")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")


def register(sub: argparse._SubParsersAction, command: Callable[..., argparse.ArgumentParser],
             ranged: Callable[[argparse.ArgumentParser, int], None]) -> None:
    pub = command("publish", cmd_publish, "publish the calendars to a CalDAV server")
    ranged(pub, 0)
    add_store_options(pub)
    add_target_options(pub)
    pub.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
    pub.add_argument("--force", action="store_true",
                     help="pass the safety valve (mass deletion, vanished or emptied calendar) "
                          "and re-create what the policy says and the server lost")
    pub.add_argument("--layout", choices=LAYOUTS, default="org")
    pub.add_argument("--watch", action="append", default=[], metavar="URL",
                     help="read-only calendar whose events count for clashes (repeatable)")
    pub.add_argument("--format", choices=("text", "json"), default="text")

    con = command("conflicts", cmd_conflicts, "list calendar-app edits waiting for a decision")
    add_store_options(con)
    con.add_argument("--org", metavar="ID")
    con.add_argument("--format", choices=("text", "json"), default="text")

    res = command("resolve", cmd_resolve,
                  "decide conflicts: keep the server's or the policy's (one id, or in bulk)")
    ranged(res, 0)
    add_store_options(res)
    res.add_argument("id", type=int, nargs="?",
                     help="conflict id (see `calsync conflicts`); or select with --all/--org")
    res.add_argument("--keep", choices=("server", "policy"), required=True)
    res.add_argument("--all", action="store_true",
                     help="every open conflict (of the --org organizations, when given)")
    res.add_argument("--series", action="append", metavar="ID",
                     help="only conflicts of this series (UID or its part before @; repeatable)")
    res.add_argument("--kind", action="append", choices=sorted(KIND_CHOICES),
                     help="only conflicts of this kind (repeatable)")
    res.add_argument("--dry-run", action="store_true",
                     help="list what would be resolved, change nothing")
    res.add_argument("--actor", default=os.environ.get("USER", "cli"),
                     help="who decides (for the audit log)")


def target_from(args: argparse.Namespace) -> Target:
    url = args.caldav_url or os.environ.get("CALSYNC_CALDAV_URL")
    if not url:
        raise UsageError("no CalDAV server given (pass --caldav-url URL of your calendar home, "
                         "or set CALSYNC_CALDAV_URL)")
    return Target(url=url,
                  username=args.username or os.environ.get("CALSYNC_CALDAV_USERNAME"),
                  password=args.password or os.environ.get("CALSYNC_CALDAV_PASSWORD"),
                  timeout=args.timeout, server_kind=args.server_kind)


def store_from(args: argparse.Namespace) -> Store:
    return open_store(args.database_url, args.instance)


def _horizon(args: argparse.Namespace):
    import datetime as dt

    start, end = default_horizon(dt.datetime.now(TZ).date())
    start, end = args.start or start, args.end or end
    if end < start:
        raise UsageError(f"--end {end} is before --start {start} (swap them)")
    return start, end


def cmd_publish(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    from calsync.calendar.overlay import with_holiday_folder

    # Notices applied on the 节假日 page live in the instance; a CLI publish must not undo them.
    instance = args.instance or Path(os.environ.get("CALSYNC_INSTANCE") or "instance")
    policies = with_holiday_folder(policies, instance / "holidays")
    target = target_from(args)
    start, end = _horizon(args)
    progress = _Bar() if sys.stderr.isatty() else None
    with store_from(args) as store:
        built, result = publish_orgs(policies, store, target, orgs, start, end,
                                     layout=args.layout, dry_run=args.dry_run,
                                     force=args.force, progress=progress)
        # kept for clash checks (calsync clashes, the web page); never written
        watched = refresh_watched(store, target, args.watch)
    if progress:
        progress.close()
    for line in built.generation.warnings:
        print(f"calsync: warning: {line}", file=sys.stderr)
    if args.format == "json":
        out = result.to_json() | {"watched": watched}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(result, watched)
    for err in result.errors:
        for line in err.lines():
            print(f"calsync: error: {line}", file=sys.stderr)
    return 0 if result.ok else max(e.exit_code for e in result.errors)


def _print_summary(result: PublishResult, watched: dict[str, int]) -> None:
    head = "plan (dry run)" if result.dry_run else "published"
    for c in result.collections:
        counts = ", ".join(f"{k} {v}" for k, v in c.counts.items()) or "nothing"
        if c.error and c.planned:  # cut short: say what landed, not "nothing"
            counts = c.partial()
        state = f" — FAILED: {c.error}" if c.error else ""
        print(f"{head} {c.url}: {counts} ({c.requests} requests){state}")
    total = ", ".join(f"{k} {v}" for k, v in result.counts().items()) or "nothing"
    print(f"total: {total}; {result.requests} requests")
    for url, n in watched.items():
        print(f"watched {url}: {n} events (read only)")


def cmd_conflicts(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    with store_from(args) as store:
        rows = store.open_conflicts(args.org)
    if args.format == "json":
        json.dump([{"id": c.id, "organization": c.organization, "uid": c.uid, "kind": c.kind,
                    "collection": c.collection_url, "href": c.href,
                    "detected_at": c.detected_at.isoformat()} for c in rows],
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print("no open conflicts")
    for c in rows:
        print(f"#{c.id} {c.organization} {c.uid}: {c.kind} on the server "
              f"(detected {c.detected_at:%Y-%m-%d %H:%M} UTC) — "
              f"`calsync resolve {c.id} --keep server|policy`")
    return 0


def cmd_resolve(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    start, end = _horizon(args)
    bulk = args.all or args.org or args.series or args.kind
    if args.id is not None and (bulk or args.dry_run):
        raise UsageError("give a conflict id or a selection (--all, --org, --series, --kind), "
                         "not both")
    if args.id is None:
        if not bulk:
            raise UsageError("which conflicts? give an id (see `calsync conflicts`) or select "
                             "them with --all, --org ID, --series ID or --kind KIND")
        return _resolve_bulk(args, policies, orgs, start, end)
    with store_from(args) as store:
        resolution, recorded = resolve_and_record(policies, store, args.id, args.keep,
                                                  args.actor, start, end)
    what = ("the policy's version will overwrite the server copy at the next publish"
            if args.keep == "policy" else
            f"the calendar's version is adopted; {recorded} decision(s) recorded")
    print(f"conflict #{resolution.conflict_id} ({resolution.uid}): {what}")
    return 0


def _resolve_bulk(args: argparse.Namespace, policies: PolicySet, orgs: list[str],
                  start, end) -> int:
    with store_from(args) as store:
        chosen = select_conflicts(store.open_conflicts(), orgs if args.org else None,
                                  args.series, args.kind)
        verb = "would keep" if args.dry_run else "keeps"
        recorded = 0
        for c in chosen:
            if not args.dry_run:
                recorded += resolve_and_record(policies, store, c.id, args.keep, args.actor,
                                               start, end)[1]
            print(f"#{c.id} {c.organization} {c.uid}: {c.kind} on the server — "
                  f"{verb} the {args.keep}'s version")
    n = len(chosen)
    if args.dry_run:
        print(f"{n} conflict(s) would be resolved (dry run: nothing changed; run again "
              f"without --dry-run)")
    elif args.keep == "policy":
        print(f"{n} conflict(s) resolved: the next publish restores the policy's version")
    else:
        print(f"{n} conflict(s) resolved: the calendar's version is adopted; "
              f"{recorded} decision(s) recorded")
    return 0


class _Bar:
    """A one-line progress bar on a terminal (stderr); nothing when output is piped."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, ev: ProgressEvent) -> None:
        width = 30
        filled = width * ev.done // max(ev.total, 1)
        sys.stderr.write(f"\r{ev.collection[-40:]} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{ev.done}/{ev.total}")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
