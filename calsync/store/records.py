"""Plain, frozen records the store hands out, so callers never hold ORM objects or sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ConflictKind = Literal["edited", "deleted", "edited-and-changed"]
Resolution = Literal["server", "policy"]
DecisionAction = Literal["move", "cancel", "merge", "confirm"]
DecisionSource = Literal["web", "calendar-app", "cli"]
RunStatus = Literal["running", "ok", "failed", "dry-run"]

CONFLICT_KINDS: frozenset[str] = frozenset({"edited", "deleted", "edited-and-changed"})
RESOLUTIONS: frozenset[str] = frozenset({"server", "policy"})
DECISION_ACTIONS: frozenset[str] = frozenset({"move", "cancel", "merge", "confirm"})
# actions that carry new_start/new_end
TIMED_ACTIONS: frozenset[str] = frozenset({"move", "merge"})
DECISION_SOURCES: frozenset[str] = frozenset({"web", "calendar-app", "cli"})
FINAL_RUN_STATUSES: frozenset[str] = frozenset({"ok", "failed", "dry-run"})
USER_ROLES: frozenset[str] = frozenset({"secretary", "leader", "staff"})
LEAVE_CATEGORIES: frozenset[str] = frozenset({"公出", "病假", "事假", "其他"})
LEAVE_STATUSES: frozenset[str] = frozenset({"pending", "approved", "rejected", "withdrawn"})
LEAVE_STEPS: frozenset[str] = frozenset({"chair", "director"})
REQUEST_STATUSES: frozenset[str] = frozenset({"pending", "approved", "rejected", "withdrawn"})


# ``ResourceState.written_ics`` of a row read without its body (``get_resource_heads``). A NUL
# never occurs in a stored body (PostgreSQL text refuses it; the sync layer replaces it).
HEAD_ONLY = "\x00head-only"


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
    recurrence_id: datetime          # the occurrence's nominal start, in calsync's zone
    action: str
    new_start: datetime | None
    new_end: datetime | None
    note: str
    source: str
    created_at: datetime
    created_by: str
    version: int
    superseded_at: datetime | None
    # decoded JSON: {"other": [uid, rid]} on a merge, {"merged_into": [uid, rid]} on its cancel
    # (rid: the partner's recurrence id as its ISO key text, "2026-03-02T09:30:00+08:00")
    payload: dict[str, Any] | None = None

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


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A web user. ``role`` is "secretary", "leader" or "staff"; the hash is never shown."""

    username: str
    organization: str
    display_name: str
    role: str
    password_hash: str | None = field(repr=False)
    created_at: datetime
    session_version: int = 0
    must_change_password: bool = False


@dataclass(frozen=True, slots=True)
class LeaveNote:
    """A request to miss one occurrence (``recurrence_id`` as in decisions: a datetime).

    ``chair_status``/``director_status`` are "pending", "approved" or "rejected"
    (``director_status`` is None when the director need not approve); ``status`` is
    "pending", "approved", "rejected" or "withdrawn". ``version`` starts at 1.
    """

    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    person_id: str
    category: str
    reason: str
    substitute_id: str | None
    late: bool
    needs_director: bool
    chair_id: str | None
    director_id: str | None
    chair_status: str
    chair_by: str | None
    chair_at: datetime | None
    director_status: str | None
    director_by: str | None
    director_at: datetime | None
    status: str
    created_by: str
    created_at: datetime
    version: int

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "approved")


@dataclass(frozen=True, slots=True)
class MeetingRequest:
    """A requested one-off meeting; ``start``/``end`` are ISO 8601 text with offset."""

    id: int
    organization: str
    section_id: str
    category: str
    title: str
    audience: tuple[str, ...]
    start: str
    end: str
    room: str | None
    important: bool
    approver_id: str | None
    status: str
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str
    version: int


@dataclass(frozen=True, slots=True)
class FeedToken:
    """A person's subscription-feed token (the secret itself: the page shows it again)."""

    person_id: str
    organization: str
    token: str
    created_at: datetime
    rotated_at: datetime | None
