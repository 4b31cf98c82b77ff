"""``calsync serve``: the web page, an embedded CalDAV server and the publishing scheduler.

With no CalDAV configuration the service runs Radicale as a supervised child (data in
``<instance>/caldav``) and publishes there as the service account; with ``--caldav-url`` (or
``CALSYNC_CALDAV_URL``) it publishes to that server and starts none. Ctrl-C or SIGTERM stops
the scheduler (after the publish in progress), the CalDAV child and waitress, in that order.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO, Any

from calsync.app.scheduler import EXTENSION, Scheduler, caldav_target
from calsync.caldav_server.grants import leavers_of
from calsync.caldav_server.process import EmbeddedCalDAV, choose_port, port_free, remember_port
from calsync.errors import UsageError
from calsync.meetings import accounts
from calsync.occurrence import TZ, default_horizon
from calsync.policy import PolicySet
from calsync.settings import SERVE_LOCK_FILE, Settings
from calsync.sync.publish import CollectionSpec
from calsync.web import create_app
from calsync.web.ops_guard import waitress_options

log = logging.getLogger("calsync.cli.serve")


def shown_host(host: str) -> str:
    if host in ("127.0.0.1", "::1", "localhost"):
        return "localhost"
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return host


def listen_url(host: str, port: int) -> str:
    """The page's address as printed at start-up; without CALSYNC_PUBLIC_URL every link the
    page builds (feeds, sign-in, QR codes) uses it, never a request's Host header."""
    name = shown_host(host)
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("calsync").setLevel(logging.INFO)


def holiday_years_line(policies: PolicySet, today: dt.date) -> str:
    """Which years of the publishing horizon have no notice yet (law-only), for the log."""

    start, end = default_horizon(today)
    years = range(start.year, end.year + 1)
    law_only = [str(y) for y in years if policies.calendar.is_law_only(y)]
    if not law_only:
        return f"holidays: every year of {start.year}–{end.year} has its State Council notice"
    return (f"holidays: law-only (no State Council notice yet): {', '.join(law_only)}; "
            "dates near holidays are published TENTATIVE (calsync holidays import NOTICE)")


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    # waitress' main loop ends on KeyboardInterrupt; SIGTERM should stop it the same way.
    raise KeyboardInterrupt


def run(args: Any, policies: PolicySet, orgs: list[str], settings: Settings) -> int:
    """``settings``: the command's (its options over the CALSYNC_* variables)."""
    import waitress.server


    _setup_logging()
    os.umask(0o077)  # the instance holds tokens, password hashes and leave reasons
    instance = settings.instance_dir
    lock = instance_lock(instance)  # one service per instance folder; held until exit
    external = settings.external_caldav()  # None: the embedded server
    if not port_free(_bind(args.host), args.port):
        raise UsageError(f"the web port {args.port} is in use (choose another with --port)")
    embedded: EmbeddedCalDAV | None = None
    if external is None:
        port, why = choose_port(args.host, args.port, args.caldav_port, instance)
        if why == "chosen":
            print(f"calsync: port {args.port + 1} is in use, so the CalDAV server takes port "
                  f"{port}; phones need that address (kept for restarts; change it with "
                  f"--caldav-port)", flush=True)
        embedded = EmbeddedCalDAV(instance, args.host, port, None, orgs)
        conf: dict[str, str] = {"url": embedded.home_url, "username": "calsync",
                                "password": embedded.password, "server_kind": "radicale"}
    else:
        conf = external
    app = create_app({
        "CALSYNC_SETTINGS": settings,
        "CALSYNC_DATABASE_URL": settings.database_url,
        "CALSYNC_INSTANCE": str(instance),
        "CALSYNC_POLICIES": str(policies.root),
        "CALSYNC_CALDAV": conf,
        "CALSYNC_LISTEN_URL": listen_url(args.host, args.port),
    })
    core = app.extensions["calsync"]
    log.info(holiday_years_line(core.policies, dt.datetime.now(TZ).date()))
    scheduler: Scheduler | None = None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        # bind the web port before starting anything else: a port in use fails fast
        try:
            server = waitress.server.create_server(
                app, host=args.host, port=args.port, threads=args.threads, ident="calsync",
                **waitress_options(app))
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror} "
                             f"(choose another with --port)") from None
        _first_secretary(core, settings)
        if embedded is not None:
            embedded.database_url = core.store.engine.url.render_as_string(hide_password=False)
            embedded.start()
            remember_port(instance, embedded.port)
        target = caldav_target(conf)
        assert target is not None
        # the SQLite publish lock lives beside the database file (the instance folder)
        scheduler = Scheduler(core.policies, core.store, target, orgs=orgs, settings=settings)
        # the scheduler's policies follow a reload (directory import), so do the grants
        scheduler.on_published = _granter(embedded, lambda: scheduler.policies)
        app.extensions[EXTENSION] = scheduler
        _print_urls(args, core, embedded, external, orgs)
        scheduler.start()
        server.run()  # returns on Ctrl-C / SIGTERM (KeyboardInterrupt), after shutdown
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut cleanup
        print("calsync: stopping (no new publishing; the one in progress ends after the "
              "resource it is writing)", flush=True)
        if scheduler is not None:
            scheduler.stop()
            print("calsync: scheduler stopped", flush=True)
        if embedded is not None:
            embedded.stop()
            print("calsync: CalDAV server stopped", flush=True)
        core.close()
        lock.close()
        signal.signal(signal.SIGTERM, previous)
    print("calsync: stopped", flush=True)
    return 0


def _bind(host: str) -> str:
    return "127.0.0.1" if host in ("", "localhost") else host


def instance_lock(instance: Path) -> IO[str]:
    """An exclusive lock on ``<instance>/serve.lock`` for the life of the process: a second
    ``calsync serve`` on the same folder would share its store and CalDAV data."""
    import fcntl

    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    fh = open(instance / SERVE_LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held open
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.seek(0)
        pid = fh.read().strip() or "?"
        fh.close()
        raise UsageError(f"another calsync serve (pid {pid}) is running on the instance folder "
                         f"{instance} (stop it, or give this one its own --instance)") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"{os.getpid()}\n")
    fh.flush()
    return fh


def _granter(embedded: Any, policies_now: Callable[[], PolicySet]) -> Any:
    """The embedded server's rights follow every publish; every person gets a home with
    their organization's calendar at once (before the first publish). The directory is read
    at each publish, so people who left (a reload after a directory import) lose access."""
    if embedded is None:
        return None

    def people() -> tuple[dict[str, list[str]], dict[str, str]]:
        orgs = policies_now().organizations.values()
        return ({o.id: [p.id for p in o.staff] for o in orgs},
                leavers_of(p for o in orgs for p in o.staff))

    staff, left = people()
    orgs = policies_now().organizations.values()
    embedded.grant([CollectionSpec(o.id, o.calendar_name or o.name, (o.id,), ())
                    for o in orgs], list(staff), staff, left)

    def grant(org: str, result: Any) -> None:
        staff, left = people()
        embedded.grant(result.specs, [org], staff, left)
    return grant


def _first_secretary(core: Any, settings: Settings) -> None:
    username, password = accounts.first_secretary_password(core.store, core.policies,
                                                           settings.admin_password)
    if password:
        print(f"calsync: first secretary account: {username} password: {password} "
              f"(shown once; change it with `calsync user set-password {username}`)",
              flush=True)
    elif username and settings.admin_password:
        print(f"calsync: first secretary account {username} uses $CALSYNC_ADMIN_PASSWORD",
              flush=True)


def _print_urls(args: Any, core: Any, embedded: Any, external: dict[str, str] | None,
                orgs: list[str]) -> None:
    host = shown_host(args.host)
    page = listen_url(args.host, args.port) + "/"
    print(f"calsync: serving on {page} (store {core.store.url})", flush=True)
    print(f"calsync: feeds: {page}subscriptions", flush=True)
    if embedded is not None:
        print(f"calsync: CalDAV for phones and desktop calendars: http://{host}:{embedded.port}/ "
              f"(server address only; your calsync user name and password; data in "
              f"{embedded.folder})", flush=True)
    else:
        assert external is not None
        print(f"calsync: publishing to {external['url']} (no embedded CalDAV server)",
              flush=True)
    print("calsync: Ctrl-C to stop; the tests run in a second terminal, in the calsync source "
          "folder (the clone you installed from): scripts/test", flush=True)
