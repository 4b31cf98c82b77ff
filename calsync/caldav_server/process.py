"""The embedded CalDAV server of ``calsync serve``: Radicale as a supervised child process.

Data, config, rights and log live in ``<instance>/caldav/``. Accounts are calsync's users
(``calsync.caldav_server.auth``) plus the service account ``calsync`` that publishes; the rights
plugin (``calsync.caldav_server.rights``) lets the service account write everything below
``/calsync/`` and each person read the collections ``grants.json`` gives them, linked into
their read-only home ``/<person>/`` so clients discover them (``calsync.caldav_server.grants``);
nobody else writes. A child that dies is restarted; the child dies with its parent
(PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from calsync.caldav_server.auth import SERVICE_USER
from calsync.caldav_server.grants import apply_grants, grants_of, merge_grants, read_grants
from calsync.errors import CalsyncError, UsageError
from calsync.settings import (
    DEFAULT_CALDAV_MAX_BYTES,
    ENV_DATABASE_URL,
    ENV_INSTANCE,
    ENV_PARENT_PID,
    PASSWORD_FILE,
    Settings,
    caldav_folder,
)
from calsync.sync.client import Target
from calsync.sync.publish import CollectionSpec

log = logging.getLogger(__name__)

COLLECTION_ROOT = "calsync"
READY_TIMEOUT = 30.0
RESTART_BACKOFF_MAX = 30.0


class CalDAVServerError(CalsyncError):
    """The embedded CalDAV server could not start."""


PORT_FILE = "port"


def port_free(host: str, port: int) -> bool:
    """Can a server listen on ``host:port``? SO_REUSEADDR as servers bind, so the TIME_WAIT
    sockets a stopped calsync leaves behind do not count as taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _bind_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "localhost") else host


def remembered_port(instance: Path) -> int | None:
    try:
        value = int((caldav_folder(instance) / PORT_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return value if 0 < value < 65536 else None


def remember_port(instance: Path, port: int) -> None:
    folder = caldav_folder(instance)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    (folder / PORT_FILE).write_text(f"{port}\n", encoding="utf-8")


def choose_port(host: str, web_port: int, requested: int | None,
                instance: Path | None = None) -> tuple[int, str]:
    """The CalDAV port and why: ``requested`` (must be free), else the port this instance used
    before (phones know it: it must be free), else the web port + 1 when free, else any free
    port. A taken port is a UsageError naming the flag to change it."""
    bind_host = _bind_host(host)
    if requested:
        if not port_free(bind_host, requested):
            raise UsageError(f"the CalDAV port {requested} is in use (choose another with "
                             f"--caldav-port)")
        return requested, "requested"
    before = remembered_port(instance) if instance is not None else None
    if before:
        if not port_free(bind_host, before):
            raise UsageError(f"the CalDAV port {before} this instance used before is in use; "
                             f"phones are set up with it (free it, or choose another with "
                             f"--caldav-port and tell the phones)")
        return before, "remembered"
    if web_port + 1 < 65536 and port_free(bind_host, web_port + 1):
        return web_port + 1, "next to the page"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((bind_host, 0))
        return int(s.getsockname()[1]), "chosen"


def service_password(folder: Path) -> str:
    """The service account's password, created (random, mode 0600) on first use."""
    path = folder / PASSWORD_FILE
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    folder.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


# The largest request body the embedded server reads (Radicale answers 413 above it). Only
# the service account writes, and a year-long series of a 300-person bureau is far below.
DEFAULT_MAX_BYTES = DEFAULT_CALDAV_MAX_BYTES


def max_bytes(environ: Mapping[str, str] | None = None) -> int:
    """``CALSYNC_CALDAV_MAX_BYTES`` of ``environ`` (default: the process' variables)."""
    return Settings.from_env(os.environ if environ is None else environ).caldav_max_bytes


def config_text(host: str, port: int, folder: Path) -> str:
    return (
        "[server]\n"
        f"hosts = {host}:{port}\n"
        f"max_content_length = {max_bytes()}\n"
        "[auth]\n"
        "type = calsync.caldav_server.auth\n"
        # Radicale ignores cache_logins for plugins outside its list: calsync.caldav_server.auth
        # keeps its own cache of verified logins (phones send credentials with every request)
        "cache_logins = False\n"
        "[rights]\n"
        "type = calsync.caldav_server.rights\n"
        "[storage]\n"
        f"filesystem_folder = {folder / 'collections'}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = warning\n"
    )


class EmbeddedCalDAV:
    """Radicale on ``host:port`` with its data in ``<instance>/caldav``."""

    def __init__(self, instance: Path, host: str, port: int, database_url: str | None,
                 orgs: list[str]) -> None:
        self.folder = caldav_folder(instance)
        self.instance = instance
        self.host = host or "127.0.0.1"
        self.port = port
        self.database_url = database_url
        self.orgs = list(orgs)
        self.password = service_password(self.folder)
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()
        self._grant_lock = threading.Lock()

    @property
    def local_host(self) -> str:
        """Where this machine reaches the server (a wildcard bind is reached on loopback)."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host

    @property
    def home_url(self) -> str:
        return f"http://{self.local_host}:{self.port}/{COLLECTION_ROOT}/"

    def target(self) -> Target:
        return Target(url=self.home_url, username=SERVICE_USER, password=self.password,
                      server_kind="radicale")

    def collection_url(self, org: str, shown_host: str | None = None) -> str:
        return f"http://{shown_host or self.local_host}:{self.port}/{COLLECTION_ROOT}/{org}/"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def grant(self, specs: Iterable[CollectionSpec], orgs: Iterable[str],
              staff: Mapping[str, Iterable[str]],
              left: Mapping[str, str] | None = None) -> None:
        """After a publish of ``orgs``: who reads which collection, and every person's home
        with links to what they may read (calsync.caldav_server.grants); ``left``: person → last
        day in office, whose login the server refuses after that day."""
        with self._grant_lock:
            old = read_grants(self.folder)
            fresh = grants_of(specs, staff)
            if left is not None:
                fresh["left"] = dict(left)
            new = merge_grants(old, fresh, orgs)
            people = {p for ids in staff.values() for p in ids}
            apply_grants(self.folder, new, people)

    def _write_files(self) -> Path:
        (self.folder / "collections").mkdir(parents=True, exist_ok=True)
        stale = self.folder / "rights"  # the from_file rules of earlier versions
        stale.unlink(missing_ok=True)
        config = self.folder / "radicale.conf"
        config.write_text(config_text(self.host, self.port, self.folder), encoding="utf-8")
        return config

    def _spawn(self) -> subprocess.Popen[bytes]:
        config = self._write_files()
        env = {**os.environ, ENV_INSTANCE: str(self.instance), ENV_PARENT_PID: str(os.getpid())}
        env.pop(ENV_DATABASE_URL, None)
        if self.database_url:
            env[ENV_DATABASE_URL] = self.database_url
        logfile = open(self.folder / "radicale.log", "ab")  # noqa: SIM115 - child owns a copy
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "calsync.caldav_server.process", "--config", str(config)],
                stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                cwd=self.folder, env=env,
                # own session: a Ctrl-C in the terminal reaches calsync, which stops it in order
                start_new_session=True)
        finally:
            logfile.close()

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CalDAVServerError(
                    f"the embedded CalDAV server (Radicale) exited with code {proc.returncode} "
                    f"on port {self.port} (see {self.folder / 'radicale.log'}; is the port in "
                    f"use? choose another with --caldav-port)")
            conn = http.client.HTTPConnection(self.local_host, self.port, timeout=1)
            try:
                conn.request("OPTIONS", "/")
                conn.getresponse().read()
                # answered — by our child? (another program on the port answers too)
                time.sleep(0.2)
                if proc.poll() is None:
                    return
                continue
            except OSError:
                time.sleep(0.05)
            finally:
                conn.close()
        raise CalDAVServerError(f"the embedded CalDAV server did not answer on port "
                                f"{self.port} within {READY_TIMEOUT:.0f} s "
                                f"(see {self.folder / 'radicale.log'})")

    def start(self) -> None:
        proc = self._spawn()
        try:
            self._wait_ready(proc)
        except BaseException:
            _terminate(proc)
            raise
        self._proc = proc
        self._watcher = threading.Thread(target=self._watch, name="calsync-caldav-watch",
                                         daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None or proc.poll() is None:
                self._stopping.wait(0.5)
                continue
            log.warning("calsync: the embedded CalDAV server exited (code %s); restarting in "
                        "%.0f s", proc.returncode, backoff)
            if self._stopping.wait(backoff):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                try:
                    new = self._spawn()
                    self._wait_ready(new)
                except (CalsyncError, OSError) as exc:
                    log.error("calsync: %s", exc)
                    backoff = min(backoff * 2, RESTART_BACKOFF_MAX)
                    continue
                self._proc = new
                self.restarts += 1
                backoff = 1.0
                log.warning("calsync: the embedded CalDAV server is back (pid %s)", new.pid)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self._proc is not None:
                _terminate(self._proc)
        if self._watcher is not None:
            self._watcher.join(timeout=5)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _die_with_parent() -> None:
    # Linux: SIGTERM when the parent dies, even by kill -9, so no Radicale is left behind.
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    parent = Settings.from_env().parent_pid
    if parent and os.getppid() != int(parent):  # the parent died before prctl
        sys.exit(0)


def main() -> None:
    """The child: ``python -m calsync.caldav_server.process --config FILE`` runs Radicale."""
    _die_with_parent()
    from radicale.__main__ import run

    sys.argv = ["radicale", *sys.argv[1:]]
    run()


if __name__ == "__main__":
    main()
