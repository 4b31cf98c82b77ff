"""``calsync notices plan|send|list|reply``: iMIP notices by e-mail (calsync.notices).

``plan`` and ``list`` show each notice as calsync.access.notice_visibility lets the reader
see it: without ``--as`` (the operator), a confidential meeting's notice is 忙碌 with no
subject, UID or recipient; with ``--as ID`` that person's visibility applies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from calsync import access
from calsync.app.notices_queue import new_notice, plan_notices, queue
from calsync.cli import add_viewer_option, settings_of
from calsync.cli.sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.notices.answers import record_answers
from calsync.notices.deliver import OUTBOX_DIR, deliver_due
from calsync.notices.plan import CANCEL, Notice
from calsync.notices.smtp import ENV_SMTP_URL, parse_smtp_url
from calsync.occurrence import TZ
from calsync.policy import PolicySet
from calsync.store import Store
from calsync.store.db import instance_dir
from calsync.store.outbox import STATUSES, OutboxNotice


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command("notices", cmd_notices,
                "meeting notices by e-mail (iMIP): plan, send, list the outbox, record replies")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=text, description=text)
        a.add_argument("--policies", metavar="DIR", default=argparse.SUPPRESS,
                       help="policy folder (default: $CALSYNC_POLICIES or the shipped ones)")
        a.add_argument("--org", action="append", metavar="ID",
                       help="only this organization (repeatable; default: all)")
        add_store_options(a)
        return a

    plan = action("plan", "show the notices that would be queued now (nothing is written)")
    add_viewer_option(plan)
    send = action("send", "queue what changed, then send every due notice "
                          "(without an SMTP URL: write them to <instance>/outbox/*.eml)")
    send.add_argument("--smtp-url", metavar="URL",
                      help=f"e.g. smtp+starttls://user:pass@host:587 (default: ${ENV_SMTP_URL})")
    lst = action("list", "list the outbox, newest first")
    lst.add_argument("--status", choices=STATUSES)
    lst.add_argument("--format", choices=("text", "json"), default="text")
    add_viewer_option(lst)
    rep = action("reply", "record an attendee's METHOD:REPLY (an .ics file, or - for stdin)")
    rep.add_argument("file", metavar="FILE")


def cmd_notices(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    now = dt.datetime.now(TZ)
    with store_from(args) as store:
        if args.action == "plan":
            return _plan(args, policies, store, orgs, now)
        if args.action == "send":
            return _send(args, policies, store, orgs, now)
        if args.action == "list":
            return _list(args, policies, store, orgs)
        return _reply(args, store)


def _invitees(rows: Iterable[OutboxNotice],
              planned: Iterable[Notice] = ()) -> dict[str, set[str]]:
    """UID -> the addresses its last notices still invite (or report to): the people a
    confidential notice may be shown to in full."""
    out: dict[str, set[str]] = {}
    for r in rows:
        if r.method != CANCEL or r.state:
            out.setdefault(r.uid, set()).add(r.recipient)
    for n in planned:
        if n.method != CANCEL or n.state:
            out.setdefault(n.uid, set()).add(n.recipient)
    return out


def _seen(viewer: access.Viewer, org: str, confidential: bool, uid: str,
          invitees: dict[str, set[str]]) -> access.Visibility:
    return access.notice_visibility(viewer, org, confidential, invitees.get(uid, ()))


def _plan(args: argparse.Namespace, policies: PolicySet, store: Store, orgs: list[str],
          now: dt.datetime) -> int:
    viewer = access.viewer_of(policies, args.as_person)
    found = plan_notices(policies, store, orgs, now)
    invitees = _invitees(store.notices.latest_notices(orgs), found)
    shown = 0
    for n in found:
        seen = _seen(viewer, n.organization, n.confidential, n.uid, invitees)
        if seen == access.NONE:
            continue
        shown += 1
        if seen == access.BUSY_ONLY:
            print(f"{n.method:<7} {n.kind:<6} seq {n.sequence:<3} {'':<36} {access.BUSY}")
            continue
        print(f"{n.method:<7} {n.kind:<6} seq {n.sequence:<3} {n.recipient:<36} {n.uid}  "
              f"{new_notice(policies, n, now).subject}")
    print(f"{shown} notices to queue")
    return 0


def _send(args: argparse.Namespace, policies: PolicySet, store: Store, orgs: list[str],
          now: dt.datetime) -> int:
    settings = settings_of(args)
    url = settings.smtp_url
    if url:
        parse_smtp_url(url)  # a bad URL is reported before anything is queued
    queued = queue(policies, store, orgs, now)
    folder = instance_dir(settings.instance) / OUTBOX_DIR
    counts = deliver_due(store, url, folder, now)
    done = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"
    where = parse_smtp_url(url).masked() if url else f"no {ENV_SMTP_URL}: files in {folder}"
    print(f"queued {queued}; {done} ({where})")
    failed = store.notices.outbox(orgs, status="failed")
    if failed:
        print(f"{len(failed)} notices failed (see `calsync notices list --status failed`)",
              file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, policies: PolicySet, store: Store,
          orgs: list[str]) -> int:
    viewer = access.viewer_of(policies, args.as_person)
    invitees = _invitees(store.notices.latest_notices(orgs))
    rows = []
    for r in store.notices.outbox(orgs, status=args.status):
        seen = _seen(viewer, r.organization, r.confidential, r.uid, invitees)
        if seen != access.NONE:
            rows.append(r if seen == access.FULL else _busy(r))
    if args.format == "json":
        out = [{"id": r.id, "status": r.status, "method": r.method, "kind": r.kind,
                "sequence": r.sequence, "uid": r.uid, "recipient": r.recipient,
                "subject": r.subject, "message_id": r.message_id, "attempts": r.attempts,
                "next_try": r.next_try.isoformat(), "last_error": r.last_error,
                "path": r.path} for r in rows]
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for r in rows:
        extra = r.last_error or r.path or ""
        print(f"{r.id:>6} {r.status:<8} {r.method:<7} seq {r.sequence:<3} {r.recipient:<36} "
              f"{r.subject}" + (f"  [{extra}]" if extra else ""))
    print(f"{len(rows)} notices")
    return 0


def _busy(r: OutboxNotice) -> OutboxNotice:
    """A confidential notice the reader is not among the people of: 忙碌, nothing that names
    the meeting or who it went to (the UID, Message-ID, the server's answer, the file)."""
    return replace(r, uid="", recipient="", recipient_name="", subject=access.BUSY,
                   summary=access.BUSY, message_id="", message="", state={},
                   last_error=None, path=None)


def _reply(args: argparse.Namespace, store: Store) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else _read(Path(args.file))
    recorded = record_answers(store, data)
    for line in recorded:
        print(line)
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror} (give the reply's .ics file)"
                         ) from None
