"""The store as the sync layer sees it: exactly the methods calsync.sync calls (typing only).

``SyncStore`` is ``calsync.store.Store`` reduced to the four repositories a publish uses
(``store.sync_state``, ``.conflicts``, ``.runs``, ``.busy``) and, on each, the methods sync
calls with the parameters it passes; a unit test compares them with the real ones. Nothing
here imports the store. The rows it hands back are described by what sync reads of them
(``calsync.store.records`` has the real, frozen records); their fields are read-only
properties so a frozen dataclass fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import datetime
from typing import Protocol

# (etag, ics) of a foreign object kept for clash checks (calsync.store.busy)
BusyObject = tuple[str | None, str]


class ResourceRow(Protocol):
    """What calsync last wrote to one CalDAV resource (``calsync.store.ResourceState``)."""

    @property
    def organization(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def href(self) -> str | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def written_ics(self) -> str: ...
    @property
    def sequence(self) -> int: ...


class ConflictRow(Protocol):
    """An app's edit waiting for a decision (``calsync.store.Conflict``)."""

    @property
    def id(self) -> int: ...
    @property
    def organization(self) -> str: ...
    @property
    def collection_url(self) -> str: ...
    @property
    def uid(self) -> str: ...
    @property
    def href(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def server_ics(self) -> str | None: ...
    @property
    def server_etag(self) -> str | None: ...
    @property
    def policy_ics(self) -> str: ...
    @property
    def resolved_at(self) -> datetime | None: ...


class CollectionStateRow(Protocol):
    """A collection's last RFC 6578 sync token and listing (``calsync.store.CollectionState``)."""

    @property
    def sync_token(self) -> str | None: ...
    @property
    def listing(self) -> Mapping[str, str | None]: ...


class RunRow(Protocol):
    """A sync_run row (``calsync.store.SyncRun``); sync only keeps its id."""

    @property
    def id(self) -> int: ...


class SyncStateStore(Protocol):
    """What calsync wrote where, and each collection's sync token (``store.sync_state``)."""

    def get_resources(self, collection_url: str,
                      uids: Iterable[str] | None = None) -> Mapping[str, ResourceRow]: ...

    def get_resource_heads(self, collection_url: str) -> Mapping[str, ResourceRow]: ...

    def get_resource(self, collection_url: str, uid: str) -> ResourceRow | None: ...

    def upsert_resource(self, organization: str, collection_url: str, uid: str, *,
                        written_ics: str, content_hash: str, sequence: int,
                        href: str | None = None, etag: str | None = None) -> object: ...

    def delete_resource(self, collection_url: str, uid: str) -> bool: ...

    def save_resources(self, collection_url: str, upserts: Iterable[Mapping[str, object]],
                       forget: Iterable[str] = ()) -> None: ...

    def collection_urls(self) -> Mapping[str, Set[str]]: ...

    def relocate_collection(self, old_url: str, new_url: str) -> int: ...

    # RFC 6578 state (calsync.sync.listing)
    def get_collection_state(self, collection_url: str) -> CollectionStateRow | None: ...

    def save_collection_state(self, collection_url: str, sync_token: str | None,
                              listing: Mapping[str, str | None]) -> object: ...

    def forget_collection_state(self, collection_url: str) -> bool: ...


class ConflictStore(Protocol):
    """App edits waiting for a decision (``store.conflicts``)."""

    def open_conflicts(self, organization: str | None = None) -> Sequence[ConflictRow]: ...

    def get_conflict(self, conflict_id: int) -> ConflictRow | None: ...

    def record_conflict(self, organization: str, collection_url: str, uid: str, *, kind: str,
                        policy_ics: str, server_ics: str | None = None,
                        server_etag: str | None = None, href: str | None = None) -> object: ...

    def resolve_conflict(self, conflict_id: int, keep: str, actor: str) -> object: ...


class RunStore(Protocol):
    """One sync_run row per organization and collection run (``store.runs``)."""

    def start_run(self, organization: str) -> RunRow: ...

    def finish_run(self, run_id: int, status: str, *, counts: Mapping[str, int] | None = None,
                   message: str = "") -> object: ...


class BusyStore(Protocol):
    """Foreign objects kept for clash checks (``store.busy``)."""

    def busy_heads(self, source: str) -> Mapping[str, tuple[str | None, bool]]: ...

    def update_busy(self, source: str, changed: Mapping[str, BusyObject],
                    gone: Iterable[str] = ()) -> None: ...


class SyncStore(Protocol):
    """The repositories of the store a publish or a resolve uses."""

    @property
    def sync_state(self) -> SyncStateStore: ...
    @property
    def conflicts(self) -> ConflictStore: ...
    @property
    def runs(self) -> RunStore: ...
    @property
    def busy(self) -> BusyStore: ...
