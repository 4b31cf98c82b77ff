"""Ad-hoc meetings and 列席 additions: generation inputs kept by id, never by position, so
regeneration and policy edits keep them. Every change writes an audit row; changes to an
existing row name the version the caller saw (optimistic locking)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from calsync.errors import StoreError
from calsync.store.base import Repository, instant, to_record, utc
from calsync.store.decisions import normalize_instant
from calsync.store.leave import check_version, required_text
from calsync.store.models import AdhocMeetingRow, SittingInRow
from calsync.store.models.base import instant_key

MAX_TEXT = 500


@dataclass(frozen=True)
class AdhocMeeting:
    id: int
    organization: str
    meeting_type: str
    section_id: str | None
    title: str
    start: str
    end: str
    room: str | None
    extra: tuple[str, ...]
    note: str
    status: str              # active | withdrawn
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class SittingIn:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    person_id: str
    created_by: str
    created_at: datetime
    withdrawn_at: datetime | None
    version: int


def _adhoc(row: AdhocMeetingRow) -> AdhocMeeting:
    rec = to_record(row, AdhocMeeting)
    return AdhocMeeting(**{**rec.__dict__, "extra": tuple(row.extra or ())})


def _ids(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise StoreError(f"extra attendees must be person ids; {v!r} is not one")
        if v.strip() not in out:
            out.append(v.strip())
    return out


def _short(value: str, what: str) -> str:
    if len(value) > MAX_TEXT:
        raise StoreError(f"{what} is longer than {MAX_TEXT} characters")
    return value.strip()


class AdhocRepository(Repository):
    def add_adhoc(self, organization: str, *, meeting_type: str, start: str, end: str,
                  actor: str, title: str = "", section_id: str | None = None,
                  room: str | None = None, extra: Sequence[str] = (), note: str = "",
                  at: datetime | None = None) -> AdhocMeeting:
        """Record an extra occurrence; ``start``/``end`` ISO 8601 with offset."""
        start = normalize_instant(start, "start")
        end = normalize_instant(end, "end")
        if datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            raise StoreError(f"the meeting ends ({end}) before it starts ({start})")
        now = utc(at)
        row = AdhocMeetingRow(
            organization=required_text(organization, "the organization"),
            meeting_type=required_text(meeting_type, "the meeting type"),
            section_id=section_id or None, title=_short(title or "", "the title"),
            start=start, end=end, room=room or None, extra=_ids(extra),
            note=_short(note or "", "the note"), status="active", created_by=actor,
            created_at=now, updated_at=now, version=1)
        with self._writing() as session:
            session.add(row)
            session.flush()
            after = _adhoc(row)
            self._add_audit(session, at=now, actor=actor, action="adhoc.create",
                            target=f"adhoc:{row.id}", after=after)
        return after

    def withdraw_adhoc(self, adhoc_id: int, *, expected_version: int, actor: str,
                       at: datetime | None = None) -> AdhocMeeting:
        """Cancel it: it stays in the calendars as STATUS:CANCELLED, so clients drop it."""
        now = utc(at)
        with self._writing() as session:
            row = session.get(AdhocMeetingRow, adhoc_id, with_for_update=True)
            if row is None:
                raise StoreError(f"ad-hoc meeting {adhoc_id} does not exist")
            check_version(f"ad-hoc meeting {adhoc_id}", row.version, row.status,
                          expected_version)
            if row.status != "active":
                raise StoreError(f"ad-hoc meeting {adhoc_id} is already withdrawn")
            before = _adhoc(row)
            row.status, row.updated_at, row.version = "withdrawn", now, row.version + 1
            after = _adhoc(row)
            self._add_audit(session, at=now, actor=actor, action="adhoc.withdraw",
                            target=f"adhoc:{adhoc_id}", before=before, after=after)
        return after

    def get_adhoc(self, adhoc_id: int) -> AdhocMeeting | None:
        with self._reading() as session:
            row = session.get(AdhocMeetingRow, adhoc_id)
            return _adhoc(row) if row is not None else None

    def adhoc_meetings(self, organization: str) -> list[AdhocMeeting]:
        """Every ad-hoc meeting of the organization, withdrawn ones included (CANCELLED)."""
        query = (select(AdhocMeetingRow).where(AdhocMeetingRow.organization == organization)
                 .order_by(AdhocMeetingRow.id))
        with self._reading() as session:
            return [_adhoc(r) for r in session.scalars(query)]

    # -- 列席 ------------------------------------------------------------------------------
    def add_sitting_in(self, organization: str, series_uid: str, recurrence_id: datetime,
                       person_id: str, *, actor: str,
                       at: datetime | None = None) -> SittingIn:
        """Add ``person_id`` as 列席 to one occurrence; refused if already added."""
        rid = instant(recurrence_id, "recurrence id")
        person_id = required_text(person_id, "the person")
        now = utc(at)
        with self._writing() as session:
            query = select(SittingInRow).where(
                SittingInRow.series_uid == series_uid, SittingInRow.recurrence_id == rid,
                SittingInRow.person_id == person_id,
                SittingInRow.withdrawn_at.is_(None)).with_for_update()
            if session.scalar(query) is not None:
                raise StoreError(f"{person_id} already sits in on this occurrence")
            row = SittingInRow(organization=required_text(organization, "the organization"),
                               series_uid=required_text(series_uid, "the series"),
                               recurrence_id=rid, person_id=person_id, created_by=actor,
                               created_at=now, withdrawn_at=None, version=1)
            session.add(row)
            session.flush()
            after = to_record(row, SittingIn)
            self._add_audit(session, at=now, actor=actor, action="sitting-in.add",
                            target=f"decision:{series_uid}@{instant_key(rid)}", after=after)
        return after

    def withdraw_sitting_in(self, sitting_id: int, *, expected_version: int, actor: str,
                            at: datetime | None = None) -> SittingIn:
        now = utc(at)
        with self._writing() as session:
            row = session.get(SittingInRow, sitting_id, with_for_update=True)
            if row is None:
                raise StoreError(f"列席 entry {sitting_id} does not exist")
            status = "withdrawn" if row.withdrawn_at else "active"
            check_version(f"列席 entry {sitting_id}", row.version, status, expected_version)
            if row.withdrawn_at is not None:
                raise StoreError(f"列席 entry {sitting_id} is already withdrawn")
            before = to_record(row, SittingIn)
            row.withdrawn_at, row.version = now, row.version + 1
            after = to_record(row, SittingIn)
            self._add_audit(session, at=now, actor=actor, action="sitting-in.withdraw",
                            target=f"decision:{row.series_uid}@{instant_key(row.recurrence_id)}",
                            before=before, after=after)
        return after

    def get_sitting_in(self, sitting_id: int) -> SittingIn | None:
        with self._reading() as session:
            row = session.get(SittingInRow, sitting_id)
            return to_record(row, SittingIn) if row is not None else None

    def sitting_in(self, organization: str, series_uid: str | None = None,
                   recurrence_id: datetime | None = None) -> list[SittingIn]:
        """The active 列席 additions of the organization (or of one occurrence)."""
        query = select(SittingInRow).where(SittingInRow.organization == organization,
                                           SittingInRow.withdrawn_at.is_(None))
        if series_uid is not None:
            query = query.where(SittingInRow.series_uid == series_uid)
        if recurrence_id is not None:
            query = query.where(SittingInRow.recurrence_id ==
                                instant(recurrence_id, "recurrence id"))
        with self._reading() as session:
            return [to_record(r, SittingIn)
                    for r in session.scalars(query.order_by(SittingInRow.id))]
