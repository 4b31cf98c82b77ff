"""Sessions, transactions and row-to-record conversion shared by the repository modules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from calsync.errors import ConcurrentChange, StoreError
from calsync.occurrence import TZ
from calsync.store.db import SQLITE_IMMEDIATE, connection_error, mask_url
from calsync.store.models import AuditRow

R = TypeVar("R")


def utc(at: datetime | None) -> datetime:
    """``at`` in UTC, or now. Naive datetimes are a programming error, not a user one."""
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware datetime")
    return at.astimezone(UTC)


def instant(value: datetime, what: str) -> datetime:
    """An occurrence's instant (a recurrence id, a new start) as the store keeps it: aware, in
    calsync's zone. The same instant written at any UTC offset is one key."""
    if not isinstance(value, datetime):
        raise StoreError(f"{what} must be a datetime (an occurrence's nominal start), "
                         f"not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StoreError(f"{what} {value!r} has no UTC offset: pass a timezone-aware datetime")
    return value.astimezone(TZ)


def to_record(row: object, cls: type[R]) -> R:
    """Copy the dataclass's fields off an ORM row."""
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


def rowcount(result: object) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` returns a CursorResult for
    them, though SQLAlchemy types it as the plain Result (which has no rowcount)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"a {type(result).__name__} has no rowcount (not an UPDATE or DELETE)")
    return result.rowcount


def to_json(value: object) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: getattr(value, f.name) for f in fields(value)}  # type: ignore[arg-type]
    return str(value)


class StoreBase:
    """The engine and its short read and write transactions: what Store and every repository
    share."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(engine, expire_on_commit=False)
        # On SQLite, writers take the lock at BEGIN so they queue on the busy timeout instead
        # of failing when a read lock cannot be upgraded.
        writer_engine = engine.execution_options(**{SQLITE_IMMEDIATE: True})
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return mask_url(self.engine.url)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        try:
            with self._reader() as session:
                yield session
        except (DBAPIError, UnicodeDecodeError) as exc:  # decode: a damaged SQLite file
            raise connection_error(exc, self.engine.url, "read from") from None

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One short write transaction: commits on success, rolls back on any error."""
        try:
            with self._writer.begin() as session:
                yield session
        except IntegrityError as exc:
            # Specific methods catch the races they expect; this is the fallback.
            raise StoreError(
                f"the database refused a change because another one got there first "
                f"({' '.join(str(exc.orig).split())}): reload and try again"
            ) from None
        except DBAPIError as exc:
            # PostgreSQL broke a deadlock or a serialization conflict between two writers of
            # the same records (e.g. two merges of one pair in opposite roles): a concurrent
            # change like any other, not a broken connection.
            if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):
                raise ConcurrentChange(
                    "someone else changed the same records at the same moment; reload the "
                    "page and try again"
                ) from None
            raise connection_error(exc, self.engine.url, "write to") from None

    @staticmethod
    def _add_audit(
        session: Session,
        *,
        at: datetime,
        actor: str,
        action: str,
        target: str,
        before: object = None,
        after: object = None,
    ) -> AuditRow:
        row = AuditRow(
            at=at,
            actor=actor,
            action=action,
            target=target,
            before=to_json(before),
            after=to_json(after),
        )
        session.add(row)
        return row


class Repository(StoreBase):
    """One aggregate's methods (decisions, leave, users ...), reached from Store as an
    attribute (``store.decisions``); it shares the store's engine and session factories."""

    def __init__(self, store: StoreBase) -> None:  # shares the factories, builds none
        self.engine = store.engine
        self._reader = store._reader
        self._writer = store._writer
