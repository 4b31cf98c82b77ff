"""calsync's database: sync state, conflicts, decisions, audit log, sync runs, web users,
leave notes, meeting requests and clash acknowledgements.

Open it with :func:`open_store`; every method returns frozen records, never ORM objects.
"""

from __future__ import annotations

from calsync.errors import ConcurrentChange, StoreError
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
