"""Failed-login counters in the database, so every web worker sees the same count."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from calsync.errors import StoreError
from calsync.store.base import Repository
from calsync.store.models import LoginThrottleRow


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """Failures counted since ``window_start``; no login before ``locked_until``."""

    failures: int
    window_start: datetime
    locked_until: datetime | None = None


class LoginThrottleRepository(Repository):
    def throttle_state(self, key: str) -> ThrottleState | None:
        with self._reading() as session:
            row = session.get(LoginThrottleRow, key)
            if row is None:
                return None
            return ThrottleState(row.failures, row.window_start, row.locked_until)

    def throttle_states(self, keys: Iterable[str]) -> dict[str, ThrottleState]:
        """The states of those ``keys`` that have one, in one query (CalDAV asks on every
        request a phone makes)."""
        wanted = list(dict.fromkeys(keys))
        with self._reading() as session:
            rows = session.scalars(select(LoginThrottleRow).where(
                LoginThrottleRow.key.in_(wanted)))
            return {row.key: ThrottleState(row.failures, row.window_start, row.locked_until)
                    for row in rows}

    def throttle_update(
        self, key: str, step: Callable[[ThrottleState | None], ThrottleState]
    ) -> ThrottleState:
        """Replace ``key``'s state by ``step(old)`` in one locked transaction."""
        try:
            return self._throttle_update(key, step)
        except StoreError:
            # two workers inserting the first failure of a key at once: the row exists now
            return self._throttle_update(key, step)

    def _throttle_update(
        self, key: str, step: Callable[[ThrottleState | None], ThrottleState]
    ) -> ThrottleState:
        with self._writing() as session:
            row = session.get(LoginThrottleRow, key, with_for_update=True)
            old = (ThrottleState(row.failures, row.window_start, row.locked_until)
                   if row is not None else None)
            new = step(old)
            if row is None:
                row = LoginThrottleRow(key=key)
                session.add(row)
            row.failures, row.window_start, row.locked_until = (
                new.failures, new.window_start, new.locked_until)
            return new

    def throttle_clear(self, key: str) -> None:
        with self._writing() as session:
            session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key))
