"""Database fixtures: SQLite and a throw-away PostgreSQL database.

PostgreSQL must be reachable (it is on dev machines and in CI): the fixtures FAIL, never skip,
when it is not. Override the server with ``CALSYNC_TEST_POSTGRES_ADMIN_URL`` (a superuser URL
to an existing database, default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from calsync.store import Store

ADMIN_URL_ENV = "CALSYNC_TEST_POSTGRES_ADMIN_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


def _admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def _admin_connect(url: str | None = None) -> psycopg.Connection:
    url = url or _admin_url()
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(url).render_as_string()}: "
            f"{' '.join(str(exc).split())}\n"
            f"Start it (e.g. `service postgresql start`) or point {ADMIN_URL_ENV} at a server "
            f"where that user may CREATE DATABASE. The store tests never skip PostgreSQL.",
            pytrace=False,
        )


def _database_url(name: str) -> str:
    return (
        make_url(_admin_url())
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Callable[[], str]]:
    """A factory for fresh, empty PostgreSQL databases; all are dropped at the end."""
    created: list[str] = []

    def create() -> str:
        name = f"calsync_test_{secrets.token_hex(6)}"
        with _admin_connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return _database_url(name)

    yield create
    if created:
        with _admin_connect() as conn:
            for name in created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def postgres_url(postgres_databases: Callable[[], str]) -> str:
    """One PostgreSQL database for the whole session (``postgresql+psycopg://`` URL)."""
    return postgres_databases()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'calsync.sqlite3'}"


def _empty_tables(url: str) -> None:
    """Clear the shared PostgreSQL database between tests (the schema stays)."""
    from calsync.store.models import Base

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with _admin_connect(plain) as conn:
        present = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
        tables = [t.name for t in Base.metadata.sorted_tables if t.name in present]
        if tables:
            names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
            conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(names))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A database URL per backend; the PostgreSQL one is shared but emptied for each test."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url: str = request.getfixturevalue("postgres_url")
    _empty_tables(url)
    return url


@pytest.fixture(params=BACKENDS)
def fresh_db_url(request: pytest.FixtureRequest) -> str:
    """A database that has never been opened (no schema), per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_databases")()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open, migrated store on each backend (ids "sqlite" and "postgresql")."""
    from calsync.store import open_store

    with open_store(db_url) as opened:
        yield opened
