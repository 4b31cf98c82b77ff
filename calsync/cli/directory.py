"""``calsync directory import``: the office's 通讯录 (xlsx/csv) → ``<org>/directory.toml``,
shown as a before/after diff; ``--apply`` writes it (the old file kept as a backup)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

from calsync.cli import parse_date
from calsync.directory import apply, diff_lines, preview
from calsync.errors import UsageError
from calsync.occurrence import TZ
from calsync.policy import policies_path, shipped_policies


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    p = sub.add_parser("directory", help="the directory from the office's 通讯录",
                       description="the directory from the office's 通讯录")
    inner = p.add_subparsers(metavar="ACTION")
    p.set_defaults(func=lambda _args: _usage(p))
    imp = inner.add_parser(
        "import", help="read a 通讯录 (.xlsx or .csv) and show what directory.toml becomes",
        description="read the office's 通讯录 (.xlsx, or .csv in UTF-8 or GB18030; columns "
        "姓名, 科室/股室, 职务, 手机, 邮箱) and print the before/after diff of the "
        "organization's directory.toml; --apply writes it. People missing from the sheet "
        "are kept with left = DATE: their history stays, they get no new invitations.")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--org", metavar="ID", help="the organization (needed when the policy "
                     "folder has several)")
    imp.add_argument("--apply", action="store_true",
                     help="write directory.toml (the old one is kept as "
                     "directory.toml.bak-<time>)")
    imp.add_argument("--left-on", type=parse_date, metavar="YYYY-MM-DD",
                     help="last day in office of the people missing from the sheet "
                     "(default: today)")
    imp.add_argument("--policies", metavar="DIR",
                     help="policy folder (default: $CALSYNC_POLICIES or the shipped policies; "
                     "--apply needs one of your own)")
    imp.set_defaults(func=cmd_import)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _org(root: Path, chosen: str | None) -> str:
    orgs = sorted(p.name for p in root.iterdir() if (p / "organization.toml").is_file()) \
        if root.is_dir() else []
    if chosen:
        if chosen not in orgs:
            raise UsageError(f"unknown organization {chosen} (choose from "
                             f"{', '.join(orgs) or 'none'})")
        return chosen
    if len(orgs) != 1:
        raise UsageError(f"which organization? pass --org ID (one of {', '.join(orgs)})")
    return orgs[0]


def cmd_import(args: argparse.Namespace) -> int:
    root = policies_path(args.policies)
    org = _org(root, args.org)
    if args.apply and root.resolve() == shipped_policies().resolve():
        raise UsageError("no policy folder to write into: the shipped policies are not "
                         "edited (copy them, then pass --policies DIR or set CALSYNC_POLICIES)")
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    now = dt.datetime.now(TZ)
    shown = preview(root, org, args.file.name, data, args.left_on or now.date())
    for line in diff_lines(shown):
        print(line)
    if not args.apply:
        print("nothing written (add --apply to write "
              f"{os.path.relpath(shown.path)})")
        return 0
    backup = apply(shown, now)
    if backup is None:
        print(f"{shown.path}: already up to date")
    else:
        print(f"{shown.path}: written (the old file is {backup.name}); restart calsync serve "
              "or import on the page so the service uses it")
    return 0
