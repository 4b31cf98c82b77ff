"""Radicale auth plugin (``[auth] type = calsync.radicale_auth``): calsync's users.

Loaded inside the embedded Radicale child process that ``calsync serve`` starts. Accounts:
- the service account ``calsync`` (the publisher), whose random password is the file
  ``<instance>/caldav/service-password``;
- every calsync web user with a password (user name = person id), checked against the store
  named by ``CALSYNC_DATABASE_URL`` / ``CALSYNC_INSTANCE`` in the child's environment.
A user's group ``calsync-org-<org>`` lets the generated rights file give them read access to
their organization's collection.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from pathlib import Path

from radicale import auth

SERVICE_USER = "calsync"
GROUP_PREFIX = "calsync-org-"
PASSWORD_FILE = "service-password"

log = logging.getLogger("radicale")


def org_group(org: str) -> str:
    return GROUP_PREFIX + org


class Auth(auth.BaseAuth):
    """calsync users + the service account; never logs a password."""

    def __init__(self, configuration) -> None:
        super().__init__(configuration)
        instance = Path(os.environ.get("CALSYNC_INSTANCE") or "instance").resolve()
        self._instance = instance
        self._database_url = os.environ.get("CALSYNC_DATABASE_URL") or None
        path = instance / "caldav" / PASSWORD_FILE
        self._service_password = path.read_text(encoding="utf-8").strip()
        self._store = None
        self._store_lock = threading.Lock()

    def _open_store(self):
        from calsync.store import open_store

        with self._store_lock:
            if self._store is None:
                self._store = open_store(self._database_url, self._instance)
            return self._store

    def _check(self, login: str, password: str) -> tuple[str, set[str]]:
        if login == SERVICE_USER:
            ok = hmac.compare_digest(password.encode(), self._service_password.encode())
            return (SERVICE_USER, set()) if ok else ("", set())
        from calsync.accounts import password_ok

        try:
            user = self._open_store().get_user(login)
        except Exception as exc:  # a store outage denies the login, it never crashes Radicale
            log.error("calsync auth: cannot read the user store: %s", exc)
            return "", set()
        if user is None or not password_ok(user.password_hash, password):
            return "", set()
        if self._has_left(user.username):
            log.info("calsync auth: %s has left the organization; login refused", login)
            return "", set()
        return user.username, {org_group(user.organization)}

    def _has_left(self, username: str) -> bool:
        """directory.toml's ``left``, as the service last wrote it into grants.json."""
        import datetime as dt

        from calsync.caldav_grants import has_left, read_grants
        from calsync.occurrence import TZ

        grants = read_grants(self._instance / "caldav")
        return has_left(grants, username, dt.datetime.now(TZ).date())

    def _login(self, login: str, password: str) -> str:
        return self._check(login, password)[0]

    def _login_ext_with_groups(self, login: str, password: str, context) -> tuple[str, set]:
        return self._check(login, password)
