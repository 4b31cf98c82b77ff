"""``calsync serve`` (the secretaries' web page under waitress) and ``calsync user``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from calsync.cli import settings_of
from calsync.cli.serve import run
from calsync.cli.sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.meetings import accounts
from calsync.policy import PolicySet

MIN_PASSWORD = 8


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    srv = command("serve", cmd_serve,
                  "run the service: web page, feeds, CalDAV server and publishing scheduler")
    add_store_options(srv)
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on")
    srv.add_argument("--port", type=int, default=8080)
    srv.add_argument("--threads", type=int, default=4, help="worker threads")
    srv.add_argument("--caldav-port", type=int, metavar="PORT",
                     help="port of the embedded CalDAV server (default: --port + 1, or a "
                          "free one)")
    srv.add_argument("--caldav-url", metavar="URL",
                     help="publish to this calendar home instead of the embedded CalDAV "
                          "server (default: $CALSYNC_CALDAV_URL)")
    srv.add_argument("--caldav-username", metavar="NAME",
                     help="default: $CALSYNC_CALDAV_USERNAME")
    srv.add_argument("--caldav-password", metavar="PASSWORD",
                     help="default: $CALSYNC_CALDAV_PASSWORD (prefer the variable)")

    usr = command("user", cmd_user, "manage web users (users come from the directory)")
    add_store_options(usr)
    actions = usr.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    pw = actions.add_parser("set-password", help="set a user's password",
                            description="set a user's password (prompted twice, or read "
                                        "one line from standard input)")
    pw.add_argument("name", help="user name = the person id in directory.toml")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the password from standard input")


def cmd_serve(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    return run(args, policies, orgs, settings_of(args))


def cmd_user(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    with store_from(args) as store:
        accounts.sync_directory(store, policies, actor="calsync user")
        user = store.users.get_user(args.name)
        if user is None:
            known = ", ".join(sorted(u.username for u in store.users.list_users())[:5])
            raise UsageError(f"no user {args.name!r} (users are the person ids of "
                             f"directory.toml, e.g. {known})")
        password = _read_password(args.password_stdin)
        store.users.set_password(user.username, accounts.hash_password(password),
                                 actor=os.environ.get("USER", "cli"))
    print(f"password set for {user.username} ({user.display_name}, {user.role})")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise UsageError("the two passwords differ (nothing changed)")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is shorter than {MIN_PASSWORD} characters "
                         f"(nothing changed)")
    return password
