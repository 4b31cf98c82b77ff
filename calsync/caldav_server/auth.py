"""Radicale auth plugin (``[auth] type = calsync.caldav_server.auth``): calsync's users.

Loaded inside the embedded Radicale child process that ``calsync serve`` starts. Accounts:
- the service account ``calsync`` (the publisher), whose random password is the file
  ``<instance>/caldav/service-password``;
- every calsync web user with a password (user name = person id), checked against the store
  named by ``CALSYNC_DATABASE_URL`` / ``CALSYNC_INSTANCE`` in the child's environment.
A user's group ``calsync-org-<org>`` lets the generated rights file give them read access to
their organization's collection.

People's logins go through the page's limiter (calsync.app.login_limit: the same store-backed
counts, so a guess over CalDAV counts on the page and back). A temporary password that must
still be changed on the page opens nothing here. A verified login is remembered for a few
minutes (:class:`CredentialCache`), because phones send credentials with every request and a
password hash is slow on purpose; Radicale's own ``cache_logins`` does nothing for a plugin
outside its list. Every remembered login is checked against the store's record, so a
password change, reset or logout on the page (another process) takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from radicale import auth

from calsync.app.login_limit import LoginLimiter
from calsync.caldav_server.grants import has_left, read_grants
from calsync.meetings.accounts import password_ok
from calsync.occurrence import TZ
from calsync.settings import PASSWORD_FILE as PASSWORD_FILE  # bench/serve_latency.py
from calsync.settings import Settings, caldav_folder
from calsync.store import open_store

SERVICE_USER = "calsync"
GROUP_PREFIX = "calsync-org-"
CACHE_SECONDS = 300.0
CACHE_SIZE = 10_000

log = logging.getLogger("radicale")

DENIED: tuple[str, set[str]] = ("", set())


def org_group(org: str) -> str:
    return GROUP_PREFIX + org


@dataclass(frozen=True, slots=True)
class Verified:
    """A login whose password was checked, and the store's record it was checked against."""

    username: str
    groups: frozenset[str] | set[str]
    session_version: int
    password_hash: str


class CredentialCache:
    """Verified logins for ``ttl`` seconds, keyed by a keyed hash of login, password and
    client address (the key is random per process, so the cache never holds the password or
    a hash of it that could be attacked offline). At most ``size`` entries; the oldest go
    first.

    The address is part of the key so that a guesser elsewhere never meets a login the
    owner's phone keeps warm: their guesses take the limiter's path, account wait included."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self._clock = ttl, size, clock
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, tuple[float, Verified]] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, login: str, password: str, address: str | None) -> bytes:
        text = "\0".join((login, password, address or "")).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, text, hashlib.sha256).digest()

    def get(self, login: str, password: str, address: str | None = None) -> Verified | None:
        digest = self._digest(login, password, address)
        with self._lock:
            found = self._entries.get(digest)
            if found is None:
                return None
            if self._clock() - found[0] > self.ttl:
                del self._entries[digest]
                return None
            return found[1]

    def put(self, login: str, password: str, verified: Verified,
            address: str | None = None) -> None:
        digest = self._digest(login, password, address)
        with self._lock:
            self._entries.pop(digest, None)
            self._entries[digest] = (self._clock(), verified)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def drop(self, login: str, password: str, address: str | None = None) -> None:
        with self._lock:
            self._entries.pop(self._digest(login, password, address), None)

    def __len__(self) -> int:
        return len(self._entries)


class Auth(auth.BaseAuth):
    """calsync users + the service account; never logs a password."""

    def __init__(self, configuration) -> None:
        super().__init__(configuration)
        settings = Settings.from_env()   # the child's: EmbeddedCalDAV._spawn sets them
        self._instance = settings.instance_dir
        self._database_url = settings.database_url
        path = settings.caldav_password_file
        self._service_password = path.read_text(encoding="utf-8").strip()
        self._store = None
        self._store_lock = threading.Lock()
        self.credentials = CredentialCache()

    def _open_store(self):
        with self._store_lock:
            if self._store is None:
                self._store = open_store(self._database_url, self._instance)
            return self._store

    def _check(self, login: str, password: str, address: str | None) -> tuple[str, set[str]]:
        if login == SERVICE_USER:
            # 256 random bits: no limiter, so no stranger can slow the publisher down
            ok = hmac.compare_digest(password.encode(), self._service_password.encode())
            return (SERVICE_USER, set()) if ok else DENIED
        try:
            return self._check_person(login, password, address)
        except Exception as exc:  # a store outage denies the login, it never crashes Radicale
            log.error("calsync auth: login refused, cannot check it: %s", exc)
            return DENIED

    def _check_person(self, login: str, password: str,
                      address: str | None) -> tuple[str, set[str]]:
        store = self._open_store()
        now = dt.datetime.now(dt.UTC)
        limiter = LoginLimiter(store)
        hit = self.credentials.get(login, password, address)
        if hit is not None:
            record = store.users.get_user(login)
            if (record is not None and record.password_hash == hit.password_hash
                    and record.session_version == hit.session_version
                    and not record.must_change_password):
                if self._has_left(hit.username):
                    self.credentials.drop(login, password, address)
                    return DENIED
                # A guesser on this very address (an office NAT) must not test guesses
                # against the warm login past the pair's or the address's lock. The
                # account's wait is for other addresses, which never hit this entry.
                if limiter.blocked(login, address, now, account=False) is not None:
                    return DENIED
                return hit.username, set(hit.groups)
            # changed on the page since: verify afresh below
            self.credentials.drop(login, password, address)
        if limiter.blocked(login, address, now) is not None:
            log.warning("calsync auth: too many failed logins of %r from %s; refused",
                        login, address)
            return DENIED
        user = store.users.get_user(login)
        if user is None or not password_ok(user.password_hash, password):
            limiter.failed(login, address, now)
            return DENIED
        if user.must_change_password:
            # the right password, but a temporary one: it opens only the page's change form
            log.info("calsync auth: %s has a temporary password; login refused", login)
            return DENIED
        if self._has_left(user.username):
            log.info("calsync auth: %s has left the organization; login refused", login)
            return DENIED
        limiter.succeeded(login, address)
        groups = {org_group(user.organization)}
        self.credentials.put(login, password, Verified(
            user.username, frozenset(groups), user.session_version, user.password_hash or ""),
            address)
        return user.username, groups

    def _has_left(self, username: str) -> bool:
        """directory.toml's ``left``, as the service last wrote it into grants.json."""
        grants = read_grants(caldav_folder(self._instance))
        return has_left(grants, username, dt.datetime.now(TZ).date())

    def _login(self, login: str, password: str) -> str:
        return self._check(login, password, None)[0]

    def _login_ext_with_groups(self, login: str, password: str,
                               context: auth.AuthContext) -> tuple[str, set]:
        address = getattr(context, "remote_addr", None) if context is not None else None
        return self._check(login, password, address)
