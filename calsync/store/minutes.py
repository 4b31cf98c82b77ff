"""Minutes and decisions of occurrences (纪要 / 议定事项). The rules are
calsync.meetings.minutes'; this keeps the rows, versions (optimistic locking), the progress
history and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from calsync.errors import ConcurrentChange
from calsync.meetings.minutes import DONE, OPEN, DecisionInput
from calsync.store.base import Repository, instant, to_record, utc
from calsync.store.models.base import instant_key
from calsync.store.models.minutes import ActionItemRow, ActionNoteRow, MinutesRow


@dataclass(frozen=True)
class MinutesRecord:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    text: str
    file_name: str | None
    file_label: str | None
    confidential: bool
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class ActionItem:
    id: int
    organization: str
    series_uid: str
    recurrence_id: datetime
    meeting: str
    confidential: bool
    title: str
    section: str
    due: date
    status: str
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class ActionNote:
    id: int
    item_id: int
    at: datetime
    by: str
    status: str
    note: str


def _target(series_uid: str, recurrence_id: datetime) -> str:
    return f"minutes:{series_uid}@{instant_key(recurrence_id)}"


class MinutesRepository(Repository):
    # -- minutes ---------------------------------------------------------------------------

    def get_minutes(self, series_uid: str, recurrence_id: datetime) -> MinutesRecord | None:
        recurrence_id = instant(recurrence_id, "recurrence id")
        with self._reading() as session:
            row = session.scalars(select(MinutesRow).where(
                MinutesRow.series_uid == series_uid,
                MinutesRow.recurrence_id == recurrence_id)).first()
            return to_record(row, MinutesRecord) if row is not None else None

    def save_minutes(self, organization: str, series_uid: str, recurrence_id: datetime, *,
                     text: str, confidential: bool, actor: str, expected_version: int,
                     file_name: str | None = None, file_label: str | None = None,
                     keep_file: bool = True, at: datetime | None = None) -> MinutesRecord:
        """Write (or rewrite) an occurrence's minutes. ``expected_version``: the version the
        recorder saw (0: none yet); another recorder's save in between is ConcurrentChange.
        A new file replaces the old one; ``keep_file=False`` without a file removes it."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            row = session.scalars(select(MinutesRow).where(
                MinutesRow.series_uid == series_uid,
                MinutesRow.recurrence_id == recurrence_id).with_for_update()).first()
            current = row.version if row is not None else 0
            if current != expected_version:
                raise ConcurrentChange("另一位记录人刚刚修改了纪要，请刷新页面核对后再提交。")
            before = to_record(row, MinutesRecord) if row is not None else None
            if row is None:
                row = MinutesRow(organization=organization, series_uid=series_uid,
                                 recurrence_id=recurrence_id, file_name=None, file_label=None,
                                 version=0)
                session.add(row)
            row.text = text
            row.confidential = confidential
            if file_name is not None:
                row.file_name, row.file_label = file_name, file_label
            elif not keep_file:
                row.file_name = row.file_label = None
            row.version = current + 1
            row.updated_at, row.updated_by = now, actor
            session.flush()
            record = to_record(row, MinutesRecord)
            self._add_audit(session, at=now, actor=actor, action="minutes.save",
                            target=_target(series_uid, recurrence_id),
                            before=_audit(before), after=_audit(record))
            return record

    # -- decisions -------------------------------------------------------------------------

    def add_action_item(self, organization: str, series_uid: str, recurrence_id: datetime,
                        item: DecisionInput, *, meeting: str, confidential: bool, actor: str,
                        at: datetime | None = None) -> ActionItem:
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            row = ActionItemRow(
                organization=organization, series_uid=series_uid, recurrence_id=recurrence_id,
                meeting=meeting, confidential=confidential, title=item.title,
                section=item.section, due=item.due, status=OPEN, version=1, created_at=now,
                created_by=actor, updated_at=now, completed_at=None)
            session.add(row)
            session.flush()
            record = to_record(row, ActionItem)
            self._add_audit(session, at=now, actor=actor, action="decision-item.add",
                            target=_target(series_uid, recurrence_id), after=record)
            return record

    def action_item(self, item_id: int) -> ActionItem | None:
        with self._reading() as session:
            row = session.get(ActionItemRow, item_id)
            return to_record(row, ActionItem) if row is not None else None

    def action_items(self, organization: str | None = None, *, series_uid: str | None = None,
                     recurrence_id: datetime | None = None,
                     open_only: bool = False) -> list[ActionItem]:
        """Decisions by due date (then id); narrowed to one organization or occurrence."""
        query = select(ActionItemRow)
        if organization is not None:
            query = query.where(ActionItemRow.organization == organization)
        if series_uid is not None:
            query = query.where(ActionItemRow.series_uid == series_uid)
        if recurrence_id is not None:
            query = query.where(ActionItemRow.recurrence_id ==
                                instant(recurrence_id, "recurrence id"))
        if open_only:
            query = query.where(ActionItemRow.status != DONE)
        with self._reading() as session:
            rows = session.scalars(query.order_by(ActionItemRow.due, ActionItemRow.id))
            return [to_record(r, ActionItem) for r in rows]

    def action_organizations(self) -> list[str]:
        """Organizations with at least one decision (the tasks publish skips the others)."""
        with self._reading() as session:
            return sorted(set(session.scalars(select(ActionItemRow.organization).distinct())))

    def report_progress(self, item_id: int, *, status: str, note: str, actor: str,
                        expected_version: int, at: datetime | None = None) -> ActionItem:
        """A progress note (kept forever) and the decision's new status; done stamps
        ``completed_at`` (cleared if it is reopened)."""
        now = utc(at)
        with self._writing() as session:
            row = session.get(ActionItemRow, item_id, with_for_update=True)
            if row is None:
                raise ConcurrentChange("该议定事项已不存在，请刷新页面。")
            if row.version != expected_version:
                raise ConcurrentChange("其他人刚刚更新了该议定事项，请刷新页面核对后再提交。")
            before = to_record(row, ActionItem)
            if status == DONE and row.status != DONE:
                row.completed_at = now
            elif status != DONE:
                row.completed_at = None
            row.status = status
            row.version += 1
            row.updated_at = now
            session.add(ActionNoteRow(item_id=item_id, at=now, by=actor, status=status,
                                      note=note))
            session.flush()
            record = to_record(row, ActionItem)
            self._add_audit(session, at=now, actor=actor, action="decision-item.progress",
                            target=_target(row.series_uid, row.recurrence_id),
                            before={"status": before.status}, after={"status": status,
                                                                     "note": note})
            return record

    def action_notes(self, item_ids: list[int]) -> dict[int, list[ActionNote]]:
        """Progress notes per decision, oldest first."""
        out: dict[int, list[ActionNote]] = {i: [] for i in item_ids}
        if not item_ids:
            return out
        with self._reading() as session:
            rows = session.scalars(select(ActionNoteRow).where(
                ActionNoteRow.item_id.in_(item_ids)).order_by(ActionNoteRow.at,
                                                              ActionNoteRow.id))
            for r in rows:
                out[r.item_id].append(to_record(r, ActionNote))
        return out


def _audit(record: MinutesRecord | None) -> dict[str, object] | None:
    if record is None:
        return None
    return {"version": record.version, "chars": len(record.text),
            "file": record.file_label}
