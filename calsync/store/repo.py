"""The Store: the engine, its transactions, and one repository per aggregate.

Every aggregate's methods live on its repository, reached as an attribute of the store
(``store.decisions.add_decision(...)``, ``store.leave.leave_notes(...)``); each module of this
package holds one repository. The store itself keeps what is store-wide: the engine, its
URL and dialect, the short read/write transactions and ``close``.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from calsync.store import db
from calsync.store.acks import AcksRepository
from calsync.store.adhoc import AdhocRepository
from calsync.store.agenda import AgendaRepository
from calsync.store.attendance import AttendanceRepository
from calsync.store.audit import AuditRepository
from calsync.store.base import StoreBase
from calsync.store.busy import BusyRepository
from calsync.store.conflicts import ConflictsRepository
from calsync.store.decisions import DecisionsRepository
from calsync.store.feeds import FeedsRepository
from calsync.store.leave import LeaveRepository
from calsync.store.login_throttle import LoginThrottleRepository
from calsync.store.meeting_requests import RequestsRepository
from calsync.store.minutes import MinutesRepository
from calsync.store.outbox import NoticesRepository
from calsync.store.runs import RunsRepository
from calsync.store.series_decisions import SeriesDecisionsRepository
from calsync.store.sync_state import SyncStateRepository
from calsync.store.users import UsersRepository


def open_store(url: str | None = None, instance_dir: Path | None = None) -> Store:
    """Open (and migrate to the newest schema) the calsync database.

    ``url`` wins, then ``CALSYNC_DATABASE_URL``, then ``calsync.sqlite3`` in the instance
    folder (``instance_dir``, else ``CALSYNC_INSTANCE``, else ``./instance``).
    """
    resolved = db.resolve_url(url, instance_dir)
    engine = db.create_db_engine(resolved)
    try:
        with engine.connect():
            pass
    except (SQLAlchemyError, UnicodeDecodeError) as exc:
        engine.dispose()
        raise db.connection_error(exc, resolved) from None
    try:
        db.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine)


class Store(StoreBase):
    """calsync's database. Every method runs its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        # generation inputs a secretary or leader decides
        self.decisions = DecisionsRepository(self)
        self.series_decisions = SeriesDecisionsRepository(self)
        self.leave = LeaveRepository(self)
        self.requests = RequestsRepository(self)
        self.adhoc = AdhocRepository(self)
        self.acks = AcksRepository(self)
        # around one occurrence: agenda, sign-in, minutes and what they decide
        self.agenda = AgendaRepository(self)
        self.attendance = AttendanceRepository(self)
        self.minutes = MinutesRepository(self)
        # people and their doors
        self.users = UsersRepository(self)
        self.feeds = FeedsRepository(self)
        self.login_throttle = LoginThrottleRepository(self)
        # publishing: what calsync wrote where, conflicts, runs, others' busy times, notices
        self.sync_state = SyncStateRepository(self)
        self.conflicts = ConflictsRepository(self)
        self.runs = RunsRepository(self)
        self.busy = BusyRepository(self)
        self.notices = NoticesRepository(self)
        # every change, appended
        self.audit = AuditRepository(self)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
