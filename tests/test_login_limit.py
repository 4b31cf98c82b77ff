"""The login limiter: its pure arithmetic (with hypothesis) and its counters in a real store
(SQLite and PostgreSQL), which every web worker shares."""

from __future__ import annotations

import datetime as dt
import threading

from hypothesis import given
from hypothesis import strategies as st

from calsync.login_limit import (
    Limit,
    LoginLimiter,
    account_key,
    address_key,
    after_failure,
    locked_until,
)
from calsync.store import Store

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
LIMIT = Limit(3, dt.timedelta(minutes=15), dt.timedelta(minutes=10))
MIN = dt.timedelta(minutes=1)


def test_the_limit_locks_at_the_nth_failure_within_the_window() -> None:
    s = None
    for i in range(LIMIT.failures - 1):
        s = after_failure(s, T0 + i * MIN, LIMIT)
        assert locked_until(s, T0 + i * MIN) is None
    s = after_failure(s, T0 + 2 * MIN, LIMIT)
    assert locked_until(s, T0 + 2 * MIN) == T0 + 12 * MIN
    assert locked_until(s, T0 + 12 * MIN) is None   # the lock is over when it says


def test_failures_spread_beyond_the_window_never_lock() -> None:
    s = None
    for i in range(10):
        s = after_failure(s, T0 + i * 8 * MIN, LIMIT)  # two per window at most
        assert locked_until(s, T0 + i * 8 * MIN) is None


def test_a_failure_after_the_lock_starts_a_fresh_count() -> None:
    s = None
    for _ in range(LIMIT.failures):
        s = after_failure(s, T0, LIMIT)
    s = after_failure(s, T0 + 11 * MIN, LIMIT)
    assert (s.failures, s.window_start, locked_until(s, T0 + 11 * MIN)) == (1, T0 + 11 * MIN,
                                                                          None)


@given(st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=30))
def test_locked_exactly_when_the_window_holds_the_limit(gaps: list[int]) -> None:
    """Against a plain model: a lock starts at a failure that is the N-th since the window
    began (windows restart after 15 minutes or after a lock ended)."""
    s, now, count, start, lock_end = None, T0, 0, None, None
    for gap in gaps:
        now = now + gap * MIN
        s = after_failure(s, now, LIMIT)
        if start is None or now - start >= LIMIT.window or (lock_end and lock_end <= now):
            count, start, lock_end = 0, now, None
        count += 1
        if count >= LIMIT.failures:
            lock_end = now + LIMIT.lock
        assert locked_until(s, now) == lock_end
        assert s.failures == count


def test_keys_do_not_depend_on_case_or_spaces() -> None:
    assert account_key(" Qian_Keyuan ") == account_key("qian_keyuan") == "user:qian_keyuan"
    assert address_key(None) == "addr:unknown"


def test_the_store_keeps_counts_for_every_worker(store: Store) -> None:
    # Two limiters on one store stand for two gunicorn workers: they add up.
    one, two = LoginLimiter(store, account=LIMIT), LoginLimiter(store, account=LIMIT)
    one.failed("qian", "10.0.0.1", T0)
    two.failed("qian", "10.0.0.2", T0 + MIN)
    assert one.blocked("qian", "10.0.0.3", T0 + MIN) is None
    two.failed("qian", "10.0.0.3", T0 + 2 * MIN)
    assert one.blocked("qian", "10.0.0.9", T0 + 2 * MIN) == T0 + 12 * MIN
    assert one.blocked("wang", "10.0.0.9", T0 + 2 * MIN) is None
    assert store.throttle_state(address_key("10.0.0.1")).failures == 1
    one.succeeded("qian")
    assert store.throttle_state(account_key("qian")) is None
    assert two.blocked("qian", "10.0.0.9", T0 + 2 * MIN) is None


def test_concurrent_failures_are_all_counted(store: Store) -> None:
    limiter = LoginLimiter(store, account=Limit(1000, dt.timedelta(hours=1), MIN))
    errors: list[BaseException] = []

    def fail() -> None:
        try:
            for _ in range(5):
                limiter.failed("qian", "10.0.0.1", T0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fail) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.throttle_state(account_key("qian")).failures == 20
    assert store.throttle_state(address_key("10.0.0.1")).failures == 20
