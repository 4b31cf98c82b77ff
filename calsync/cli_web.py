"""``calsync serve`` (the secretaries' web page under waitress) and ``calsync user``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from calsync import accounts
from calsync.cli_sync import add_store_options, store_from
from calsync.errors import UsageError
from calsync.policy import PolicySet

MIN_PASSWORD = 8


def register(sub: argparse._SubParsersAction,
             command: Callable[..., argparse.ArgumentParser]) -> None:
    srv = command("serve", cmd_serve, "run the web page (waitress)")
    add_store_options(srv)
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on")
    srv.add_argument("--port", type=int, default=8080)
    srv.add_argument("--threads", type=int, default=4, help="worker threads")

    usr = command("user", cmd_user, "manage web users (users come from the directory)")
    add_store_options(usr)
    actions = usr.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    pw = actions.add_parser("set-password", help="set a user's password",
                            description="set a user's password (prompted twice, or read "
                                        "one line from standard input)")
    pw.add_argument("name", help="user name = the person id in directory.toml")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the password from standard input")


def _caldav() -> dict[str, str] | None:
    url = os.environ.get("CALSYNC_CALDAV_URL")
    if not url:
        return None
    return {"url": url, "username": os.environ.get("CALSYNC_CALDAV_USERNAME") or "",
            "password": os.environ.get("CALSYNC_CALDAV_PASSWORD") or ""}


def cmd_serve(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    import waitress

    from calsync.web import create_app

    app = create_app({
        "CALSYNC_DATABASE_URL": args.database_url,
        "CALSYNC_INSTANCE": str(args.instance) if args.instance else None,
        "CALSYNC_POLICIES": str(policies.root),
        "CALSYNC_CALDAV": _caldav(),
    })
    core = app.extensions["calsync"]
    username, password = accounts.first_secretary_password(core.store, core.policies,
                                                           os.environ)
    host = "localhost" if args.host in ("127.0.0.1", "::1") else args.host
    print(f"calsync: serving on http://{host}:{args.port}/ (store {core.store.url})",
          flush=True)
    if password:
        print(f"calsync: first secretary account: {username} password: {password} "
              f"(shown once; change it with `calsync user set-password {username}`)",
              flush=True)
    elif username and os.environ.get("CALSYNC_ADMIN_PASSWORD"):
        print(f"calsync: first secretary account {username} uses $CALSYNC_ADMIN_PASSWORD",
              flush=True)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                       ident="calsync")
    finally:
        core.close()
    return 0


def cmd_user(args: argparse.Namespace, policies: PolicySet, orgs: list[str]) -> int:
    with store_from(args) as store:
        accounts.sync_directory(store, policies, actor="calsync user")
        user = store.get_user(args.name)
        if user is None:
            known = ", ".join(sorted(u.username for u in store.list_users())[:5])
            raise UsageError(f"no user {args.name!r} (users are the person ids of "
                             f"directory.toml, e.g. {known})")
        password = _read_password(args.password_stdin)
        store.set_password(user.username, accounts.hash_password(password),
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
