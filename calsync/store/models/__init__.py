"""The tables: the declarative base and its column types (base), and the rows of every
aggregate (core, attendance 签到, minutes 纪要/议定事项). Importing this package registers them all
with ``Base.metadata``, which Alembic and ``create_all`` read."""

from __future__ import annotations

from calsync.store.models.attendance import AttendanceMarkRow, SigninSheetRow
from calsync.store.models.base import NAMING_CONVENTION, Base, JSONText, UTCDateTime
from calsync.store.models.core import (
    AdhocMeetingRow,
    AgendaRow,
    AgendaTopicRow,
    AppUserRow,
    AuditRow,
    BusyObjectRow,
    ClashAckRow,
    DecisionRow,
    FeedStateRow,
    FeedTokenRow,
    LeaveNoteRow,
    LoginThrottleRow,
    MeetingRequestRow,
    NoticeReplyRow,
    NoticeRow,
    SeriesDecisionRow,
    SittingInRow,
    SyncCollectionRow,
    SyncConflictRow,
    SyncResourceRow,
    SyncRunRow,
)
from calsync.store.models.minutes import ActionItemRow, ActionNoteRow, MinutesRow

__all__ = [
    "NAMING_CONVENTION",
    "ActionItemRow",
    "ActionNoteRow",
    "AdhocMeetingRow",
    "AgendaRow",
    "AgendaTopicRow",
    "AppUserRow",
    "AttendanceMarkRow",
    "AuditRow",
    "Base",
    "BusyObjectRow",
    "ClashAckRow",
    "DecisionRow",
    "FeedStateRow",
    "FeedTokenRow",
    "JSONText",
    "LeaveNoteRow",
    "LoginThrottleRow",
    "MeetingRequestRow",
    "MinutesRow",
    "NoticeReplyRow",
    "NoticeRow",
    "SeriesDecisionRow",
    "SigninSheetRow",
    "SittingInRow",
    "SyncCollectionRow",
    "SyncConflictRow",
    "SyncResourceRow",
    "SyncRunRow",
    "UTCDateTime",
]
