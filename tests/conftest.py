"""Shared fixtures. Server, database and app fixtures live in tests/support/*_fixtures.py."""

from __future__ import annotations

pytest_plugins = [
    "tests.support.server_fixtures",
    "tests.support.db_fixtures",
]
