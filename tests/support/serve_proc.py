"""``calsync serve`` as a subprocess for tests: start, wait, read its log, stop, find children."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

START_TIMEOUT = 60.0


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def lines(self, pattern: str) -> list[str]:
        return [line for line in self.log().splitlines() if re.search(pattern, line)]

    def wait_page(self, timeout: float = START_TIMEOUT) -> None:
        def answered() -> bool:
            try:
                return requests.get(self.url + "login", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_for(answered, timeout, f"the page at {self.url}", self)

    def wait_line(self, pattern: str, count: int = 1, timeout: float = START_TIMEOUT) -> list[str]:
        wait_for(lambda: len(self.lines(pattern)) >= count, timeout,
                 f"{count} log line(s) matching {pattern!r}", self)
        return self.lines(pattern)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(
                    f"calsync serve ignored signal {sig}:\n{self.log()}") from None
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def wait_for(check: Callable[[], Any], timeout: float, what: str,
             serve: Serve | None = None) -> Any:
    """Poll ``check`` until truthy; fail with the process log when the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if serve is not None and serve.proc.poll() is not None:
            raise AssertionError(f"calsync serve exited ({serve.proc.returncode}) while "
                                 f"waiting for {what}:\n{serve.log()}")
        if time.monotonic() > deadline:
            tail = f"\n--- log ---\n{serve.log()[-6000:]}" if serve is not None else ""
            raise AssertionError(f"gave up waiting for {what}{tail}")
        time.sleep(0.2)


def start_serve(args: list[str], env: dict[str, str], log_path: Path, port: int) -> Serve:
    log = open(log_path, "ab")  # noqa: SIM115 - closed by Serve.stop/kill
    proc = subprocess.Popen(
        [sys.executable, "-m", "calsync.cli", "serve", "--port", str(port), *args],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env}, start_new_session=True)
    return Serve(proc, port, log_path, log)


def run_cli(args: list[str], env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "calsync.cli", *args], input=stdin.encode(),
                          capture_output=True, env={**os.environ, **env}, timeout=120)
    out = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, out
    return out


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(") ", 1)[1][:1]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def login(base: str, username: str, password: str) -> requests.Session:
    s = requests.Session()
    token = csrf(s.get(base + "login", timeout=10).text)
    r = s.post(base + "login", data={"csrf_token": token, "username": username,
                                     "password": password}, timeout=10)
    assert r.ok and "/login" not in r.url, r.text[:2000]
    return s


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1)


def hidden(html: str, name: str) -> str:
    m = (re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
         or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html))
    assert m, f"no field {name} in:\n{html[:2000]}"
    return m.group(1)
