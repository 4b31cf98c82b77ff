"""Errors of the sync layer; each message says what to do about it."""

from __future__ import annotations

from calsync.errors import CalsyncError


class SyncError(CalsyncError):
    """Base class of everything that can go wrong while publishing."""


class MalformedServerData(SyncError):
    """A server handed back something that is not a readable calendar object."""

    def __init__(self, detail: str, href: str | None = None) -> None:
        self.href = href
        self.detail = detail
        where = f" at {href}" if href else ""
        super().__init__(
            f"the server copy{where} is not valid iCalendar ({detail}); calsync leaves it "
            f"untouched — fix or delete it in the calendar app, then run `calsync publish` again"
        )


class SafetyValveError(SyncError):
    """A plan would remove too much; refuse unless the user forces it."""

    exit_code = 3

    def __init__(self, collection: str, owned: int, missing: int, deletes: int) -> None:
        self.collection = collection
        self.owned = owned
        self.missing = missing
        self.deletes = deletes
        if missing:
            what = f"all {owned} resources calsync wrote there are gone from the server"
        else:
            what = f"the plan would delete {deletes} of the {owned} resources calsync owns there"
        super().__init__(
            f"safety valve for {collection}: {what}; check that this is the right calendar and "
            f"policy, then run `calsync publish --force` to go ahead (it re-creates what the "
            f"policy says and the server lost)"
        )


class PreconditionFailedTwice(SyncError):
    """Someone kept changing a resource while we tried to write it."""

    def __init__(self, href: str) -> None:
        self.href = href
        super().__init__(
            f"the server answered 412 twice for {href}: someone keeps changing it; "
            f"run `calsync publish` again later"
        )


class ServerError(SyncError):
    """The server failed (5xx, timeout, dropped connection); that collection was stopped."""

    def __init__(self, collection: str, detail: str) -> None:
        self.collection = collection
        self.detail = detail
        super().__init__(
            f"publishing to {collection} stopped: {detail}; what was written so far is recorded, "
            f"run `calsync publish` again when the server is back"
        )


class PublishStopped(SyncError):
    """The service is shutting down: the run stopped between two resources (checkpointed)."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        super().__init__(
            f"publishing to {collection} stopped for shutdown; what was written is recorded, "
            f"the next run (or `calsync publish`) finishes the rest"
        )


class ServerRefused(SyncError):
    """The server answered with a 4xx we cannot work around (permissions, missing URL)."""

    def __init__(self, url: str, status: int, what: str) -> None:
        self.url = url
        self.status = status
        super().__init__(
            f"the server refused {what} {url} with HTTP {status}; check --caldav-url and that "
            f"the account may write there, then run `calsync publish` again"
        )


class UnknownConflict(SyncError):
    """``resolve`` was given a conflict id that does not exist or is closed."""

    def __init__(self, conflict_id: int, closed: bool = False) -> None:
        self.conflict_id = conflict_id
        state = "is already resolved" if closed else "does not exist"
        super().__init__(
            f"conflict {conflict_id} {state}; list open conflicts with `calsync conflicts`"
        )
