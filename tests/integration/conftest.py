"""Integration tests: real CalDAV servers (Radicale, Xandikos), SMTP, ``calsync``
subprocesses, the package as installed. The servers, the fault proxy and the SMTP server are
fixtures of tests/support/*_fixtures.py; what several files here share is below."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.faultproxy import FaultProxy
from tests.support.servers import ServerHandle
from tests.support.sync_env import Env


@pytest.fixture
def env(caldav_server: ServerHandle, calendar_url: str, fault_proxy: FaultProxy, store: Any) -> Env:
    """A fresh collection on each server kind, reached through the fault proxy, and a store."""
    return Env(caldav_server, fault_proxy, store, fault_proxy.proxied(calendar_url))
