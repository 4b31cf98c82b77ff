"""The login limiter: its pure arithmetic (with hypothesis) and its counters in a real store
(SQLite and PostgreSQL), which every web worker and the CalDAV server share. Counted per
(account, address) pair, per address and per account; only the first two lock."""

from __future__ import annotations

import datetime as dt
import threading

from hypothesis import given
from hypothesis import strategies as st

from calsync.app.login_limit import (
    Limit,
    LoginLimiter,
    Slowdown,
    account_key,
    address_key,
    after_failure,
    after_slow_failure,
    delay,
    locked_until,
    pair_key,
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
    assert pair_key(" Qian_Keyuan ", "10.0.0.1") == "pair:qian_keyuan@10.0.0.1"
    assert address_key(None) == "addr:unknown"


def test_keys_fit_the_store_whatever_the_client_sends() -> None:
    name = "x" * 5000
    assert max(len(account_key(name)), len(pair_key(name, "1.2.3.4" * 100)),
               len(address_key("a" * 5000))) <= 400
    assert account_key(name) != account_key(name + "y")


def test_sign_in_codes_never_share_an_account_count_with_a_user() -> None:
    assert account_key("12", kind="code") != account_key("12")
    assert account_key("code:12") != account_key("12", kind="code")
    assert pair_key("12", "10.0.0.1", kind="code") != pair_key("12", "10.0.0.1")


SLOW = Slowdown(3, dt.timedelta(hours=1), dt.timedelta(seconds=2), dt.timedelta(seconds=60))


def test_an_account_slows_down_but_is_never_locked() -> None:
    s, waits = None, []
    for i in range(12):
        s = after_slow_failure(s, T0 + i * MIN, SLOW)
        end = locked_until(s, T0 + i * MIN)
        waits.append(None if end is None else (end - (T0 + i * MIN)).total_seconds())
    assert waits == [None, None, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    # the count starts afresh when the window is over
    s = after_slow_failure(s, T0 + 61 * MIN, SLOW)
    assert (s.failures, locked_until(s, T0 + 61 * MIN)) == (1, None)


@given(st.integers(min_value=0, max_value=10**6))
def test_the_wait_never_exceeds_the_ceiling(failures: int) -> None:
    wait = delay(failures, SLOW)
    assert (wait is None) == (failures < SLOW.free)
    assert wait is None or SLOW.first <= wait <= SLOW.longest


def test_the_store_keeps_counts_for_every_worker(store: Store) -> None:
    # Two limiters on one store stand for two gunicorn workers: they add up.
    one, two = LoginLimiter(store, pair=LIMIT), LoginLimiter(store, pair=LIMIT)
    one.failed("qian", "10.0.0.1", T0)
    two.failed("qian", "10.0.0.1", T0 + MIN)
    assert one.blocked("qian", "10.0.0.1", T0 + MIN) is None
    two.failed("qian", "10.0.0.1", T0 + 2 * MIN)
    assert one.blocked("qian", "10.0.0.1", T0 + 2 * MIN) == T0 + 12 * MIN
    assert store.login_throttle.throttle_state(address_key("10.0.0.1")).failures == 3
    assert store.login_throttle.throttle_state(account_key("qian")).failures == 3
    one.succeeded("qian", "10.0.0.1")
    assert store.login_throttle.throttle_state(account_key("qian")) is None
    assert store.login_throttle.throttle_state(pair_key("qian", "10.0.0.1")) is None
    assert two.blocked("qian", "10.0.0.1", T0 + 2 * MIN) is None


def test_a_stranger_locks_only_their_own_address_out(store: Store) -> None:
    limiter = LoginLimiter(store, pair=LIMIT)
    for i in range(LIMIT.failures):
        limiter.failed("qian", "203.0.113.9", T0 + i * MIN)
    at = T0 + LIMIT.failures * MIN
    assert limiter.blocked("qian", "203.0.113.9", at) is not None
    assert limiter.blocked("qian", "10.0.0.1", at) is None      # the person, at their desk
    assert limiter.blocked("wang", "203.0.113.9", at) is None   # other accounts: address limit


def test_the_address_limit_spans_accounts_and_kinds(store: Store) -> None:
    limiter = LoginLimiter(store, address=LIMIT)
    limiter.failed("qian", "10.9.9.9", T0)
    limiter.failed("wang", "10.9.9.9", T0)
    limiter.failed("7", "10.9.9.9", T0, kind="code")
    assert limiter.blocked("zhou", "10.9.9.9", T0) == T0 + LIMIT.lock
    assert limiter.blocked("zhou", "10.9.9.8", T0) is None


def test_many_addresses_only_slow_an_account(store: Store) -> None:
    limiter = LoginLimiter(store, account=SLOW)
    for i in range(SLOW.free + 2):
        limiter.failed("qian", f"198.51.100.{i}", T0)
    assert limiter.blocked("qian", "10.0.0.1", T0) == T0 + SLOW.first * 2 ** 2  # 5th of 3 free
    assert limiter.blocked("qian", "10.0.0.1", T0 + SLOW.first * 2 ** 2) is None


def test_concurrent_failures_are_all_counted(store: Store) -> None:
    limiter = LoginLimiter(store, pair=Limit(1000, dt.timedelta(hours=1), MIN))
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
    assert store.login_throttle.throttle_state(account_key("qian")).failures == 20
    assert store.login_throttle.throttle_state(pair_key("qian", "10.0.0.1")).failures == 20
    assert store.login_throttle.throttle_state(address_key("10.0.0.1")).failures == 20
