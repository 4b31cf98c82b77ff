"""ORM tables. The schema itself is owned by the Alembic migrations in ``migrations/versions``.

These classes must match the migrations; ``tests/test_store.py`` checks that they do. New
tables and columns go into a new migration *and* here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

# Explicit constraint names, so later migrations (and SQLite batch rebuilds) can refer to them.
from calsync.store.models.base import Base, Instant, JSONText, UTCDateTime


class SyncResourceRow(Base):
    """One resource calsync owns on a CalDAV collection."""

    __tablename__ = "sync_resource"
    __table_args__ = (UniqueConstraint("collection_url", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    collection_url: Mapped[str] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(Text)
    href: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    written_ics: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncConflictRow(Base):
    """A resource someone changed on the server behind calsync's back."""

    __tablename__ = "sync_conflict"
    __table_args__ = (
        # At most one open conflict per resource; resolved ones are history.
        Index(
            "uq_sync_conflict_open",
            "collection_url",
            "uid",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    collection_url: Mapped[str] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(Text)
    href: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    server_ics: Mapped[str | None] = mapped_column(Text)
    server_etag: Mapped[str | None] = mapped_column(Text)
    policy_ics: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_by: Mapped[str | None] = mapped_column(String(200))


class DecisionRow(Base):
    """A decision on one occurrence; rows are never edited, only superseded."""

    __tablename__ = "decision"
    __table_args__ = (
        Index(
            "uq_decision_active",
            "series_uid",
            "recurrence_id",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
            sqlite_where=text("superseded_at IS NULL"),
        ),
        Index("ix_decision_organization", "organization"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(Text)
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    action: Mapped[str] = mapped_column(String(20))
    new_start: Mapped[datetime | None] = mapped_column(Instant)
    new_end: Mapped[datetime | None] = mapped_column(Instant)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # JSON: {"other": [uid, rid]} on a merge, {"merged_into": [uid, rid]} on its cancel
    payload: Mapped[Any] = mapped_column(JSONText, nullable=True)


class AuditRow(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(Text, index=True)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class SyncRunRow(Base):
    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    counts: Mapped[str] = mapped_column(Text, default="{}")
    message: Mapped[str] = mapped_column(Text, default="")


class SyncCollectionRow(Base):
    """RFC 6578 state of one collection: the last sync token and the listing it describes."""

    __tablename__ = "sync_collection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_url: Mapped[str] = mapped_column(Text, unique=True)
    sync_token: Mapped[str | None] = mapped_column(Text)
    # JSON object href -> etag (or null) for EVERY member, foreign ones included
    listing: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AppUserRow(Base):
    """A web user; the password is only ever stored as a hash."""

    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(200), primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # bumped on every password change: the web's user loader ends older sessions
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # set by a secretary's reset (a temporary password): change it at the next login
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())


class LeaveNoteRow(Base):
    """A request to be excused from one occurrence, approved by the chair (and the director)."""

    __tablename__ = "leave_note"
    __table_args__ = (
        # One open note per person and occurrence; rejected and withdrawn ones are history.
        Index(
            "uq_leave_note_open",
            "series_uid",
            "recurrence_id",
            "person_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'approved')"),
            sqlite_where=text("status IN ('pending', 'approved')"),
        ),
        Index("ix_leave_note_organization", "organization"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(Text)
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    person_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    substitute_id: Mapped[str | None] = mapped_column(String(200))
    late: Mapped[bool] = mapped_column(Boolean)
    needs_director: Mapped[bool] = mapped_column(Boolean)
    chair_id: Mapped[str | None] = mapped_column(String(200))
    director_id: Mapped[str | None] = mapped_column(String(200))
    chair_status: Mapped[str] = mapped_column(String(20))
    chair_by: Mapped[str | None] = mapped_column(String(200))
    chair_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    director_status: Mapped[str | None] = mapped_column(String(20))
    director_by: Mapped[str | None] = mapped_column(String(200))
    director_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class MeetingRequestRow(Base):
    """A section's request for a one-off meeting, approved by a leader."""

    __tablename__ = "meeting_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    section_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    audience: Mapped[Any] = mapped_column(JSONText)  # JSON list of person ids
    start: Mapped[str] = mapped_column(String(64))
    end: Mapped[str] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(200))
    important: Mapped[bool] = mapped_column(Boolean)
    approver_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)


class ClashAckRow(Base):
    """A clash someone chose to keep; it stays hidden while its fingerprint is unchanged."""

    __tablename__ = "clash_ack"

    clash_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    acked_by: Mapped[str] = mapped_column(String(200))
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)


class FeedTokenRow(Base):
    """A person's subscription-feed secret (see calsync/store/feeds.py for why it is kept)."""

    __tablename__ = "feed_token"

    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedStateRow(Base):
    """A feed's last ETag and Last-Modified, so Last-Modified never goes backwards."""

    __tablename__ = "feed_state"

    feed_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    etag: Mapped[str] = mapped_column(String(128))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)


class BusyObjectRow(Base):
    """An event calsync does not own, kept for clash checks: a foreign object of a published
    collection or an object of a watched calendar. ``source`` is the collection's URL."""

    __tablename__ = "busy_object"
    __table_args__ = (UniqueConstraint("source", "href"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    href: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeriesDecisionRow(Base):
    """A decision on a whole series from a date on (stagger it, or a person sends a
    substitute); the active one per series and action has superseded_at NULL."""

    __tablename__ = "series_decision"
    __table_args__ = (Index("ix_series_decision_organization", "organization"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20))        # offset | delegate
    since: Mapped[str] = mapped_column(String(10))         # YYYY-MM-DD, first day it applies
    offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    person_id: Mapped[str | None] = mapped_column(String(200))
    substitute_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeRow(Base):
    """One iMIP notice version to one recipient (the outbox). ``message`` is the exact RFC
    5322 message, built once when queued, so every retry sends the same bytes and
    Message-ID. ``state`` is what the recipient knows after it (calsync.notices.plan)."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("uid", "recipient", "sequence"),
                      Index("ix_notice_status_next_try", "status", "next_try"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    uid: Mapped[str] = mapped_column(String(400))
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    confidential: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[Any] = mapped_column(JSONText)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_try: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeReplyRow(Base):
    """An attendee's answer (iTIP REPLY) to a notice: PARTSTAT per series or occurrence
    (``recurrence_id`` empty for the whole series)."""

    __tablename__ = "notice_reply"
    __table_args__ = (UniqueConstraint("uid", "recipient", "recurrence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    uid: Mapped[str] = mapped_column(String(400))
    recipient: Mapped[str] = mapped_column(String(320))
    recurrence_id: Mapped[str] = mapped_column(String(64))
    partstat: Mapped[str] = mapped_column(String(32))
    sequence: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdhocMeetingRow(Base):
    """An extra occurrence of a policy meeting type (篇一 二.2 "遇有重大事项可随时召开"), a
    generation input like a decision: UID ``adhoc-<id>@<org>``; withdrawn ones stay CANCELLED."""

    __tablename__ = "adhoc_meeting"
    __table_args__ = (Index("ix_adhoc_meeting_organization", "organization"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    meeting_type: Mapped[str] = mapped_column(String(200))
    section_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[str] = mapped_column(String(64))
    end: Mapped[str] = mapped_column(String(64))
    room: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[Any] = mapped_column(JSONText)          # person ids beyond the type's own
    note: Mapped[str] = mapped_column(Text, default="")   # why it was saved despite clashes
    status: Mapped[str] = mapped_column(String(16))       # active | withdrawn
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class SittingInRow(Base):
    """A person added as 列席 (NON-PARTICIPANT) to one occurrence (篇一 二.1 "列席人员由会议
    主持人确定"); a withdrawn one keeps its row with withdrawn_at set."""

    __tablename__ = "sitting_in"
    __table_args__ = (Index("ix_sitting_in_organization", "organization"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(Text)
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    person_id: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)


class AgendaTopicRow(Base):
    """A section's topic for one occurrence (篇一 二.4, 三.4): submitted, then consented or
    declined by the section's 分管领导; ``late_note`` marks one after the deadline."""

    __tablename__ = "agenda_topic"
    __table_args__ = (Index("ix_agenda_topic_occurrence", "series_uid", "recurrence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    section: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    presenter: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int] = mapped_column(Integer)
    link: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200))     # stored name (random)
    file_label: Mapped[str | None] = mapped_column(String(300))    # the name it was sent as
    state: Mapped[str] = mapped_column(String(16))
    late_note: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))


class AgendaRow(Base):
    """One version of an occurrence's agenda, ordered by the organizer section; the newest
    approved one is the occurrence's 议程 (a later draft waits for its own approval)."""

    __tablename__ = "agenda"
    __table_args__ = (Index("ix_agenda_occurrence", "series_uid", "recurrence_id"),
                      Index("ix_agenda_organization", "organization"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200))
    series_uid: Mapped[str] = mapped_column(String(400))
    recurrence_id: Mapped[datetime] = mapped_column(Instant)
    items: Mapped[Any] = mapped_column(JSONText)                  # topic ids in order
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(200))


class LoginThrottleRow(Base):
    """Recent failed logins of one account ("user:…") or client address ("addr:…"), shared
    by every worker (calsync/login_limit.py)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
