"""Start and stop real CalDAV servers (Radicale, Xandikos) as subprocesses on loopback.

Used by the pytest fixtures and by benchmarks; nothing here is pytest-specific.
Every server gets its own temporary directory holding config, data and log.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
DEFAULT_USERS: dict[str, str] = {"calsync": "calsync-test"}
# Xandikos serves a single principal at this path; its calendar home is <principal>calendars/.
XANDIKOS_PRINCIPAL = "/user/"


class ServerStartError(RuntimeError):
    """A server process did not come up; the message carries the log tail."""


@dataclass
class ServerHandle:
    kind: str
    url: str
    calendar_home_url: str
    username: str | None
    password: str | None
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    # The temp dir owning data_dir/log_path; removed by stop() only if we created it.
    base_dir: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def auth(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password)

    def auth_headers(self) -> dict[str, str]:
        if self.auth is None:
            return {}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def new_calendar_url(self, prefix: str = "t") -> str:
        """A unique, not yet existing collection URL under the calendar home."""
        return f"{self.calendar_home_url}{prefix}-{uuid.uuid4().hex[:12]}/"

    def request(
        self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One raw request straight to the server (no proxy, no caldav): for setup/asserts."""
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            all_headers = {**self.auth_headers(), **(headers or {})}
            conn.request(method, parts.path or "/", body, all_headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def mkcalendar(self, url: str | None = None, displayname: str | None = None) -> str:
        """Create an empty calendar collection (default: a fresh unique one); return its URL."""
        url = url or self.new_calendar_url()
        body = b""
        if displayname is not None:
            body = (
                '<?xml version="1.0" encoding="utf-8"?>'
                '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                f"<D:set><D:prop><D:displayname>{displayname}</D:displayname></D:prop></D:set>"
                "</C:mkcalendar>"
            ).encode()
        headers = {"Content-Type": "application/xml; charset=utf-8"} if body else {}
        status, _, data = self.request("MKCALENDAR", url, body, headers)
        if status != 201:
            raise RuntimeError(f"MKCALENDAR {url} -> {status}: {data[:300]!r}")
        return url

    def caldav_client(self, url: str | None = None, **kwargs: Any) -> Any:
        """A caldav.DAVClient with this server's feature hints from calsync.sync.quirks (so a
        save(no_overwrite=True) is one PUT with If-None-Match: *) and preemptive Basic auth
        (no 401 round trip). ``url`` defaults to the calendar home; kwargs go to DAVClient."""
        import caldav

        from calsync.sync.quirks import quirks_for

        q = quirks_for(self.kind)
        if self.auth is not None and q.preemptive_basic_auth:
            kwargs.setdefault("auth_type", "basic")
        return caldav.DAVClient(
            url=url or self.calendar_home_url,
            username=self.username,
            password=self.password,
            features=q.caldav_features or None,
            **kwargs,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def stop(self, remove_data: bool = True) -> None:
        """Terminate the process (SIGTERM, then SIGKILL) and optionally drop the temp dir."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log_file is not None:
            with contextlib.suppress(Exception):
                self._log_file.close()
            self._log_file = None
        if remove_data and self.base_dir is not None:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<no log: {e}>"
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A port that was free a moment ago (the server binds it itself, so retry on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(
    process: subprocess.Popen[bytes],
    port: int,
    log_path: Path,
    kind: str,
    timeout: float = READY_TIMEOUT,
) -> None:
    """Poll with OPTIONS / until the server answers anything HTTP; fail early if it exits."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"{kind} exited with code {process.returncode} before answering on port {port}"
                f"\n--- log tail ({log_path}) ---\n{log_tail(log_path)}"
            )
        conn = http.client.HTTPConnection(HOST, port, timeout=1)
        try:
            conn.request("OPTIONS", "/")
            conn.getresponse().read()
            return
        except OSError as e:
            last_error = e
        finally:
            conn.close()
        time.sleep(0.05)
    raise ServerStartError(
        f"{kind} did not answer on {HOST}:{port} within {timeout:.0f}s ({last_error!r})"
        f"\n--- log tail ({log_path}) ---\n{log_tail(log_path)}"
    )


def _spawn(
    kind: str, argv: list[str], base: Path, port: int, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path, IO[bytes]]:
    log_path = base / f"{kind}.log"
    log_file = open(log_path, "ab")  # noqa: SIM115 - handle owned by ServerHandle
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=base,
        env={**os.environ, **(env or {})},
        # own process group: a Ctrl-C in the test run doesn't race our own shutdown
        start_new_session=True,
    )
    try:
        wait_ready(proc, port, log_path, kind)
    except ServerStartError:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log_file.close()
        raise
    return proc, log_path, log_file


def _start_with_retries(
    kind: str, base: Path, argv: Callable[[int], list[str]], attempts: int = 3
) -> tuple[int, subprocess.Popen[bytes], Path, IO[bytes]]:
    # free_port() → bind is racy against other processes; a clash shows as an early exit.
    error: ServerStartError | None = None
    for _ in range(attempts):
        port = free_port()
        try:
            proc, log_path, log_file = _spawn(kind, argv(port), base, port)
            return port, proc, log_path, log_file
        except ServerStartError as e:
            error = e
            if "in use" not in str(e).lower():
                raise
    assert error is not None
    raise error


def _radicale_config(base: Path, port: int, users: dict[str, str]) -> Path:
    htpasswd = base / "htpasswd"
    htpasswd.write_text("".join(f"{u}:{p}\n" for u, p in users.items()))
    storage = base / "collections"
    storage.mkdir(exist_ok=True)
    config = base / "radicale.conf"
    config.write_text(
        "[server]\n"
        f"hosts = {HOST}:{port}\n"
        # 5xx responses are delayed by default; tests inject their own faults
        "delay_on_error = 0\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {htpasswd}\n"
        "htpasswd_encryption = plain\n"
        # a wrong password normally sleeps 1 s; not useful in tests
        "delay = 0\n"
        "[rights]\n"
        # each user owns /<user>/... and nothing else
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {storage}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = info\n"
    )
    return config


def start_radicale(
    users: dict[str, str] | None = None,
    base_dir: Path | None = None,
) -> ServerHandle:
    """Radicale with htpasswd (plain) auth and owner_only rights; first user is the handle's."""
    users = dict(users or DEFAULT_USERS)
    created = base_dir is None
    base = Path(tempfile.mkdtemp(prefix="calsync-radicale-")) if created else Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)

    def argv(port: int) -> list[str]:
        config = _radicale_config(base, port, users)
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    try:
        port, proc, log_path, log_file = _start_with_retries("radicale", base, argv)
    except BaseException:
        if created:
            shutil.rmtree(base, ignore_errors=True)
        raise
    user, password = next(iter(users.items()))
    url = f"http://{HOST}:{port}/"
    return ServerHandle(
        kind="radicale",
        url=url,
        calendar_home_url=f"{url}{user}/",
        username=user,
        password=password,
        data_dir=base / "collections",
        log_path=log_path,
        process=proc,
        base_dir=base if created else None,
        _log_file=log_file,
    )


def start_xandikos(base_dir: Path | None = None) -> ServerHandle:
    """Xandikos (no auth) with --autocreate: principal /user/, calendar home /user/calendars/."""
    created = base_dir is None
    base = Path(tempfile.mkdtemp(prefix="calsync-xandikos-")) if created else Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"

    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "xandikos",
            "serve",
            "--directory",
            str(data),
            # keys/certs would otherwise go to $XDG_DATA_HOME
            "--state-dir",
            str(base / "state"),
            "--autocreate",
            "--current-user-principal",
            XANDIKOS_PRINCIPAL,
            "--no-detect-systemd",
            "--listen-address",
            HOST,
            "--port",
            str(port),
        ]

    try:
        port, proc, log_path, log_file = _start_with_retries("xandikos", base, argv)
    except BaseException:
        if created:
            shutil.rmtree(base, ignore_errors=True)
        raise
    url = f"http://{HOST}:{port}/"
    return ServerHandle(
        kind="xandikos",
        url=url,
        calendar_home_url=f"http://{HOST}:{port}{XANDIKOS_PRINCIPAL}calendars/",
        username=None,
        password=None,
        data_dir=data,
        log_path=log_path,
        process=proc,
        base_dir=base if created else None,
        _log_file=log_file,
    )


SERVER_KINDS: tuple[str, ...] = ("radicale", "xandikos")


def start_server(kind: str, **kwargs: object) -> ServerHandle:
    if kind == "radicale":
        return start_radicale(**kwargs)  # type: ignore[arg-type]
    if kind == "xandikos":
        return start_xandikos(**kwargs)  # type: ignore[arg-type]
    raise ValueError(f"unknown server kind {kind!r}; expected one of {SERVER_KINDS}")


def stop_all(handles: Iterable[ServerHandle]) -> None:
    for h in handles:
        h.stop()
