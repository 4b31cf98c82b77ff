"""Meeting requests: a section asks for a one-off meeting; a leader approves or rejects it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calsync.errors import StoreError
from calsync.store.base import Repository, utc
from calsync.store.decisions import normalize_instant
from calsync.store.leave import check_version, required_text
from calsync.store.models import MeetingRequestRow
from calsync.store.records import REQUEST_STATUSES, MeetingRequest


def _record(row: MeetingRequestRow) -> MeetingRequest:
    return MeetingRequest(
        id=row.id,
        organization=row.organization,
        section_id=row.section_id,
        category=row.category,
        title=row.title,
        audience=tuple(row.audience or ()),
        start=row.start,
        end=row.end,
        room=row.room,
        important=row.important,
        approver_id=row.approver_id,
        status=row.status,
        requested_by=row.requested_by,
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        note=row.note,
        version=row.version,
    )


def _audience(audience: object) -> list[str]:
    """A list of person ids, duplicates dropped, order kept."""
    if isinstance(audience, str | bytes) or not isinstance(audience, Sequence | set | frozenset):
        raise StoreError(f"the audience must be a list of person ids, not {audience!r}")
    ids: list[str] = []
    for item in audience:
        if not isinstance(item, str) or not item.strip():
            raise StoreError(f"the audience must be a list of person ids; {item!r} is not one")
        if item.strip() not in ids:
            ids.append(item.strip())
    if not ids:
        raise StoreError("the audience must name at least one person")
    return ids


_ACTIONS = {
    "approved": "request.approve",
    "rejected": "request.reject",
    "withdrawn": "request.withdraw",
}


class RequestsRepository(Repository):
    def add_request(
        self,
        organization: str,
        *,
        section_id: str,
        category: str,
        title: str,
        audience: Sequence[str],
        start: str,
        end: str,
        room: str | None,
        important: bool,
        approver_id: str | None,
        actor: str,
        at: datetime | None = None,
    ) -> MeetingRequest:
        """File a pending request; ``start``/``end`` are ISO 8601 with offset."""
        start = normalize_instant(start, "start")
        end = normalize_instant(end, "end")
        if datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            raise StoreError(f"the meeting ends ({end}) before it starts ({start})")
        now = utc(at)
        row = MeetingRequestRow(
            organization=required_text(organization, "the organization"),
            section_id=required_text(section_id, "the section"),
            category=required_text(category, "the meeting category"),
            title=required_text(title, "the title"),
            audience=_audience(audience),
            start=start,
            end=end,
            room=room.strip() if isinstance(room, str) and room.strip() else None,
            important=bool(important),
            approver_id=approver_id or None,
            status="pending",
            requested_by=actor,
            created_at=now,
            note="",
            version=1,
        )
        with self._writing() as session:
            session.add(row)
            session.flush()
            after = _record(row)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="request.create",
                target=f"request:{row.id}",
                after=after,
            )
        return after

    def get_request(self, request_id: int) -> MeetingRequest | None:
        with self._reading() as session:
            row = session.get(MeetingRequestRow, request_id)
            return _record(row) if row else None

    def meeting_requests(
        self, organization: str | None = None, *, status: str | None = None
    ) -> list[MeetingRequest]:
        """Requests oldest first, filtered by organization and status when given."""
        if status is not None and status not in REQUEST_STATUSES:
            raise StoreError(
                f"unknown request status {status!r} (use one of {sorted(REQUEST_STATUSES)})"
            )
        query = select(MeetingRequestRow).order_by(MeetingRequestRow.id)
        if organization is not None:
            query = query.where(MeetingRequestRow.organization == organization)
        if status is not None:
            query = query.where(MeetingRequestRow.status == status)
        with self._reading() as session:
            return [_record(row) for row in session.scalars(query)]

    def decide_request(
        self,
        request_id: int,
        approve: bool,
        *,
        actor: str,
        expected_version: int,
        note: str = "",
        at: datetime | None = None,
    ) -> MeetingRequest:
        """Approve or reject a pending request."""
        return self._close_request(
            request_id,
            "approved" if approve else "rejected",
            actor=actor,
            expected_version=expected_version,
            note=note,
            at=at,
        )

    def withdraw_request(
        self,
        request_id: int,
        *,
        actor: str,
        expected_version: int,
        note: str = "",
        at: datetime | None = None,
    ) -> MeetingRequest:
        """The requester takes back a pending request."""
        return self._close_request(
            request_id,
            "withdrawn",
            actor=actor,
            expected_version=expected_version,
            note=note,
            at=at,
        )

    def _close_request(
        self,
        request_id: int,
        status: str,
        *,
        actor: str,
        expected_version: int,
        note: str,
        at: datetime | None,
    ) -> MeetingRequest:
        now = utc(at)
        with self._writing() as session:
            row = _lock(session, request_id, expected_version)
            if row.status != "pending":
                raise StoreError(
                    f"meeting request {request_id} was already {row.status} by "
                    f"{row.decided_by}: only pending requests can change"
                )
            before = _record(row)
            row.status, row.decided_by, row.decided_at = status, actor, now
            row.note = note or ""
            row.version += 1
            session.flush()
            after = _record(row)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action=_ACTIONS[status],
                target=f"request:{request_id}",
                before=before,
                after=after,
            )
        return after


def _lock(session: Session, request_id: int, expected_version: int) -> MeetingRequestRow:
    row = session.get(MeetingRequestRow, request_id, with_for_update=True)
    if row is None:
        raise StoreError(f"there is no meeting request {request_id} (reload the page)")
    check_version(f"meeting request {request_id}", row.version, row.status, expected_version)
    return row
