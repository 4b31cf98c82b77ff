"""Browser fixtures: the web app served by waitress on a free loopback port, and Debian's
headless Chromium driven by Playwright (``executable_path``; a browser is never downloaded).

Screenshots go to ``test-artifacts/screenshots/`` (kept by CI as artifacts, ignored by git).
A missing Chromium or Playwright FAILS the tests: CI installs both (.ci/run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.support.servers import ServerHandle, free_port

CHROMIUM_ENV = "CALSYNC_TEST_CHROMIUM"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--metrics-recording-only", "--mute-audio",
]


def chromium_path() -> str:
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: install Debian's `chromium` "
                    f"(apt-get install chromium) or set {CHROMIUM_ENV}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LiveWeb:
    url: str
    app: Any
    shots: Path

    def shot(self, page: Any, name: str) -> Path:
        """Save a full-page screenshot named after the step it shows."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@contextlib.contextmanager
def running(app: Any) -> Iterator[LiveWeb]:
    """The app served by waitress for the browser, stopped and closed afterwards."""
    url, server, thread = serve_app(app)
    try:
        yield LiveWeb(url, app, ARTIFACTS)
    finally:
        server.close()
        thread.join(timeout=10)
        app.extensions["calsync"].close()


def shipped_app(root: Path, users: Iterable[str], password: str,
                now: str = "2026-03-01T08:00:00+08:00", **config: Any) -> Any:
    """The web app on the shipped policies and a SQLite store under ``root``; ``users``
    get ``password``."""
    from calsync.web import create_app

    from calsync.meetings.accounts import hash_password
    from calsync.policy import shipped_policies

    app = create_app({"CALSYNC_DATABASE_URL": f"sqlite:///{root / 'calsync.sqlite3'}",
                      "CALSYNC_INSTANCE": str(root / "inst"),
                      "CALSYNC_POLICIES": str(shipped_policies()), "CALSYNC_NOW": now,
                      **config})
    for name in users:
        app.extensions["calsync"].store.users.set_password(name, hash_password(password),
                                                           actor="test")
    return app


def serve_app(app: Any) -> tuple[str, Any, threading.Thread]:
    """The app under waitress (as `calsync serve` runs it) in a thread; returns its URL."""
    from waitress.server import create_server

    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)

    def run() -> None:
        try:
            server.run()
        except OSError as exc:   # server.close() from the test's thread while in select()
            if exc.errno != errno.EBADF:
                raise

    url = f"http://127.0.0.1:{port}"
    app.config["CALSYNC_LISTEN_URL"] = url   # as `calsync serve` does: the links' address
    thread = threading.Thread(target=run, name="waitress", daemon=True)
    thread.start()
    return url, server, thread


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no shared cookies) on a phone-sized screen."""
    context = chromium.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN",
                                   timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


PHONE_VIEWPORT = {"width": 412, "height": 915}


@pytest.fixture
def viewport_pages(chromium: Any) -> Iterator[Callable[[dict[str, int]], Any]]:
    """A factory of pages of a given viewport, each in a fresh context (one per logged-in
    user), zh-CN in Asia/Shanghai; closed after the test."""
    contexts: list[Any] = []

    def new_page(viewport: dict[str, int]) -> Any:
        context = chromium.new_context(viewport=viewport, locale="zh-CN",
                                       timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def browser_pages(viewport_pages: Callable[[dict[str, int]], Any]) -> Callable[[], Any]:
    """A factory of phone-sized pages, each in a fresh context: one per logged-in user."""
    return lambda: viewport_pages(PHONE_VIEWPORT)


# --- page helpers (the templates' markup: flash messages, fields, meeting facts) ----------

def login(web: LiveWeb, page: Any, name: str, password: str, shot: str | None = None) -> Any:
    """Log ``name`` in on ``page`` (a fresh context); ``shot`` names a screenshot of the form."""
    page.goto(f"{web.url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    if shot:
        web.shot(page, shot)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/meetings"))
    assert page.locator("form.who").is_visible()
    return page


def approve(page: Any, web: LiveWeb, item: str) -> str:
    """Press 批准 on /approvals for the list item ``item`` (e.g. "leave-3"); the flash text."""
    page.goto(f"{web.url}/approvals")
    page.locator(f"li#{item}").get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    text = flash(page)
    assert page.locator(f"li#{item}").count() == 0
    return text


def flash(page: Any) -> str:
    return page.locator("p.flash.ok").inner_text()


def field_errors(page: Any, name: str) -> list[str]:
    """The messages shown beside one form field."""
    box = page.locator(".field.has-error", has=page.locator(f"[name={name}]"))
    return box.locator("span.error").all_inner_texts()


def chair_name(page: Any) -> str:
    return page.locator("xpath=//dl[@class='facts']/dt[.='主持']/following-sibling::dd[1]") \
        .inner_text().strip()


def attendee(page: Any, name: str) -> Any:
    return page.locator("ul.attendees li").filter(has_text=name)


# --- the CalDAV side: an empty calendar home, and reading a collection back ---------------

def empty_home(server: ServerHandle) -> str:
    """The calendar home without collections (Radicale refuses nested ones below it)."""
    status, _, body = server.request("PROPFIND", server.calendar_home_url, b"", {"Depth": "1"})
    assert status == 207
    home = urlsplit(server.calendar_home_url).path
    for href in hrefs(body):
        if href.startswith(home) and href.rstrip("/") != home.rstrip("/"):
            server.request("DELETE", urljoin(server.calendar_home_url, href))
    return server.calendar_home_url


def hrefs(body: bytes) -> list[str]:
    return [urlsplit(e.text or "").path for e in ET.fromstring(body).iter("{DAV:}href")]


def read_back(server: ServerHandle, collection: str) -> tuple[list[tuple[str, Any]], bytes]:
    """Every VEVENT of a collection as (UID, event), fetched with plain GETs, and all the
    bodies unfolded (for "appears nowhere" checks)."""
    import icalendar

    status, _, body = server.request("PROPFIND", collection, b"", {"Depth": "1"})
    assert status == 207
    events, raw = [], b""
    for href in hrefs(body):
        if not href.endswith(".ics"):
            continue
        status, _, data = server.request("GET", urljoin(collection, href))
        assert status == 200
        raw += data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
        events += [(str(e["UID"]), e) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]
    assert events
    return events, raw


def override(events: list[tuple[str, Any]], uid: str, recurrence_id: dt.datetime) -> Any:
    """The one RECURRENCE-ID override of ``uid`` for that occurrence."""
    found = [e for u, e in events if u == uid and "RECURRENCE-ID" in e
             and e["RECURRENCE-ID"].dt == recurrence_id]
    assert len(found) == 1, f"{uid} has no single override for {recurrence_id}"
    return found[0]


def attendees(event: Any) -> list[Any]:
    value = event.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]
