"""One publisher per organization at a time, across processes and machines.

PostgreSQL: a session-level advisory lock held on a connection of its own, so the database
releases it when the holder's process dies (its connection drops). SQLite: an OS file lock
beside the database (the kernel drops it with the process). Both are non-blocking: an instance
that finds the lock taken skips that organization this cycle.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from calsync.store import Store
from calsync.store.db import connection_error

PREFIX = "calsync-publish:"


def lock_key(org: str) -> int:
    """A stable signed 64-bit key (pg advisory locks take a bigint) for ``org``."""
    digest = hashlib.sha256((PREFIX + org).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_path(store: Store, org: str, instance_dir: Path | None = None) -> Path:
    """``publish-<org>.lock`` in the instance folder (the SQLite file's folder by default)."""
    folder = instance_dir or Path(store.engine.url.database or ".").resolve().parent
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in org)
    return folder / f"publish-{safe}.lock"


@contextlib.contextmanager
def publish_lock(store: Store, org: str, instance_dir: Path | None = None) -> Iterator[bool]:
    """Try to take the publish lock of ``org``; yields whether it was acquired."""
    if store.engine.dialect.name == "postgresql":
        with _pg_lock(store, org) as got:
            yield got
    else:
        with _file_lock(lock_path(store, org, instance_dir)) as got:
            yield got


@contextlib.contextmanager
def _pg_lock(store: Store, org: str) -> Iterator[bool]:
    key = lock_key(org)
    try:
        # A dedicated connection in autocommit: the lock is the session's, not a
        # transaction's, and no transaction stays open while the publish runs.
        conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as exc:
        raise connection_error(exc, store.engine.url) from None
    released = True
    try:
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        except SQLAlchemyError as exc:
            raise connection_error(exc, store.engine.url, "lock") from None
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except SQLAlchemyError:
                    released = False
    finally:
        if not released:
            # Never hand a connection that may still hold the lock back to the pool:
            # dropping it ends the session, and the database releases the lock.
            with contextlib.suppress(SQLAlchemyError):
                conn.invalidate()
        conn.close()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
