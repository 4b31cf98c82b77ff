"""Plain, frozen records the store hands out, so callers never hold ORM objects or sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ConflictKind = Literal["edited", "deleted", "edited-and-changed"]
Resolution = Literal["server", "policy"]
DecisionAction = Literal["move", "cancel"]
DecisionSource = Literal["web", "calendar-app", "cli"]
RunStatus = Literal["running", "ok", "failed", "dry-run"]

CONFLICT_KINDS: frozenset[str] = frozenset({"edited", "deleted", "edited-and-changed"})
RESOLUTIONS: frozenset[str] = frozenset({"server", "policy"})
DECISION_ACTIONS: frozenset[str] = frozenset({"move", "cancel"})
DECISION_SOURCES: frozenset[str] = frozenset({"web", "calendar-app", "cli"})
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"ok", "failed", "dry-run"})


@dataclass(frozen=True, slots=True)
class ResourceState:
    """What calsync last wrote to one CalDAV resource."""

    id: int
    organization: str
    collection_url: str
    uid: str
    href: str | None
    etag: str | None
    content_hash: str
    written_ics: str
    sequence: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    organization: str
    collection_url: str
    uid: str
    href: str | None
    kind: str
    server_ics: str | None
    server_etag: str | None
    policy_ics: str
    detected_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    resolved_by: str | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class Decision:
    """A decision on one occurrence. ``version`` counts decisions on that occurrence (1, 2 ...)."""

    id: int
    organization: str
    series_uid: str
    recurrence_id: str
    action: str
    new_start: str | None
    new_end: str | None
    note: str
    source: str
    created_at: datetime
    created_by: str
    version: int
    superseded_at: datetime | None

    @property
    def is_active(self) -> bool:
        return self.superseded_at is None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row; ``before``/``after`` are JSON text (or None)."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class SyncRun:
    id: int
    organization: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    message: str


@dataclass(frozen=True, slots=True)
class CollectionState:
    """The last RFC 6578 sync token of a collection and its full listing (href -> etag)."""

    collection_url: str
    sync_token: str | None
    listing: dict[str, str | None]
    updated_at: datetime
