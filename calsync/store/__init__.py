"""calsync's database: sync state, conflicts, decisions, audit log and sync runs.

Open it with :func:`open_store`; every method returns frozen records, never ORM objects.
"""

from __future__ import annotations

from calsync.errors import StoreError
from calsync.store.db import mask_url, resolve_url
from calsync.store.records import (
    AuditEntry,
    CollectionState,
    Conflict,
    Decision,
    ResourceState,
    SyncRun,
)
from calsync.store.repo import Store, open_store

__all__ = [
    "AuditEntry",
    "CollectionState",
    "Conflict",
    "Decision",
    "ResourceState",
    "Store",
    "StoreError",
    "SyncRun",
    "mask_url",
    "open_store",
    "resolve_url",
]
