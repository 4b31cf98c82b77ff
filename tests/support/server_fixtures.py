"""CalDAV server fixtures (Radicale, Xandikos) and the faulty proxy.

Server processes are session-scoped (started once, lazily); each test gets isolation from
fresh collection URLs (``calendar_url`` not yet created, ``calendar`` created and empty).
When a test fails, the log tails of the servers it used are attached to its report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.faultproxy import FaultProxy
from tests.support.servers import SERVER_KINDS, ServerHandle, start_radicale, start_xandikos


@pytest.fixture(scope="session")
def radicale_server() -> Iterator[ServerHandle]:
    handle = start_radicale()
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def xandikos_server() -> Iterator[ServerHandle]:
    handle = start_xandikos()
    yield handle
    handle.stop()


@pytest.fixture(params=SERVER_KINDS, ids=list(SERVER_KINDS))
def caldav_server(request: pytest.FixtureRequest) -> ServerHandle:
    """Each test using this runs once per server kind."""
    handle: ServerHandle = request.getfixturevalue(f"{request.param}_server")
    if not handle.alive():
        pytest.fail(f"{handle.kind} server died:\n{handle.log_tail()}")
    return handle


@pytest.fixture
def calendar_url(caldav_server: ServerHandle, request: pytest.FixtureRequest) -> str:
    """A unique collection URL under the calendar home that does not exist yet."""
    return caldav_server.new_calendar_url(prefix=_slug(request.node.name))


@pytest.fixture
def calendar(caldav_server: ServerHandle, calendar_url: str) -> str:
    """URL of a freshly created, empty calendar collection (created by a direct MKCALENDAR)."""
    return caldav_server.mkcalendar(calendar_url)


@pytest.fixture
def fault_proxy_factory() -> Iterator[Callable[..., FaultProxy]]:
    """Start a FaultProxy in front of any server; all are stopped after the test."""
    proxies: list[FaultProxy] = []

    def make(server: ServerHandle, delay_seconds: float = 2.0) -> FaultProxy:
        proxy = FaultProxy(server.url, delay_seconds=delay_seconds).start()
        proxies.append(proxy)
        return proxy

    yield make
    for p in proxies:
        p.stop()


@pytest.fixture
def fault_proxy(
    caldav_server: ServerHandle, fault_proxy_factory: Callable[..., FaultProxy]
) -> FaultProxy:
    """A FaultProxy in front of ``caldav_server``; use ``proxy.proxied(url)`` for URLs."""
    return fault_proxy_factory(caldav_server)


def _slug(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return cleaned[:40] or "t"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" or not report.failed:
        return
    seen: set[int] = set()
    for value in getattr(item, "funcargs", {}).values():
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, ServerHandle):
            report.sections.append((f"{value.kind} log tail ({value.log_path})", value.log_tail()))
        elif isinstance(value, FaultProxy):
            report.sections.append(("fault proxy log", "\n".join(map(str, value.log[-40:]))))
