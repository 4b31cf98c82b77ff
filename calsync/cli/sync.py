"""``calsync publish``, ``conflicts`` and ``resolve``: CalDAV commands of the CLI."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from calsync.cli import _load, _orgs, settings_of
from calsync.cli import publish_witness as witness
from calsync.errors import UsageError
from calsync.sync import LAYOUTS
from calsync.sync.recovery import KIND_CHOICES

# The engine (SQLAlchemy, the HTTP client, icalendar) is imported by the commands, not here:
# a no-op `calsync publish` is answered from its witness before it would load.
if TYPE_CHECKING:
    from calsync.policy import PolicySet
    from calsync.store import Store
    from calsync.sync.apply import ProgressEvent
    from calsync.sync.client import Target


def add_store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", metavar="URL",
                   help="store (default: $CALSYNC_DATABASE_URL or instance/calsync.sqlite3)")
    p.add_argument("--instance", type=Path, metavar="DIR",
                   help="instance folder (default: $CALSYNC_INSTANCE or ./instance)")


def add_target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--caldav-url", metavar="URL",
                   help="calendar home on the CalDAV server (default: $CALSYNC_CALDAV_URL)")
    p.add_argument("--username", dest="caldav_username",
                   help="default: $CALSYNC_CALDAV_USERNAME")
    p.add_argument("--password", dest="caldav_password",
                   help="default: $CALSYNC_CALDAV_PASSWORD (prefer the variable)")
    p.add_argument("--server-kind", metavar="KIND",
                   help="quirks to use (radicale, xandikos, nextcloud, baikal, generic); "
                        "default: detected")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request")


def register(sub: argparse._SubParsersAction, command: Callable[..., argparse.ArgumentParser],
             ranged: Callable[[argparse.ArgumentParser, int], None],
             plain: Callable[..., argparse.ArgumentParser]) -> None:
    """``command`` registers a command that gets the loaded policies; ``plain`` one that loads
    them itself (publish: not at all when its witness answers)."""
    pub = plain("publish", cmd_publish, "publish the calendars to a CalDAV server")
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
    pub.add_argument("--full", action="store_true",
                     help="build and compare everything even when nothing changed since the "
                          "last publish (by default a no-op is answered from its witness)")

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


def _target_words(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    settings = settings_of(args)
    return settings.caldav_url, settings.caldav_username, settings.caldav_password


def target_from(args: argparse.Namespace) -> Target:
    from calsync.sync.client import Target  # the engine: see the note at the top

    url, username, password = _target_words(args)
    if not url:
        raise UsageError("no CalDAV server given (pass --caldav-url URL of your calendar home, "
                         "or set CALSYNC_CALDAV_URL)")
    return Target(url=url, username=username, password=password, timeout=args.timeout,
                  server_kind=args.server_kind)


def store_from(args: argparse.Namespace) -> Store:
    from calsync.store import open_store  # the engine: see the note at the top


    settings = settings_of(args)
    return open_store(settings.database_url, settings.instance)


def _horizon(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    from calsync.occurrence import TZ, default_horizon  # light, but only for these commands

    start, end = default_horizon(dt.datetime.now(TZ).date())
    start, end = args.start or start, args.end or end
    if end < start:
        raise UsageError(f"--end {end} is before --start {start} (swap them)")
    return start, end


def cmd_publish(args: argparse.Namespace) -> int:
    start, end = _horizon(args)
    url, username, password = _target_words(args)
    opts = (witness.options(args, settings_of(args), start, end, url, username, password)
            if url else None)
    if opts and not (args.dry_run or args.force or args.watch or args.full):
        seen = witness.shortcut(opts)
        if seen is not None:  # nothing changed since a settled publish: say what it said
            for line in seen["warnings"]:
                print(line, file=sys.stderr)
            cols = [{**c, "requests": 1} for c in seen["collections"]]
            _report(args, False, True, cols, {})
            return 0

    policies = _load(args)
    return _publish(args, policies, _orgs(args, policies), start, end, opts)


def _publish(args: argparse.Namespace, policies: PolicySet, orgs: list[str], start: dt.date,
             end: dt.date, opts: witness.Options | None) -> int:
    # the engine, once the witness could not answer (tests patch service.publish_orgs)
    from calsync.app.service import publish_orgs, refresh_watched

    target = target_from(args)
    audit_before = witness.audit_now(opts) if opts and not args.dry_run else None
    progress = _Bar() if sys.stderr.isatty() else None
    with store_from(args) as store:
        built, result = publish_orgs(policies, store, target, orgs, start, end,
                                     layout=args.layout, dry_run=args.dry_run,
                                     force=args.force, progress=progress,
                                     settle=opts is not None and not args.dry_run)
        # kept for clash checks (calsync clashes, the web page); never written
        watched = refresh_watched(store, target, args.watch)
    if progress:
        progress.close()
    warnings = [f"calsync: warning: {w}" for w in built.generation.warnings]
    for line in warnings:
        print(line, file=sys.stderr)
    if opts and not args.dry_run:
        settled = [c.settled for c in result.collections if c.settled]
        every = bool(settled) and len(settled) == len(result.collections)
        witness.write(opts, audit_before,
                      [f"calsync: warning: {w}" for w in policies.warnings] + warnings,
                      settled if result.ok and every else None)
    _report(args, result.dry_run, result.ok, [c.to_json() for c in result.collections],
            watched)
    for err in result.errors:
        for line in err.lines():
            print(f"calsync: error: {line}", file=sys.stderr)
    return 0 if result.ok else max(e.exit_code for e in result.errors)


def _report(args: argparse.Namespace, dry_run: bool, ok: bool, cols: list[dict],
            watched: dict[str, int]) -> None:
    """The run's summary on stdout: JSON, or a line per collection and a total."""
    total: dict[str, int] = {}
    for c in cols:
        for k, v in c["counts"].items():
            total[k] = total.get(k, 0) + v
    total = dict(sorted(total.items()))
    if args.format == "json":
        out = {"dry_run": dry_run, "ok": ok, "counts": total,
               "collections": cols, "watched": watched}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    head = "plan (dry run)" if dry_run else "published"
    for c in cols:
        counts = ", ".join(f"{k} {v}" for k, v in c["counts"].items()) or "nothing"
        if c["error"] and c["planned"]:  # cut short: say what landed (full path only)
            from calsync.sync.publish import partial_text  # the engine: only after a failure

            counts = partial_text(c["planned"], c["counts"])
        state = f" — FAILED: {c['error']}" if c["error"] else ""
        print(f"{head} {c['url']}: {counts} ({c['requests']} requests){state}")
    text = ", ".join(f"{k} {v}" for k, v in total.items()) or "nothing"
    print(f"total: {text}; {sum(c['requests'] for c in cols)} requests")
    for url, n in watched.items():
        print(f"watched {url}: {n} events (read only)")


def cmd_conflicts(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    with store_from(args) as store:
        rows = store.conflicts.open_conflicts(args.org)
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
    from calsync.app.service import resolve_and_record  # the engine: see the note at the top

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
    # the engine: see the note at the top
    from calsync.app.service import resolve_and_record
    from calsync.sync.recovery import select_conflicts

    with store_from(args) as store:
        chosen = select_conflicts(store.conflicts.open_conflicts(), orgs if args.org else None,
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
