"""The notice outbox (iMIP): one row per notice version and recipient, and the replies.

Delivery is claim → send → mark. A claim is a compare-and-set on the row's status (``queued``
→ ``sending``), so two senders (scheduler threads of several workers) never take the same
row. A row left ``sending`` by a crash is claimable again after ``lease`` (see
calsync/notices/deliver.py for why that re-send is the chosen side of the window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from calsync.store.base import Repository, rowcount, to_record, utc
from calsync.store.models import NoticeReplyRow, NoticeRow

STATUSES = ("queued", "sending", "sent", "written", "failed")


@dataclass(frozen=True, slots=True)
class OutboxNotice:
    id: int
    organization: str
    uid: str
    recipient: str
    recipient_name: str
    sequence: int
    method: str
    kind: str
    message_id: str
    subject: str
    summary: str
    confidential: bool
    state: Any
    message: str
    status: str
    attempts: int
    next_try: datetime
    claimed_at: datetime | None
    last_error: str | None
    path: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class NoticeReply:
    organization: str
    uid: str
    recipient: str
    recurrence_id: str
    partstat: str
    sequence: int
    comment: str
    replied_at: datetime


@dataclass(frozen=True, slots=True)
class NewNotice:
    """What the queue shell hands the store (calsync.app.notices_queue)."""

    organization: str
    uid: str
    recipient: str
    recipient_name: str
    sequence: int
    method: str
    kind: str
    message_id: str
    subject: str
    summary: str
    confidential: bool
    state: Any
    message: str
    # A message that could not be built goes in ``failed`` with its reason (never claimed):
    # listed for the secretary, and it does not hold up the other notices.
    status: str = "queued"
    error: str | None = None


class NoticesRepository(Repository):
    def latest_notices(self, orgs: Iterable[str]) -> list[OutboxNotice]:
        """Per (uid, recipient) the notice with the highest SEQUENCE, of these organizations."""
        chosen = sorted(set(orgs))
        top = (select(NoticeRow.uid, NoticeRow.recipient,
                      func.max(NoticeRow.sequence).label("seq"))
               .where(NoticeRow.organization.in_(chosen))
               .group_by(NoticeRow.uid, NoticeRow.recipient).subquery())
        query = select(NoticeRow).join(top, and_(NoticeRow.uid == top.c.uid,
                                                  NoticeRow.recipient == top.c.recipient,
                                                  NoticeRow.sequence == top.c.seq))
        with self._reading() as session:
            return [to_record(r, OutboxNotice) for r in session.scalars(query)]

    def queue_notices(self, notices: Sequence[NewNotice], at: datetime | None = None) -> int:
        """Insert one plan's notices in one transaction. Another planner that queued the same
        versions first (same uid, recipient, sequence) wins: nothing is queued twice."""
        if not notices:
            return 0
        now = utc(at)
        try:
            with self._writer.begin() as session:
                for n in notices:
                    session.add(NoticeRow(
                        organization=n.organization, uid=n.uid, recipient=n.recipient,
                        recipient_name=n.recipient_name, sequence=n.sequence, method=n.method,
                        kind=n.kind, message_id=n.message_id, subject=n.subject,
                        summary=n.summary, confidential=n.confidential, state=n.state,
                        message=n.message, status=n.status, last_error=n.error,
                        attempts=0, next_try=now, created_at=now))
        except IntegrityError:
            return 0
        return len(notices)

    def claim_due(self, at: datetime | None = None, *, limit: int = 100,
                  lease: timedelta = timedelta(minutes=10)) -> list[OutboxNotice]:
        """Take due rows for sending: queued ones whose next try has come, and ones a crashed
        sender left ``sending`` longer than ``lease`` ago. Each claim bumps ``attempts``."""
        now = utc(at)
        due = or_(and_(NoticeRow.status == "queued", NoticeRow.next_try <= now),
                  and_(NoticeRow.status == "sending", NoticeRow.claimed_at <= now - lease))
        query = select(NoticeRow.id, NoticeRow.status, NoticeRow.attempts).where(due).order_by(
            NoticeRow.next_try, NoticeRow.id).limit(limit)
        with self._reading() as session:
            candidates = list(session.execute(query))
        claimed = []
        for row_id, status, attempts in candidates:
            with self._writing() as session:
                done = session.execute(
                    update(NoticeRow)
                    .where(NoticeRow.id == row_id, NoticeRow.status == status,
                           NoticeRow.attempts == attempts)
                    .values(status="sending", claimed_at=now, attempts=attempts + 1))
                if rowcount(done) == 1:
                    claimed.append(to_record(session.get(NoticeRow, row_id), OutboxNotice))
        return claimed

    def mark_notice(self, notice_id: int, status: str, *, error: str | None = None,
                    next_try: datetime | None = None, path: str | None = None,
                    at: datetime | None = None) -> None:
        """``sent``/``written`` (delivered), ``queued`` (retry at ``next_try``) or ``failed``."""
        if status not in STATUSES:
            raise ValueError(f"unknown notice status {status!r}")
        now = utc(at)
        values: dict[str, Any] = {"status": status, "claimed_at": None, "last_error": error}
        if status in ("sent", "written"):
            values["sent_at"] = now
        if next_try is not None:
            values["next_try"] = utc(next_try)
        if path is not None:
            values["path"] = path
        with self._writing() as session:
            session.execute(update(NoticeRow).where(NoticeRow.id == notice_id).values(**values))

    def outbox(self, orgs: Iterable[str] | None = None, *, status: str | None = None,
               limit: int = 500) -> list[OutboxNotice]:
        """Newest first."""
        query = select(NoticeRow).order_by(NoticeRow.id.desc()).limit(limit)
        if orgs is not None:
            query = query.where(NoticeRow.organization.in_(sorted(set(orgs))))
        if status is not None:
            query = query.where(NoticeRow.status == status)
        with self._reading() as session:
            return [to_record(r, OutboxNotice) for r in session.scalars(query)]

    def last_notice(self, uid: str, recipient: str,
                    organization: str | None = None) -> OutboxNotice | None:
        """The newest notice (highest SEQUENCE) of ``uid`` to ``recipient``, of
        ``organization`` when given: what that attendee was last told."""
        query = (select(NoticeRow).where(NoticeRow.uid == uid,
                                         NoticeRow.recipient == recipient.strip().lower())
                 .order_by(NoticeRow.sequence.desc(), NoticeRow.id.desc()).limit(1))
        if organization is not None:
            query = query.where(NoticeRow.organization == organization)
        with self._reading() as session:
            row = session.scalar(query)
            return to_record(row, OutboxNotice) if row is not None else None

    def record_reply(self, uid: str, recipient: str, partstat: str, *, recurrence_id: str = "",
                     sequence: int = 0, comment: str = "", organization: str | None = None,
                     actor: str | None = None, at: datetime | None = None
                     ) -> NoticeReply | None:
        """Keep an attendee's answer; None when calsync never sent them this UID (of
        ``organization``, when given): a reply from someone not invited changes nothing.
        With ``actor`` (who entered it), the audit log says so in the same transaction."""
        now = utc(at)
        recipient = recipient.strip().lower()
        query = select(NoticeRow.organization).where(
            NoticeRow.uid == uid, NoticeRow.recipient == recipient).limit(1)
        if organization is not None:
            query = query.where(NoticeRow.organization == organization)
        with self._writing() as session:
            org = session.scalar(query)
            if org is None:
                return None
            row = session.scalar(select(NoticeReplyRow).where(
                NoticeReplyRow.uid == uid, NoticeReplyRow.recipient == recipient,
                NoticeReplyRow.recurrence_id == recurrence_id))
            if row is None:
                row = NoticeReplyRow(organization=org, uid=uid, recipient=recipient,
                                     recurrence_id=recurrence_id)
                session.add(row)
            row.partstat, row.sequence, row.comment, row.replied_at = (
                partstat, sequence, comment, now)
            session.flush()
            if actor is not None:
                self._add_audit(session, at=now, actor=actor, action="notice.reply",
                                target=f"notice-reply:{uid}",
                                after={"recipient": recipient, "partstat": partstat,
                                       "recurrence_id": recurrence_id})
            return to_record(row, NoticeReply)

    def notice_replies(self, orgs: Iterable[str] | None = None, *,
                       uid: str | None = None) -> list[NoticeReply]:
        query = select(NoticeReplyRow).order_by(NoticeReplyRow.replied_at.desc())
        if uid is not None:
            query = query.where(NoticeReplyRow.uid == uid)
        if orgs is not None:
            query = query.where(NoticeReplyRow.organization.in_(sorted(set(orgs))))
        with self._reading() as session:
            return [to_record(r, NoticeReply) for r in session.scalars(query)]
