"""Leave notes: someone asks to miss one occurrence; the chair (and maybe the director) decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.errors import ConcurrentChange, StoreError
from calsync.store.base import Repository, instant, to_record, utc
from calsync.store.models import LeaveNoteRow
from calsync.store.models.base import instant_key
from calsync.store.records import LEAVE_CATEGORIES, LEAVE_STATUSES, LEAVE_STEPS, LeaveNote

OPEN_STATUSES = ("pending", "approved")


def check_version(what: str, version: int, status: str, expected: int) -> None:
    """Optimistic locking for versioned rows: the caller must have seen the current version."""
    if expected != version:
        raise ConcurrentChange(
            f"{what} changed while you edited it (you had version {expected}; it is now "
            f"version {version}, {status}): reload the page and try again"
        )


def required_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{what} must be a non-empty text")
    return value.strip()


def _overall(row: LeaveNoteRow) -> str:
    # Any rejection ends the note; approval needs every required step.
    if "rejected" in (row.chair_status, row.director_status):
        return "rejected"
    if row.chair_status == "approved" and (
        not row.needs_director or row.director_status == "approved"
    ):
        return "approved"
    return "pending"


def _open_query(
    series_uid: str, recurrence_id: datetime, person_id: str
) -> Select[LeaveNoteRow]:
    return select(LeaveNoteRow).where(
        LeaveNoteRow.series_uid == series_uid,
        LeaveNoteRow.recurrence_id == recurrence_id,
        LeaveNoteRow.person_id == person_id,
        LeaveNoteRow.status.in_(OPEN_STATUSES),
    )


class LeaveRepository(Repository):
    def add_leave(
        self,
        organization: str,
        series_uid: str,
        recurrence_id: datetime,
        person_id: str,
        *,
        category: str,
        reason: str,
        substitute_id: str | None,
        late: bool,
        needs_director: bool,
        chair_id: str | None,
        director_id: str | None,
        actor: str,
        at: datetime | None = None,
    ) -> LeaveNote:
        """File a pending leave note; a person has at most one open note per occurrence."""
        if category not in LEAVE_CATEGORIES:
            raise StoreError(
                f"unknown leave category {category!r} (use one of {sorted(LEAVE_CATEGORIES)})"
            )
        organization = required_text(organization, "the organization")
        series_uid = required_text(series_uid, "the series uid")
        person_id = required_text(person_id, "the person id")
        recurrence_id = instant(recurrence_id, "recurrence id")
        if not isinstance(reason, str):
            raise StoreError(f"the leave reason must be text, not {reason!r}")
        if substitute_id is not None and substitute_id == person_id:
            raise StoreError(f"{person_id} cannot be their own substitute")
        now = utc(at)
        taken = (
            f"{person_id} already has an open leave note for {series_uid} at "
            f"{instant_key(recurrence_id)}"
        )
        with self._writing() as session:
            existing = session.scalar(_open_query(series_uid, recurrence_id, person_id))
            if existing is not None:
                raise StoreError(
                    f"{taken} (note {existing.id}, {existing.status}): withdraw it first"
                )
            row = LeaveNoteRow(
                organization=organization,
                series_uid=series_uid,
                recurrence_id=recurrence_id,
                person_id=person_id,
                category=category,
                reason=reason.strip(),
                substitute_id=substitute_id or None,
                late=bool(late),
                needs_director=bool(needs_director),
                chair_id=chair_id or None,
                director_id=director_id or None,
                chair_status="pending",
                director_status="pending" if needs_director else None,
                status="pending",
                created_by=actor,
                created_at=now,
                version=1,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                # Another request filed the same note between our check and the insert.
                raise StoreError(f"{taken} (reload the page)") from None
            after = to_record(row, LeaveNote)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="leave.create",
                target=f"leave:{row.id}",
                after=after,
            )
        return after

    def get_leave(self, note_id: int) -> LeaveNote | None:
        with self._reading() as session:
            row = session.get(LeaveNoteRow, note_id)
            return to_record(row, LeaveNote) if row else None

    def leave_for_occurrence(self, series_uid: str, recurrence_id: datetime) -> list[LeaveNote]:
        """Every note (any status) on one occurrence, oldest first."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        query = (
            select(LeaveNoteRow)
            .where(
                LeaveNoteRow.series_uid == series_uid,
                LeaveNoteRow.recurrence_id == recurrence_id,
            )
            .order_by(LeaveNoteRow.id)
        )
        with self._reading() as session:
            return [to_record(row, LeaveNote) for row in session.scalars(query)]

    def leave_notes(
        self,
        organization: str | None = None,
        *,
        person_id: str | None = None,
        status: str | None = None,
    ) -> list[LeaveNote]:
        """Notes oldest first, filtered by organization, person and status when given."""
        if status is not None and status not in LEAVE_STATUSES:
            raise StoreError(
                f"unknown leave status {status!r} (use one of {sorted(LEAVE_STATUSES)})"
            )
        query = select(LeaveNoteRow).order_by(LeaveNoteRow.id)
        if organization is not None:
            query = query.where(LeaveNoteRow.organization == organization)
        if person_id is not None:
            query = query.where(LeaveNoteRow.person_id == person_id)
        if status is not None:
            query = query.where(LeaveNoteRow.status == status)
        with self._reading() as session:
            return [to_record(row, LeaveNote) for row in session.scalars(query)]

    def decide_leave(
        self,
        note_id: int,
        step: str,
        approve: bool,
        *,
        actor: str,
        expected_version: int,
        at: datetime | None = None,
    ) -> LeaveNote:
        """Approve or reject the chair's or the director's step of a note."""
        if step not in LEAVE_STEPS:
            raise StoreError(f"unknown approval step {step!r} (use one of {sorted(LEAVE_STEPS)})")
        now = utc(at)
        verdict = "approved" if approve else "rejected"
        with self._writing() as session:
            row = self._lock_note(session, note_id, expected_version)
            if row.status in ("rejected", "withdrawn"):
                raise StoreError(f"leave note {note_id} is {row.status}: it cannot be decided")
            if step == "director" and not row.needs_director:
                raise StoreError(f"leave note {note_id} does not need the director's approval")
            done = row.chair_status if step == "chair" else row.director_status
            if done != "pending":
                by = row.chair_by if step == "chair" else row.director_by
                raise StoreError(
                    f"the {step} step of leave note {note_id} was already {done} by {by}"
                )
            before = to_record(row, LeaveNote)
            if step == "chair":
                row.chair_status, row.chair_by, row.chair_at = verdict, actor, now
            else:
                row.director_status, row.director_by, row.director_at = verdict, actor, now
            row.status = _overall(row)
            row.version += 1
            session.flush()
            after = to_record(row, LeaveNote)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action=f"leave.{step}-{'approve' if approve else 'reject'}",
                target=f"leave:{note_id}",
                before=before,
                after=after,
            )
        return after

    def withdraw_leave(
        self,
        note_id: int,
        *,
        actor: str,
        expected_version: int,
        at: datetime | None = None,
    ) -> LeaveNote:
        """Withdraw a pending or approved note (the person attends after all)."""
        now = utc(at)
        with self._writing() as session:
            row = self._lock_note(session, note_id, expected_version)
            if row.status not in OPEN_STATUSES:
                raise StoreError(f"leave note {note_id} is already {row.status}")
            before = to_record(row, LeaveNote)
            row.status = "withdrawn"
            row.version += 1
            session.flush()
            after = to_record(row, LeaveNote)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="leave.withdraw",
                target=f"leave:{note_id}",
                before=before,
                after=after,
            )
        return after

    @staticmethod
    def _lock_note(session: Session, note_id: int, expected_version: int) -> LeaveNoteRow:
        row = session.get(LeaveNoteRow, note_id, with_for_update=True)
        if row is None:
            raise StoreError(f"there is no leave note {note_id} (reload the page)")
        check_version(f"leave note {note_id}", row.version, row.status, expected_version)
        return row
