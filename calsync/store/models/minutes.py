"""ORM tables of minutes and decisions (纪要 / 议定事项, calsync.meetings.minutes); migration
0013 creates them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from calsync.store.models.base import Base, Instant, UTCDateTime


class MinutesRow(Base):
    """One occurrence's minutes: formatted text and/or an uploaded file (stored under a random
    name in the instance folder). ``confidential``: the meeting's class when written."""

    __tablename__ = "minutes"
    __table_args__ = (UniqueConstraint("series_uid", "recurrence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    text: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_label: Mapped[str | None] = mapped_column(String(300))
    confidential: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


class ActionItemRow(Base):
    """One decision (议定事项) of an occurrence: owner section, due date, status; published as
    a VTODO (calsync.ical.tasks). ``updated_at`` is the VTODO's DTSTAMP."""

    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_occurrence", "series_uid", "recurrence_id"),
                      Index("ix_action_item_organization", "organization"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    meeting: Mapped[str] = mapped_column(String(400))       # the meeting's summary, when made
    confidential: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(Text)
    section: Mapped[str] = mapped_column(String(200))
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActionNoteRow(Base):
    """A progress note on a decision (history kept: never edited or deleted)."""

    __tablename__ = "action_note"
    __table_args__ = (Index("ix_action_note_item", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
