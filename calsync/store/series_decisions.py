"""Series decisions: one decision for every occurrence of a series from a date on.

A secretary facing the same clash every week (王立新's two 科务会) decides it once: stagger
one series by an offset, or record that a person sends a substitute (or, with none, does
not attend). Keyed by series UID, so regeneration and policy edits keep it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from calsync.errors import StoreError
from calsync.store.base import Repository, to_record, utc
from calsync.store.models import SeriesDecisionRow

SERIES_ACTIONS = ("offset", "delegate")
MAX_OFFSET = 12 * 60


@dataclass(frozen=True)
class SeriesDecisionRecord:
    id: int
    organization: str
    series_uid: str
    action: str
    since: str
    offset_minutes: int
    person_id: str | None
    substitute_id: str | None
    note: str
    created_at: datetime
    created_by: str
    superseded_at: datetime | None


def _check(action: str, since: str, offset_minutes: int, person_id: str | None) -> None:
    if action not in SERIES_ACTIONS:
        raise StoreError(f"unknown series decision {action!r} (use one of {SERIES_ACTIONS})")
    try:
        dt.date.fromisoformat(since)
    except (TypeError, ValueError):
        raise StoreError(f"since {since!r} is not a date (write it like 2026-01-01)") from None
    if action == "offset" and not (0 < abs(offset_minutes) <= MAX_OFFSET):
        raise StoreError(f"an offset of {offset_minutes} minutes is not allowed "
                         f"(give 1–{MAX_OFFSET} minutes, negative for earlier)")
    if action == "delegate" and not person_id:
        raise StoreError("a delegate decision names the person who does not attend")


class SeriesDecisionsRepository(Repository):
    def add_series_decision(
        self, organization: str, series_uid: str, action: str, *, since: str, actor: str,
        offset_minutes: int = 0, person_id: str | None = None,
        substitute_id: str | None = None, note: str = "", at: datetime | None = None,
    ) -> SeriesDecisionRecord:
        """Record it, superseding the active one of the same series, action and person."""
        _check(action, since, offset_minutes, person_id)
        now = utc(at)
        with self._writing() as session:
            query = select(SeriesDecisionRow).where(
                SeriesDecisionRow.series_uid == series_uid, SeriesDecisionRow.action == action,
                SeriesDecisionRow.superseded_at.is_(None)).with_for_update()
            before = None
            for old in session.scalars(query):
                if action == "offset" or old.person_id == person_id:
                    before = to_record(old, SeriesDecisionRecord)
                    old.superseded_at = now
            row = SeriesDecisionRow(
                organization=organization, series_uid=series_uid, action=action, since=since,
                offset_minutes=offset_minutes if action == "offset" else 0,
                person_id=person_id, substitute_id=substitute_id, note=note, created_at=now,
                created_by=actor, superseded_at=None)
            session.add(row)
            session.flush()
            after = to_record(row, SeriesDecisionRecord)
            self._add_audit(session, at=now, actor=actor, action=f"series.{action}",
                            target=f"series:{series_uid}", before=before, after=after)
        return after

    def withdraw_series_decision(self, decision_id: int, *, actor: str,
                                 at: datetime | None = None) -> None:
        now = utc(at)
        with self._writing() as session:
            row = session.get(SeriesDecisionRow, decision_id, with_for_update=True)
            if row is None or row.superseded_at is not None:
                raise StoreError(f"series decision {decision_id} is not active (reload)")
            before = to_record(row, SeriesDecisionRecord)
            row.superseded_at = now
            self._add_audit(session, at=now, actor=actor, action="series.withdraw",
                            target=f"series:{row.series_uid}", before=before, after=None)

    def active_series_decisions(self, organization: str) -> list[SeriesDecisionRecord]:
        query = (select(SeriesDecisionRow)
                 .where(SeriesDecisionRow.organization == organization,
                        SeriesDecisionRow.superseded_at.is_(None))
                 .order_by(SeriesDecisionRow.series_uid, SeriesDecisionRow.id))
        with self._reading() as session:
            return [to_record(r, SeriesDecisionRecord) for r in session.scalars(query)]
