"""``calsync series``: decisions on a whole series (the page's 对整个系列作出决定)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

from calsync.cli import parse_date
from calsync.cli.sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.meetings.generate import generate
from calsync.meetings.series_decisions import covers
from calsync.occurrence import organization_of
from calsync.policy import PolicySet

ACTIONS = ("offset", "delegate", "list", "withdraw")


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = command("series", cmd_series,
                "decide a whole series from a date on: stagger it (offset) or record that a "
                "person sends a substitute (delegate); list or withdraw such decisions")
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("target", nargs="?", metavar="SERIES|ID",
                   help="series UID, e.g. kewuhui-ducha@guanliban.calsync (Monday and Friday);"
                        " for withdraw the decision's id")
    p.add_argument("--minutes", type=int, help="offset: minutes later (negative: earlier)")
    p.add_argument("--person", help="delegate: the person id who does not attend")
    p.add_argument("--substitute", help="delegate: who goes instead (default: nobody)")
    p.add_argument("--since", type=parse_date, metavar="YYYY-MM-DD",
                   help="first day it applies (default: today)")
    p.add_argument("--note", default="")
    p.add_argument("--actor", default="cli", help="who decides (for the audit log)")
    p.add_argument("--org", metavar="ID", help="list: only this organization")
    add_store_options(p)


def _org_of(policies: PolicySet, uid: str) -> str:
    org_id = organization_of(uid, policies)
    if org_id is not None:
        return org_id
    raise UsageError(f"{uid!r} is not a calsync series UID "
                     f"(write it like kewuhui-ducha@guanliban.calsync)")


def cmd_series(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    with store_from(args) as store:
        if args.action == "list":
            for org in ([args.org] if args.org else sorted(policies.organizations)):
                for d in store.series_decisions.active_series_decisions(org):
                    what = (f"{d.offset_minutes:+d} min" if d.action == "offset" else
                            f"{d.person_id} -> {d.substitute_id or '(nobody)'}")
                    print(f"{d.id}\t{d.series_uid}\t{d.action}\t{what}\tsince {d.since}"
                          f"\t{d.created_by}\t{d.note}")
            return 0
        if not args.target:
            raise UsageError(f"series {args.action} needs a SERIES (or an ID for withdraw)")
        if args.action == "withdraw":
            if not args.target.isdigit():
                raise UsageError(f"{args.target!r} is not a decision id (see calsync series list)")
            store.series_decisions.withdraw_series_decision(int(args.target), actor=args.actor)
            print(f"withdrawn: {args.target}")
            return 0
        org_id = _org_of(policies, args.target)
        org = policies.organizations[org_id]
        since = args.since or dt.date.today()
        found = generate(policies, since, since + dt.timedelta(days=366), [org_id])
        if not any(covers(args.target, s.uid) for s in found.series):
            raise UsageError(f"{args.target!r} names no series of {org_id} after {since} "
                             f"(see the uid field of calsync occurrences --format json)")
        if args.action == "offset" and not args.minutes:
            raise UsageError("series offset needs --minutes N (e.g. --minutes 45)")
        if args.action == "delegate":
            for flag, pid in (("--person", args.person), ("--substitute", args.substitute)):
                if (pid or flag == "--person") and pid not in org.people:
                    raise UsageError(f"{flag} {pid!r} is not in {org_id}'s directory "
                                     f"(use a person id such as wang_fuzhuren)")
        d = store.series_decisions.add_series_decision(
            org_id, args.target, args.action, since=since.isoformat(), actor=args.actor,
            offset_minutes=args.minutes or 0, person_id=args.person,
            substitute_id=args.substitute, note=args.note)
        print(f"recorded {d.id}: {d.series_uid} {d.action} since {d.since}")
    return 0
