"""calsync's database: sync state, conflicts, decisions, audit log, sync runs, web users,
leave notes, meeting requests and clash acknowledgements.

Open it with :func:`open_store`; every method returns frozen records, never ORM objects.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from calsync.errors import ConcurrentChange, StoreError

if TYPE_CHECKING:
    from calsync.store.db import mask_url, resolve_url
    from calsync.store.records import (
        AuditEntry,
        CollectionState,
        Conflict,
        Decision,
        FeedToken,
        LeaveNote,
        MeetingRequest,
        ResourceState,
        SyncRun,
        UserRecord,
    )
    from calsync.store.repo import Store, open_store

# The package's names load with their first use, not with the package: the publish witness
# (calsync.store.witness, sqlite3 alone) is read before SQLAlchemy or even the records load,
# to save start-up time.
_RECORDS = ("AuditEntry", "CollectionState", "Conflict", "Decision", "FeedToken", "LeaveNote",
            "MeetingRequest", "ResourceState", "SyncRun", "UserRecord")
_LAZY = {**dict.fromkeys(_RECORDS, "calsync.store.records"),
         "Store": "calsync.store.repo", "open_store": "calsync.store.repo",
         "mask_url": "calsync.store.db", "resolve_url": "calsync.store.db"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "AuditEntry",
    "CollectionState",
    "ConcurrentChange",
    "Conflict",
    "Decision",
    "FeedToken",
    "LeaveNote",
    "MeetingRequest",
    "ResourceState",
    "Store",
    "StoreError",
    "SyncRun",
    "UserRecord",
    "mask_url",
    "open_store",
    "resolve_url",
]
