"""Login rate limiting, one limiter for every door (the page's login, CalDAV basic auth, the
sign-in codes): failures are counted per (account, address) pair, per address, and per
account.

Keyed so that a stranger cannot lock a person out from another address:
- a pair (this account from this address) is locked after a few failures: the guesser is
  stopped, the person on their own address is not;
- an address is locked after many failures on any accounts (an office behind one NAT address
  shares it, so the limit is higher);
- the account as a whole is never locked: many addresses guessing at it only slow it down,
  by a delay that grows with each further failure up to a short ceiling.

The counters live in the store (calsync/store/login_throttle.py), not in memory: several
gunicorn workers and the embedded CalDAV server serve one site, and an in-memory count would
let an attacker spread guesses over them (and would forget every count at a restart). The
arithmetic below is pure.

An account key is counted whether or not the account exists, so a lock says nothing about
which user names are real.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from calsync.store.login_throttle import ThrottleState


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failed logins within ``window``; then locked for ``lock``."""

    failures: int
    window: dt.timedelta
    lock: dt.timedelta


@dataclass(frozen=True, slots=True)
class Slowdown:
    """``free`` failures within ``window`` cost nothing; from then on each failure makes the
    next try wait ``first``, doubled per further failure, at most ``longest``. Never a lock:
    the wait is short, and the pair and address limits stop any single guesser first."""

    free: int
    window: dt.timedelta
    first: dt.timedelta
    longest: dt.timedelta


# Five guesses at one account from one address per quarter hour.
PAIR = Limit(5, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
# An office behind one NAT address shares the address limit, so it is higher.
ADDRESS = Limit(30, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
# Only guessers on several addresses reach it (a single one is stopped by PAIR at 5).
ACCOUNT = Slowdown(10, dt.timedelta(hours=1), dt.timedelta(seconds=2),
                   dt.timedelta(seconds=60))


def locked_until(state: ThrottleState | None, now: dt.datetime) -> dt.datetime | None:
    """When the lock (or wait) ends, or None when a login may be tried now."""
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


def delay(failures: int, slow: Slowdown) -> dt.timedelta | None:
    """The wait after the ``failures``-th failure of a window, or None while still free."""
    if failures < slow.free:
        return None
    # capped exponent: 2**60 seconds would overflow timedelta
    return min(slow.first * 2 ** min(failures - slow.free, 30), slow.longest)


def after_slow_failure(state: ThrottleState | None, now: dt.datetime,
                       slow: Slowdown) -> ThrottleState:
    """The state after one more failure at ``now``: a new window once the old one is over
    (unlike a lock, the end of a wait does not restart the count: the wait grows)."""
    if state is None or now - state.window_start >= slow.window:
        state = ThrottleState(0, now, None)
    failures = state.failures + 1
    wait = delay(failures, slow)
    return ThrottleState(failures, state.window_start, now + wait if wait else None)


# Keys fit the store's 400-character column whatever a client sends as a user name.
_LONGEST = 200


def _key(prefix: str, text: str) -> str:
    if len(text) <= _LONGEST:
        return prefix + text
    return prefix + "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _subject(username: str, kind: str) -> str:
    name = username.strip().lower()
    return name if kind == "user" else f"{kind}:{name}"


def account_key(username: str, kind: str = "user") -> str:
    """The account (or, for ``kind`` "code", a sign-in sheet's code) as a whole."""
    return _key("user:" if kind == "user" else "subject:", _subject(username, kind))


def address_key(address: str | None) -> str:
    return _key("addr:", address or "unknown")


def pair_key(username: str, address: str | None, kind: str = "user") -> str:
    """One account from one address."""
    return _key("pair:", f"{_subject(username, kind)}@{address or 'unknown'}")


class LoginLimiter:
    """The limiter over a store: ask :meth:`blocked` before checking a password, report
    :meth:`failed` or :meth:`succeeded` after.

    ``kind`` names what is guessed: "user" (a password: page and CalDAV) or another word for
    another secret (e.g. "code" with the sign-in sheet's id as ``username``); the kinds never
    share account counts, while every door shares the address count."""

    def __init__(self, store, pair: Limit = PAIR, address: Limit = ADDRESS,
                 account: Slowdown = ACCOUNT) -> None:
        self.store, self.pair, self.address, self.account = store, pair, address, account

    def blocked(self, username: str, address: str | None, now: dt.datetime, *,
                kind: str = "user", account: bool = True) -> dt.datetime | None:
        """When a login of ``username`` from ``address`` may be tried again (the latest of
        the pair's lock, the address's lock and, unless ``account`` is False, the account's
        wait), or None for now."""
        keys = [pair_key(username, address, kind), address_key(address)]
        if account:
            keys.append(account_key(username, kind))
        states = self.store.login_throttle.throttle_states(keys)
        ends = [e for e in (locked_until(states.get(k), now) for k in keys) if e is not None]
        return max(ends) if ends else None

    def failed(self, username: str, address: str | None, now: dt.datetime, *,
               kind: str = "user") -> None:
        throttle = self.store.login_throttle
        throttle.throttle_update(pair_key(username, address, kind),
                                 lambda s: after_failure(s, now, self.pair))
        throttle.throttle_update(address_key(address),
                                 lambda s: after_failure(s, now, self.address))
        throttle.throttle_update(account_key(username, kind),
                                 lambda s: after_slow_failure(s, now, self.account))

    def succeeded(self, username: str, address: str | None = None, *,
                  kind: str = "user") -> None:
        # The account's count and, when the address is known, the pair's: one person's
        # success says nothing about the other people behind the address.
        self.store.login_throttle.throttle_clear(account_key(username, kind))
        if address is not None:
            self.store.login_throttle.throttle_clear(pair_key(username, address, kind))


def wait_text(until: dt.datetime, now: dt.datetime) -> str:
    """How long to wait, for a person: 「45 秒」, 「15 分钟」."""
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} 秒"
    return f"{(seconds + 59) // 60} 分钟"
