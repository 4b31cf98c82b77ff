"""Topics and agenda versions of one occurrence (篇一 二.4, 三.4). The rules are
calsync.meetings.agenda's; this keeps the rows, versions (optimistic locking) and audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from calsync.errors import ConcurrentChange
from calsync.meetings.agenda import (
    APPROVED,
    CONSENTED,
    DRAFT,
    SUBMITTED,
    AgendaError,
    Item,
    TopicInput,
    agenda_text,
    check_approve,
    check_order,
    next_state,
)
from calsync.store.base import Repository, instant, to_record, utc
from calsync.store.models import AgendaRow, AgendaTopicRow
from calsync.store.models.base import instant_key


@dataclass(frozen=True)
class TopicRecord:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    section: str
    title: str
    presenter: str
    minutes: int
    link: str
    file_name: str | None
    file_label: str | None
    state: str
    late_note: str
    version: int
    submitted_at: datetime
    submitted_by: str
    decided_at: datetime | None
    decided_by: str | None


@dataclass(frozen=True)
class AgendaRecord:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    items: list[int]
    text: str
    status: str
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None


class AgendaRepository(Repository):
    def submit_topic(self, organization: str, series_uid: str, recurrence_id: datetime, *,
                     section: str, topic: TopicInput, actor: str, late_note: str = "",
                     file_name: str | None = None, file_label: str | None = None,
                     at: datetime | None = None) -> TopicRecord:
        """Record a section's topic; a late one is kept with its mark (篇一 二.4)."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            row = AgendaTopicRow(
                organization=organization, series_uid=series_uid, recurrence_id=recurrence_id,
                section=section, title=topic.title, presenter=topic.presenter,
                minutes=topic.minutes, link=topic.link, file_name=file_name,
                file_label=file_label, state=SUBMITTED, late_note=late_note, version=1,
                submitted_at=now, submitted_by=actor, decided_at=None, decided_by=None)
            session.add(row)
            session.flush()
            after = to_record(row, TopicRecord)
            self._add_audit(session, at=now, actor=actor, action="agenda.submit",
                            target=_target(series_uid, recurrence_id), after=after)
        return after

    def decide_topic(self, topic_id: int, action: str, *, actor: str,
                     expected_version: int | None = None,
                     at: datetime | None = None) -> TopicRecord:
        """The 分管领导's consent or decline (``action`` consent | decline)."""
        now = utc(at)
        with self._writing() as session:
            row = session.get(AgendaTopicRow, topic_id, with_for_update=True)
            if row is None:
                raise AgendaError(f"没有编号为 {topic_id} 的议题（请刷新页面）")
            if expected_version is not None and row.version != expected_version:
                raise ConcurrentChange(f"topic {topic_id} changed meanwhile (reload the page)")
            before = to_record(row, TopicRecord)
            row.state = next_state(row.state, action)
            row.version += 1
            row.decided_at, row.decided_by = now, actor
            after = to_record(row, TopicRecord)
            self._add_audit(session, at=now, actor=actor, action=f"agenda.{action}",
                            target=_target(row.series_uid, row.recurrence_id),
                            before=before, after=after)
        return after

    def topic(self, topic_id: int) -> TopicRecord | None:
        with self._reading() as session:
            row = session.get(AgendaTopicRow, topic_id)
            return to_record(row, TopicRecord) if row is not None else None

    def topics(self, series_uid: str, recurrence_id: datetime) -> list[TopicRecord]:
        recurrence_id = instant(recurrence_id, "recurrence id")
        query = (select(AgendaTopicRow)
                 .where(AgendaTopicRow.series_uid == series_uid,
                        AgendaTopicRow.recurrence_id == recurrence_id)
                 .order_by(AgendaTopicRow.id))
        with self._reading() as session:
            return [to_record(r, TopicRecord) for r in session.scalars(query)]

    def order_agenda(self, organization: str, series_uid: str, recurrence_id: datetime,
                     topic_ids: list[int], *, actor: str, expected_agenda: int = 0,
                     at: datetime | None = None) -> AgendaRecord:
        """A new agenda version (draft) from consented topics in this order.
        ``expected_agenda``: the newest agenda id the secretary saw (0 if none)."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            # Lock the occurrence's topics first: two secretaries ordering the first agenda
            # (no agenda row to lock yet) queue here, and the second then sees the first's.
            rows = {r.id: r for r in session.scalars(select(AgendaTopicRow).where(
                AgendaTopicRow.series_uid == series_uid,
                AgendaTopicRow.recurrence_id == recurrence_id).with_for_update())}
            latest = _latest(session, series_uid, recurrence_id)
            if (latest.id if latest else 0) != expected_agenda:
                raise ConcurrentChange("the agenda changed meanwhile (reload the page)")
            order = check_order(topic_ids, {i: r.state for i, r in rows.items()})
            text = agenda_text(Item(rows[i].title, rows[i].presenter, rows[i].minutes)
                               for i in order)
            row = AgendaRow(organization=organization, series_uid=series_uid,
                            recurrence_id=recurrence_id, items=order, text=text, status=DRAFT,
                            created_at=now, created_by=actor, approved_at=None,
                            approved_by=None)
            session.add(row)
            session.flush()
            after = to_record(row, AgendaRecord)
            self._add_audit(session, at=now, actor=actor, action="agenda.order",
                            target=_target(series_uid, recurrence_id), after=after)
        return after

    def approve_agenda(self, series_uid: str, recurrence_id: datetime, agenda_id: int, *,
                       actor: str, at: datetime | None = None) -> AgendaRecord:
        """The chair's (duty leader's) 审定 of the newest version, which must be ``agenda_id``."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            latest = _latest(session, series_uid, recurrence_id)
            check_approve(latest.status if latest else None)
            assert latest is not None
            if latest.id != agenda_id:
                raise ConcurrentChange("the agenda was re-ordered meanwhile (reload the page)")
            for tid in latest.items:  # every topic on it is still consented
                topic = session.get(AgendaTopicRow, tid)
                if topic is None or topic.state != CONSENTED:
                    raise AgendaError(f"议题 {tid} 已不再是已同意状态，请秘书科重新编排")
            latest.status, latest.approved_at, latest.approved_by = APPROVED, now, actor
            after = to_record(latest, AgendaRecord)
            self._add_audit(session, at=now, actor=actor, action="agenda.approve",
                            target=_target(series_uid, recurrence_id), after=after)
        return after

    def agendas(self, series_uid: str, recurrence_id: datetime) -> list[AgendaRecord]:
        """Every version, newest first."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        query = (select(AgendaRow)
                 .where(AgendaRow.series_uid == series_uid,
                        AgendaRow.recurrence_id == recurrence_id)
                 .order_by(AgendaRow.id.desc()))
        with self._reading() as session:
            return [to_record(r, AgendaRecord) for r in session.scalars(query)]

    def approved_agendas(self, organization: str) -> list[AgendaRecord]:
        """The newest approved version per occurrence: generation's input."""
        query = (select(AgendaRow)
                 .where(AgendaRow.organization == organization, AgendaRow.status == APPROVED)
                 .order_by(AgendaRow.id))
        out: dict[tuple[str, datetime], AgendaRecord] = {}
        with self._reading() as session:
            for r in session.scalars(query):
                out[(r.series_uid, r.recurrence_id)] = to_record(r, AgendaRecord)
        return list(out.values())


def _latest(session, series_uid: str, recurrence_id: datetime) -> AgendaRow | None:
    query = (select(AgendaRow)
             .where(AgendaRow.series_uid == series_uid,
                    AgendaRow.recurrence_id == recurrence_id)
             .order_by(AgendaRow.id.desc()).limit(1).with_for_update())
    return session.scalars(query).first()


def _target(series_uid: str, recurrence_id: datetime) -> str:
    return f"agenda:{series_uid}@{instant_key(recurrence_id)}"
