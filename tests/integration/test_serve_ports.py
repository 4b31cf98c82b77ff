"""`calsync serve` and its ports: a taken port is exit 2 with one line naming it and the flag,
before anything is published; a CalDAV port chosen because the next one was taken is said and
kept for restarts; one service per instance folder."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.serve_proc import start_serve
from tests.support.servers import free_port


@contextmanager
def occupied(port: int) -> Iterator[socket.socket]:
    """Another program listening on ``port``."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    try:
        yield s
    finally:
        s.close()


def serve_once(args: list[str], instance: Path, timeout: float = 60) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "calsync.cli", "serve", *args],
                          capture_output=True, timeout=timeout,
                          env={**_env(instance)}, stdin=subprocess.DEVNULL)
    return done.returncode, (done.stdout + done.stderr).decode()


def _env(instance: Path) -> dict[str, str]:
    import os

    return {**os.environ, "CALSYNC_INSTANCE": str(instance),
            "CALSYNC_ADMIN_PASSWORD": "admin-secret-1"}


def _published_nothing(instance: Path, out: str) -> None:
    assert "published" not in out
    collections = instance / "caldav" / "collections" / "collection-root" / "calsync"
    assert not collections.exists() or not any(collections.iterdir())


@pytest.mark.parametrize("which", ["web", "caldav", "both"])
def test_a_taken_port_is_exit_2_with_one_line(tmp_path: Path, which: str) -> None:
    web, dav = free_port(), free_port()
    instance = tmp_path / "inst"
    taken = {"web": [web], "caldav": [dav], "both": [web, dav]}[which]
    with occupied(taken[0]), (occupied(taken[1]) if len(taken) > 1 else _nothing()):
        code, out = serve_once(["--port", str(web), "--caldav-port", str(dav)], instance)
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    if which == "caldav":
        assert f"CalDAV port {dav} is in use" in lines[0] and "--caldav-port" in lines[0]
    else:
        assert f"web port {web} is in use" in lines[0] and "--port" in lines[0]
    _published_nothing(instance, out)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def test_next_port_taken_is_said_and_kept_for_restarts(tmp_path: Path) -> None:
    instance = tmp_path / "inst"
    web = free_port()
    while True:  # a web port whose next port we can take
        try:
            with occupied(web + 1):
                break
        except OSError:
            web = free_port()
    with occupied(web + 1):
        serve = start_serve([], _env(instance), tmp_path / "serve1.log", web)
        try:
            serve.wait_line(r"CalDAV for phones")
            line = serve.lines(r"is in use, so the CalDAV server takes port")[0]
            port = int(line.split("takes port ")[1].split(";")[0])
            assert port != web + 1 and "phones need that address" in line
            assert (instance / "caldav" / "port").read_text().strip() == str(port)
            # a second service on the same instance folder is refused
            code, out = serve_once(["--port", str(free_port())], instance)
            assert code == 2 and "another calsync serve" in out and "--instance" in out, out
        finally:
            assert serve.stop() == 0, serve.log()
    # a restart (web + 1 free now) keeps the port the phones know
    serve = start_serve([], _env(instance), tmp_path / "serve2.log", web)
    try:
        serve.wait_line(r"CalDAV for phones")
        assert f"http://localhost:{port}/" in serve.lines(r"CalDAV for phones")[0]
        # the README's first command says how to stop it and where the second one runs
        [stop] = serve.wait_line(r"Ctrl-C to stop")
        assert "second terminal" in stop and stop.endswith("scripts/test"), stop
    finally:
        assert serve.stop() == 0, serve.log()


def test_instance_files_are_private(tmp_path: Path) -> None:
    from calsync.store import open_store

    instance = tmp_path / "inst"
    with open_store(None, instance) as store:
        store.users.set_user("qian_keyuan", organization="guanliban", display_name="钱丽",
                             role="staff", password_hash=None, actor="test")
    db = instance / "calsync.sqlite3"
    assert db.stat().st_mode & 0o777 == 0o600
    assert instance.stat().st_mode & 0o777 == 0o700
    for extra in ("calsync.sqlite3-wal", "calsync.sqlite3-shm"):
        path = instance / extra
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, extra
