"""Login rate limiting: failed logins counted per account and per client address.

The counters live in the store (calsync/store/login_throttle.py), not in memory: several
gunicorn workers serve one site, and an in-memory count would let an attacker spread guesses
over the workers (and would forget every count at a restart). The arithmetic below is pure.

An account key is counted whether or not the account exists, so a lock says nothing about
which user names are real.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from calsync.store.login_throttle import ThrottleState


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failed logins within ``window``; then locked for ``lock``."""

    failures: int
    window: dt.timedelta
    lock: dt.timedelta


# Five guesses at one account per quarter hour; an office behind one NAT address shares the
# address limit, so it is higher.
ACCOUNT = Limit(5, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
ADDRESS = Limit(30, dt.timedelta(minutes=15), dt.timedelta(minutes=15))


def locked_until(state: ThrottleState | None, now: dt.datetime) -> dt.datetime | None:
    """When the lock ends, or None when a login may be tried now."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until


def after_failure(state: ThrottleState | None, now: dt.datetime, limit: Limit) -> ThrottleState:
    """The state after one more failure at ``now``: a new window once the old one is over,
    a lock when the window's count reaches the limit."""
    if state is None or now - state.window_start >= limit.window or (
            state.locked_until is not None and state.locked_until <= now):
        state = ThrottleState(0, now, None)
    failures = state.failures + 1
    lock = now + limit.lock if failures >= limit.failures else state.locked_until
    return ThrottleState(failures, state.window_start, lock)


def account_key(username: str) -> str:
    return "user:" + username.strip().lower()


def address_key(address: str | None) -> str:
    return "addr:" + (address or "unknown")


class LoginLimiter:
    """The limiter over a store: ask :meth:`blocked` before checking a password, report
    :meth:`failed` or :meth:`succeeded` after."""

    def __init__(self, store, account: Limit = ACCOUNT, address: Limit = ADDRESS) -> None:
        self.store, self.account, self.address = store, account, address

    def blocked(self, username: str, address: str | None, now: dt.datetime) -> dt.datetime | None:
        """The later of the account's and the address's lock ends, or None."""
        ends = [e for e in (locked_until(self.store.throttle_state(account_key(username)), now),
                            locked_until(self.store.throttle_state(address_key(address)), now))
                if e is not None]
        return max(ends) if ends else None

    def failed(self, username: str, address: str | None, now: dt.datetime) -> None:
        self.store.throttle_update(account_key(username),
                                   lambda s: after_failure(s, now, self.account))
        self.store.throttle_update(address_key(address),
                                   lambda s: after_failure(s, now, self.address))

    def succeeded(self, username: str) -> None:
        # Only the account's count: one person's success says nothing about the address.
        self.store.throttle_clear(account_key(username))
