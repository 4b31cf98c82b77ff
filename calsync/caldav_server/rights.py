"""Radicale rights plugin (``[rights] type = calsync.caldav_server.rights``): calsync's grants.

Loaded inside the embedded Radicale child. The service account ``calsync`` reads and writes
everything below ``/calsync/``; a person reads
- ``/`` and their own home ``/<person>/`` (to discover calendars; never writable: nobody
  creates calendars or uploads events on this server),
- a collection — as ``/<person>/<slug>/`` (the link in their home) or ``/calsync/<slug>/`` —
  only when ``grants.json`` lists them as its reader (calsync.caldav_server.grants).
Anything else is refused, so a collection nobody granted yet (a new confidential one) is
readable by the service account alone. The file is re-read when it changes.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from radicale import pathutils, rights

from calsync.caldav_server.auth import SERVICE_USER
from calsync.caldav_server.grants import GRANTS_FILE, ROOT, read_grants, readable
from calsync.settings import Settings


class Rights(rights.BaseRights):
    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self._folder = Settings.from_env().caldav_dir   # the child's CALSYNC_INSTANCE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._grants: dict[str, Any] = {"collections": {}}

    def _current(self) -> dict[str, Any]:
        try:
            st = os.stat(self._folder / GRANTS_FILE)
            stamp = (st.st_mtime_ns, st.st_ino)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._grants = read_grants(self._folder) if stamp else {"collections": {}}
                self._stamp = stamp
            return self._grants

    def authorization(self, user: str, user_groups: set, path: str) -> str:
        sane = pathutils.strip_path(path)
        if not user:
            return ""
        parts = sane.split("/") if sane else []
        if user == SERVICE_USER:
            if not parts:
                return "R"
            return "RrWw" if parts[0] == ROOT else ""
        if not parts or parts == [user]:
            return "R"
        if len(parts) >= 2 and parts[0] in (user, ROOT) and readable(self._current(), user,
                                                                      parts[1]):
            return "r"
        return ""
