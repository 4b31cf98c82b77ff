"""Sign-in sheets and attendance marks (篇二 四.1–2 签到, 考勤).

A sheet per occurrence holds the QR code's secret (``token``, long and random: the link is
the key to the public sign-in page) and the short code people without an account type (six
digits, shown to the keeper; guesses go through calsync.app.login_limit, web/signin_public.py).
A mark per person and occurrence: the first sign-in wins (signing in twice changes nothing);
a keeper's hand correction changes it and is audited with before and after. Method ``code``
is a typed name with the short code (no login: nobody vouched for it; the keeper sees it so).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from calsync.errors import StoreError
from calsync.store.base import Repository, instant, to_record, utc
from calsync.store.leave import check_version, required_text
from calsync.store.models.attendance import AttendanceMarkRow, SigninSheetRow
from calsync.store.models.base import instant_key

MARK_STATUSES = ("present", "late", "absent")
METHODS = ("self", "code", "hand")
CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class SigninSheet:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    token: str
    code: str
    created_by: str
    created_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class AttendanceMark:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    person_key: str
    name: str
    status: str
    method: str
    signed_at: datetime | None
    updated_by: str
    updated_at: datetime
    version: int


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def target(series_uid: str, recurrence_id: datetime) -> str:
    """The audit log's target for one occurrence's attendance."""
    return f"attendance:{series_uid}@{instant_key(recurrence_id)}"


def _status(value: str) -> str:
    if value not in MARK_STATUSES:
        raise StoreError(f"unknown attendance status {value!r} (use one of "
                         f"{', '.join(MARK_STATUSES)})")
    return value


class AttendanceRepository(Repository):
    # -- sheets ---------------------------------------------------------------------------
    def signin_sheet(self, organization: str, series_uid: str, recurrence_id: datetime, *,
                     actor: str, at: datetime | None = None) -> SigninSheet:
        """The occurrence's sheet, made on first use (two keepers at once get the same)."""
        rid = instant(recurrence_id, "recurrence id")
        found = self.get_signin_sheet(series_uid, rid)
        if found is not None:
            return found
        now = utc(at)
        try:
            with self._writer.begin() as session:
                row = SigninSheetRow(
                    organization=required_text(organization, "the organization"),
                    series_uid=required_text(series_uid, "the series uid"),
                    recurrence_id=rid, token=secrets.token_urlsafe(24), code=new_code(),
                    created_by=actor, created_at=now, version=1)
                session.add(row)
                session.flush()
                self._add_audit(session, at=now, actor=actor, action="signin.open",
                                target=target(series_uid, rid), after={"sheet": row.id})
        except IntegrityError:
            pass   # another keeper made it first
        made = self.get_signin_sheet(series_uid, rid)
        if made is None:
            raise StoreError("the sign-in sheet could not be made: reload the page")
        return made

    def get_signin_sheet(self, series_uid: str, recurrence_id: datetime) -> SigninSheet | None:
        rid = instant(recurrence_id, "recurrence id")
        query = select(SigninSheetRow).where(SigninSheetRow.series_uid == series_uid,
                                             SigninSheetRow.recurrence_id == rid)
        with self._reading() as session:
            row = session.scalar(query)
            return to_record(row, SigninSheet) if row is not None else None

    def signin_sheet_by_token(self, token: str) -> SigninSheet | None:
        if not token or len(token) > 64:
            return None
        with self._reading() as session:
            row = session.scalar(select(SigninSheetRow).where(SigninSheetRow.token == token))
            return to_record(row, SigninSheet) if row is not None else None

    def renew_signin_code(self, sheet_id: int, *, actor: str, expected_version: int,
                          at: datetime | None = None) -> SigninSheet:
        """A new short code (the old one was seen by someone it should not have been)."""
        now = utc(at)
        with self._writing() as session:
            row = session.get(SigninSheetRow, sheet_id, with_for_update=True)
            if row is None:
                raise StoreError(f"there is no sign-in sheet {sheet_id} (reload the page)")
            check_version(f"sign-in sheet {sheet_id}", row.version, "open", expected_version)
            row.code, row.version = new_code(), row.version + 1
            self._add_audit(session, at=now, actor=actor, action="signin.new-code",
                            target=target(row.series_uid, row.recurrence_id),
                            after={"sheet": row.id, "version": row.version})
            return to_record(row, SigninSheet)

    # -- marks ----------------------------------------------------------------------------
    def sign_in(self, organization: str, series_uid: str, recurrence_id: datetime,
                person_key: str, *, name: str, status: str, method: str, actor: str,
                at: datetime | None = None) -> tuple[AttendanceMark, bool]:
        """Record a sign-in; (the mark, True) when new, (the earlier mark, False) when the
        person had already signed in or been marked."""
        if method not in ("self", "code"):
            raise StoreError(f"a sign-in is made by 'self' or 'code', not {method!r}")
        rid = instant(recurrence_id, "recurrence id")
        now = utc(at)
        existing = self._mark(series_uid, rid, person_key)
        if existing is not None:
            return existing, False
        try:
            with self._writer.begin() as session:
                row = AttendanceMarkRow(
                    organization=required_text(organization, "the organization"),
                    series_uid=series_uid, recurrence_id=rid,
                    person_key=required_text(person_key, "the person"), name=name,
                    status=_status(status), method=method, signed_at=now, updated_by=actor,
                    updated_at=now, version=1)
                session.add(row)
                session.flush()
                after = to_record(row, AttendanceMark)
                self._add_audit(session, at=now, actor=actor, action=f"signin.{method}",
                                target=target(series_uid, rid), after=after)
        except IntegrityError:
            again = self._mark(series_uid, rid, person_key)
            if again is None:
                raise StoreError("the sign-in could not be saved: try again") from None
            return again, False
        return after, True

    def mark_attendance(self, organization: str, series_uid: str, recurrence_id: datetime,
                        person_key: str, *, name: str, status: str, actor: str,
                        expected_version: int, at: datetime | None = None) -> AttendanceMark:
        """A keeper's hand mark or correction; ``expected_version`` 0 when there was no
        mark yet. Audited with before and after."""
        rid = instant(recurrence_id, "recurrence id")
        now = utc(at)
        _status(status)
        with self._writing() as session:
            query = select(AttendanceMarkRow).where(
                AttendanceMarkRow.series_uid == series_uid,
                AttendanceMarkRow.recurrence_id == rid,
                AttendanceMarkRow.person_key == person_key).with_for_update()
            row = session.scalar(query)
            before = to_record(row, AttendanceMark) if row is not None else None
            check_version(f"{name}'s attendance", row.version if row else 0,
                          row.status if row else "not marked", expected_version)
            if row is None:
                row = AttendanceMarkRow(
                    organization=required_text(organization, "the organization"),
                    series_uid=series_uid, recurrence_id=rid,
                    person_key=required_text(person_key, "the person"), name=name,
                    status=status, method="hand", signed_at=None, updated_by=actor,
                    updated_at=now, version=1)
                session.add(row)
            else:
                row.status, row.method, row.updated_by, row.updated_at = (
                    status, "hand", actor, now)
                row.version += 1
            session.flush()
            after = to_record(row, AttendanceMark)
            self._add_audit(session, at=now, actor=actor, action="attendance.hand",
                            target=target(series_uid, rid), before=before, after=after)
        return after

    def attendance_marks(self, series_uid: str, recurrence_id: datetime) -> list[AttendanceMark]:
        rid = instant(recurrence_id, "recurrence id")
        query = (select(AttendanceMarkRow)
                 .where(AttendanceMarkRow.series_uid == series_uid,
                        AttendanceMarkRow.recurrence_id == rid)
                 .order_by(AttendanceMarkRow.id))
        with self._reading() as session:
            return [to_record(r, AttendanceMark) for r in session.scalars(query)]

    def organization_attendance(
        self, organization: str
    ) -> dict[tuple[str, datetime], list[AttendanceMark]]:
        """Every mark of the organization by (series uid, recurrence id); occurrences with a
        sheet but no mark yet are keys with an empty list."""
        marks = (select(AttendanceMarkRow)
                 .where(AttendanceMarkRow.organization == organization)
                 .order_by(AttendanceMarkRow.id))
        sheets = select(SigninSheetRow).where(SigninSheetRow.organization == organization)
        out: dict[tuple[str, datetime], list[AttendanceMark]] = {}
        with self._reading() as session:
            for s in session.scalars(sheets):
                out.setdefault((s.series_uid, s.recurrence_id), [])
            for r in session.scalars(marks):
                out.setdefault((r.series_uid, r.recurrence_id), []).append(
                    to_record(r, AttendanceMark))
        return out

    def _mark(self, series_uid: str, rid: datetime, person_key: str) -> AttendanceMark | None:
        query = select(AttendanceMarkRow).where(
            AttendanceMarkRow.series_uid == series_uid, AttendanceMarkRow.recurrence_id == rid,
            AttendanceMarkRow.person_key == person_key)
        with self._reading() as session:
            row = session.scalar(query)
            return to_record(row, AttendanceMark) if row is not None else None
