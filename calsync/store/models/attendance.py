"""ORM tables for sign-in (签到) and attendance (考勤), 篇二 四.1–2 (migration 0012)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from calsync.store.models.base import Base, Instant, UTCDateTime


class SigninSheetRow(Base):
    """One occurrence's sign-in sheet: the secret the QR code carries (``token``) and the
    short code people without an account type (``code``)."""

    __tablename__ = "signin_sheet"
    __table_args__ = (UniqueConstraint("series_uid", "recurrence_id"),
                      Index("ix_signin_sheet_organization", "organization"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class AttendanceMarkRow(Base):
    """One person's attendance at one occurrence: signed in (self, code) or marked by hand.
    ``person_key`` is the person id, or ``mailto:<address>`` for someone outside the
    directory. Hand corrections change the row and leave an audit entry (before/after)."""

    __tablename__ = "attendance_mark"
    __table_args__ = (UniqueConstraint("series_uid", "recurrence_id", "person_key"),
                      Index("ix_attendance_mark_organization", "organization"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    person_key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))       # present | late | absent
    method: Mapped[str] = mapped_column(String(16))       # self | code | hand
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
