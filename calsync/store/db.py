"""Database URLs, engines and migrations.

Which database: the ``url`` argument, else ``CALSYNC_DATABASE_URL``, else
``<instance>/calsync.sqlite3`` where the instance folder is ``CALSYNC_INSTANCE`` or ``./instance``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from calsync.errors import StoreError
from calsync.settings import ENV_DATABASE_URL, ENV_INSTANCE, Settings
from calsync.store.health import StoreUnavailable, classify

if TYPE_CHECKING:
    from alembic.config import Config

ENV_URL = ENV_DATABASE_URL
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Seconds a writer waits for another writer's lock before giving up (SQLite busy timeout).
BUSY_TIMEOUT_S = 30
# Key of the PostgreSQL advisory lock that serializes migrations ("calsync" in ASCII).
MIGRATION_LOCK_KEY = 0x63616C73796E63
# Execution option that makes a SQLite transaction take the write lock up front.
SQLITE_IMMEDIATE = "calsync_sqlite_immediate"

_ALEMBIC_LOCK = threading.Lock()
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")
_PASSWORD_QUERY = re.compile(r"([?&]password=)[^&\s]*")


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, safe to show and log."""
    shown = url.render_as_string(hide_password=True) if isinstance(url, URL) else url
    # libpq also takes ?password=
    return _PASSWORD_QUERY.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***\3", shown))


def instance_dir(path: Path | None = None) -> Path:
    """The instance folder (created if missing)."""
    folder = Settings.from_env(instance=path).instance
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # tokens and leave reasons
    except OSError as exc:
        raise StoreError(
            f"cannot create the instance folder {folder}: {exc.strerror} "
            f"(set {ENV_INSTANCE} or {ENV_URL} to somewhere writable)"
        ) from None
    return folder


def resolve_url(url: str | None = None, instance: Path | None = None) -> URL:
    """Pick the database URL and point PostgreSQL URLs at the psycopg 3 driver."""
    settings = Settings.from_env(database_url=url, instance=instance)
    raw = settings.database_url
    if not raw:
        instance_dir(instance)
        return URL.create("sqlite", database=str(settings.sqlite_path.resolve()))
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise StoreError(
            f"cannot parse database URL {mask_url(raw)!r} (expected e.g. "
            f"postgresql://user:password@host:5432/calsync or sqlite:///path/calsync.sqlite3; "
            f"check {ENV_URL})"
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise StoreError(
        f"unsupported database {mask_url(parsed)!r}: calsync works with postgresql:// and "
        f"sqlite:/// URLs (check {ENV_URL})"
    )


def _enable_wal(cursor: Any) -> None:
    # WAL is stored in the file, so this is a read after the first time. Switching to it needs
    # an exclusive lock and SQLite answers "database is locked" at once, without waiting for
    # the busy timeout, while another connection is opening the same new file: retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() in ("wal", "memory"):
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling skips BEGIN before DDL and cannot do BEGIN
    # IMMEDIATE; take it over so migrations are atomic and writers queue on the busy timeout
    # instead of failing with "database is locked" when upgrading a read lock.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, much faster
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_db_engine(url: URL) -> Engine:
    """An engine for ``url`` with calsync's connection settings (no connection made yet)."""
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot use database {mask_url(url)!r}: {exc} (is the psycopg package "
            f"installed? check {ENV_URL})"
        ) from None
    if url.get_backend_name() == "sqlite":
        _private_file(url.database)
        _sqlite_setup(engine)
    return engine


def _private_file(database: str | None) -> None:
    """The SQLite file holds feed tokens, password hashes and leave reasons: mode 0600 (its
    -wal and -shm files take the same mode from SQLite)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    with contextlib.suppress(OSError):  # a missing folder is reported by the first connect
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists() and p.stat().st_mode & 0o077:
                p.chmod(0o600)


def _hint(message: str, url: URL) -> str:
    low = message.lower()
    if url.get_backend_name() == "sqlite":
        if "locked" in low:
            return f"another process held the database for over {BUSY_TIMEOUT_S} s; try again"
        return f"check that {url.database} is in a writable folder, or set {ENV_URL}"
    if any(w in low for w in ("refused", "resolve host", "translate host", "timeout")):
        return f"is PostgreSQL running? check the host and port in {ENV_URL}"
    if "password" in low or "authentication" in low or "role" in low:
        return f"check the user name and password in {ENV_URL}"
    if "does not exist" in low and "database" in low:
        return f"create it with `createdb {url.database}` or fix {ENV_URL}"
    return f"check {ENV_URL}"


def connection_error(exc: BaseException, url: URL, doing: str = "connect to") -> StoreError:
    """A StoreError for a failure talking to the database, with the password masked.

    Only the driver's own message is used: SQLAlchemy's text would add SQL and parameters.
    """

    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    message = " ".join(str(orig).split()) or type(orig).__name__
    for secret in (url.password, url.query.get("password")):
        if secret and isinstance(secret, str):
            message = message.replace(secret, "***")
    known = classify(message, url, mask_url(url))
    if known is not None:
        return known
    return StoreUnavailable(f"cannot {doing} {mask_url(url)}: {message} "
                            f"({_hint(message, url)})")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; no alembic.ini needed."""
    from alembic.config import Config  # imported late: half a second the CLI rarely needs

    cfg = Config()
    # set_main_option goes through ConfigParser interpolation, hence the %% escape.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema; a no-op when it is already there.

    Runs in one transaction. PostgreSQL: an advisory lock makes a second process wait, then
    find the schema already migrated. SQLite: BEGIN IMMEDIATE does the same. Within one
    process a lock serializes all upgrades: Alembic's ``context``/``op`` are module globals.
    """
    from alembic import command
    from alembic.util import CommandError

    url = engine.url
    try:
        with _ALEMBIC_LOCK, engine.execution_options(**{SQLITE_IMMEDIATE: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(conn), "head")
            # a write, rolled back: a read-only file or server fails here, at start, not with
            # a 500 on the first form someone sends (and nothing is committed)
            probe = conn.begin_nested()
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            probe.rollback()
    except CommandError as exc:
        if "Can't locate revision" in str(exc):
            raise StoreError(
                f"database {mask_url(url)} has a newer schema than this calsync knows "
                f"(newest here: {head_revision()}): upgrade calsync, or point {ENV_URL} at "
                f"another database"
            ) from None
        raise StoreError(f"cannot migrate {mask_url(url)}: {exc}") from None
    except SQLAlchemyError as exc:
        raise connection_error(exc, url, "migrate") from None
    except UnicodeDecodeError as exc:  # a damaged file can hand back undecodable text
        raise connection_error(exc, url, "migrate") from None
