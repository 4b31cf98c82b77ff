"""A cheap "did the store change?" stamp for the feeds' cache (no ORM session per request).

Every stored input change writes an audit row (calsync/store/*), so the newest audit id is the
stamp. Reading it per request cost a full ORM session; here it is read again only when the
database may have changed:

- every commit of this process (an engine ``commit`` event) marks the stamp dirty at once;
- on SQLite, ``PRAGMA data_version`` on one dedicated connection moves whenever any other
  connection (this process or another one, e.g. ``calsync resolve``) committed;
- on PostgreSQL, which has no such counter, the id is re-read at most every
  ``poll_seconds`` (writes of another process show within that bound; this process' own
  writes at once, through the commit event).

So a feed's conditional GET at rest costs a dictionary lookup and one PRAGMA (SQLite) or
nothing at all (PostgreSQL between polls).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import event, func, select

from calsync.store.models import AuditRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

POLL_SECONDS = 0.5


class ChangeWatch:
    def __init__(self, engine: Engine, poll_seconds: float = POLL_SECONDS) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._dirty = True
        self._stamp = -1
        self._checked = 0.0
        self._version: int | None = None
        self._pragma = self._data_version_connection(engine)
        self.reads = 0                      # how often the audit id was read (tests)
        event.listen(engine, "commit", self._mark)

    def close(self) -> None:
        event.remove(self.engine, "commit", self._mark)
        if self._pragma is not None:
            self._pragma.close()
            self._pragma = None

    def _mark(self, _conn: object) -> None:
        self._dirty = True

    @staticmethod
    def _data_version_connection(engine: Engine) -> sqlite3.Connection | None:
        url = engine.url
        if url.get_backend_name() != "sqlite":
            return None
        path = url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None                     # one shared connection: commit events suffice
        return sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def stamp(self) -> int:
        """The newest audit id, read from the database only when it may have moved."""
        with self._lock:
            moved = self._dirty
            if self._pragma is not None:
                version = self._pragma.execute("PRAGMA data_version").fetchone()[0]
                moved = moved or version != self._version
                self._version = version
            else:
                moved = moved or time.monotonic() - self._checked >= self.poll_seconds
            if not moved:
                return self._stamp
            self._dirty = False             # set before reading: a commit meanwhile re-marks
            self._checked = time.monotonic()
        with self.engine.connect() as conn:
            stamp = int(conn.scalar(select(func.max(AuditRow.id))) or 0)
        self.reads += 1
        with self._lock:
            # Audit ids only grow: a slower concurrent read never takes the stamp back.
            self._stamp = max(self._stamp, stamp)
            return self._stamp
