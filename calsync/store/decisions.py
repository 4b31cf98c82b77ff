"""Decisions on single occurrences: append-only, superseded, guarded by optimistic locking."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calsync.errors import ConcurrentChange, StoreError
from calsync.store.base import Repository, instant, rowcount, to_record, utc
from calsync.store.models import DecisionRow
from calsync.store.models.base import instant_key
from calsync.store.records import DECISION_ACTIONS, DECISION_SOURCES, TIMED_ACTIONS, Decision


def normalize_instant(value: str, what: str) -> str:
    """Canonical ISO 8601 text, keeping the caller's UTC offset (ad-hoc meetings' and meeting
    requests' start and end, still given as text).

    "2026-03-02T09:30+08:00" and "2026-03-02T09:30:00+08:00" become one key; the same instant
    at another offset stays a different key.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise StoreError(
            f"{what} {value!r} is not an ISO 8601 date-time "
            f"(write it like 2026-03-02T09:30:00+08:00)"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise StoreError(
            f"{what} {value!r} has no UTC offset (write it like 2026-03-02T09:30:00+08:00)"
        )
    return parsed.isoformat()


def _stale(
    series_uid: str, recurrence_id: datetime, current: DecisionRow | None, expected: int
) -> ConcurrentChange:
    if current is None:
        now = "it has no active decision any more"
    else:
        now = (
            f"{current.created_by} saved version {current.version} "
            f"at {current.created_at:%Y-%m-%d %H:%M} UTC"
        )
    return ConcurrentChange(
        f"the decision on {series_uid} at {instant_key(recurrence_id)} changed while you "
        f"edited it "
        f"(you had version {expected}; {now}): reload the page and try again"
    )


def _target(series_uid: str, recurrence_id: datetime) -> str:
    return f"decision:{series_uid}@{instant_key(recurrence_id)}"


def _checked(
    series_uid: str,
    recurrence_id: datetime,
    action: str,
    source: str,
    new_start: datetime | None,
    new_end: datetime | None,
    payload: object,
) -> tuple[datetime, datetime | None, datetime | None]:
    """Validate one decision; returns the recurrence id, new start and new end in calsync's
    zone."""
    if action not in DECISION_ACTIONS:
        raise StoreError(
            f"unknown decision action {action!r} (use one of {sorted(DECISION_ACTIONS)})"
        )
    if source not in DECISION_SOURCES:
        raise StoreError(
            f"unknown decision source {source!r} (use one of {sorted(DECISION_SOURCES)})"
        )
    recurrence_id = instant(recurrence_id, "recurrence id")
    if action in TIMED_ACTIONS:
        if new_start is None:
            raise StoreError(f"a {action} of {series_uid} at {instant_key(recurrence_id)} "
                             f"needs a new start")
        new_start = instant(new_start, "new start")
        new_end = instant(new_end, "new end") if new_end is not None else None
        if new_end is not None and new_end <= new_start:
            raise StoreError(f"the new end {instant_key(new_end)} is not after the new start "
                             f"{instant_key(new_start)}")
    elif new_start is not None or new_end is not None:
        raise StoreError(f"a {action!r} decision takes no new start or end")
    if payload is not None:
        if not isinstance(payload, dict):
            raise StoreError(f"a decision payload must be a JSON object, not {payload!r}")
        try:
            json.dumps(payload)
        except (TypeError, ValueError):
            raise StoreError(f"a decision payload must be plain JSON: {payload!r}") from None
    return recurrence_id, new_start, new_end


class DecisionsRepository(Repository):
    def add_decision(
        self,
        organization: str,
        series_uid: str,
        recurrence_id: datetime,
        action: str,
        *,
        actor: str,
        source: str,
        new_start: datetime | None = None,
        new_end: datetime | None = None,
        note: str = "",
        expected_version: int | None = None,
        payload: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Decision:
        """Record a decision, superseding the active one for the same occurrence.

        ``expected_version`` is the version of the active decision the caller saw (0 if none);
        when given and no longer current, :class:`ConcurrentChange` is raised and nothing
        changes. ``payload`` is a JSON object stored with the decision.
        """
        recurrence_id, new_start, new_end = _checked(
            series_uid, recurrence_id, action, source, new_start, new_end, payload
        )
        now = utc(at)
        with self._writing() as session:
            decision = self._record_decision(
                session,
                organization,
                series_uid,
                recurrence_id,
                action,
                actor=actor,
                source=source,
                new_start=new_start,
                new_end=new_end,
                note=note,
                payload=payload,
                expected_version=expected_version,
                now=now,
            )
        return decision

    def add_merge(
        self,
        organization: str,
        *,
        keep: tuple[str, datetime],
        other: tuple[str, datetime],
        new_start: datetime,
        new_end: datetime | None,
        actor: str,
        source: str = "web",
        expected_versions: tuple[int, int] | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> tuple[Decision, Decision]:
        """Merge two occurrences, given as ``(series_uid, recurrence_id)``, in one transaction.

        ``keep`` gets a "merge" decision (at ``new_start``-``new_end``) with payload
        ``{"other": [uid, rid]}``; ``other`` a "cancel" with ``{"merged_into": [uid, rid]}``.
        ``expected_versions`` are the versions the caller saw for keep and other (0 if none).
        If either write fails, neither is recorded.
        """
        keep_rid = instant(keep[1], "recurrence id")
        other_rid = instant(other[1], "recurrence id")
        if (keep[0], keep_rid) == (other[0], other_rid):
            raise StoreError(f"cannot merge {keep[0]} at {instant_key(keep_rid)} with itself")
        keep_payload = {"other": [other[0], instant_key(other_rid)]}
        other_payload = {"merged_into": [keep[0], instant_key(keep_rid)]}
        _, new_start_n, new_end_n = _checked(
            keep[0], keep_rid, "merge", source, new_start, new_end, keep_payload
        )
        versions = expected_versions or (None, None)
        now = utc(at)
        with self._writing() as session:
            # Lock both in a fixed order, so two merges of one pair cannot deadlock.
            for uid, rid in sorted([(keep[0], keep_rid), (other[0], other_rid)]):
                self._lock_active(session, uid, rid)
            kept = self._record_decision(
                session, organization, keep[0], keep_rid, "merge", actor=actor, source=source,
                new_start=new_start_n, new_end=new_end_n, note=note, payload=keep_payload,
                expected_version=versions[0], now=now,
            )
            cancelled = self._record_decision(
                session, organization, other[0], other_rid, "cancel", actor=actor,
                source=source, new_start=None, new_end=None, note=note, payload=other_payload,
                expected_version=versions[1], now=now,
            )
        return kept, cancelled

    def _record_decision(
        self,
        session: Session,
        organization: str,
        series_uid: str,
        recurrence_id: datetime,
        action: str,
        *,
        actor: str,
        source: str,
        new_start: datetime | None,
        new_end: datetime | None,
        note: str,
        payload: dict[str, Any] | None,
        expected_version: int | None,
        now: datetime,
    ) -> Decision:
        """Supersede and insert within the caller's transaction (arguments already checked)."""
        current = self._lock_active(session, series_uid, recurrence_id)
        current_version = current.version if current else 0
        if expected_version is not None and expected_version != current_version:
            raise _stale(series_uid, recurrence_id, current, expected_version)
        before = to_record(current, Decision) if current else None
        if current is not None:
            self._supersede(session, current, now, expected_version)
        row = DecisionRow(
            organization=organization,
            series_uid=series_uid,
            recurrence_id=recurrence_id,
            action=action,
            new_start=new_start,
            new_end=new_end,
            note=note,
            source=source,
            created_at=now,
            created_by=actor,
            version=current_version + 1,
            superseded_at=None,
            payload=payload,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Someone else inserted the first decision for this occurrence meanwhile.
            raise _stale(series_uid, recurrence_id, None, current_version) from None
        after = to_record(row, Decision)
        self._add_audit(
            session,
            at=now,
            actor=actor,
            action=f"decision.{action}",
            target=_target(series_uid, recurrence_id),
            before=before,
            after=after,
        )
        return after

    def withdraw_decision(
        self,
        series_uid: str,
        recurrence_id: datetime,
        *,
        actor: str,
        expected_version: int | None = None,
        at: datetime | None = None,
    ) -> Decision:
        """Supersede the active decision without a replacement: the occurrence goes back to
        what the policy says. Returns the withdrawn decision."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        now = utc(at)
        with self._writing() as session:
            current = self._lock_active(session, series_uid, recurrence_id)
            if current is None:
                raise StoreError(
                    f"there is no active decision on {series_uid} at "
                    f"{instant_key(recurrence_id)} to withdraw (reload to see the current state)"
                )
            if expected_version is not None and expected_version != current.version:
                raise _stale(series_uid, recurrence_id, current, expected_version)
            before = to_record(current, Decision)
            self._supersede(session, current, now, expected_version)
            session.refresh(current)
            withdrawn = to_record(current, Decision)
            self._add_audit(
                session,
                at=now,
                actor=actor,
                action="decision.withdraw",
                target=_target(series_uid, recurrence_id),
                before=before,
                after=None,
            )
        return withdrawn

    def active_decision(self, series_uid: str, recurrence_id: datetime) -> Decision | None:
        recurrence_id = instant(recurrence_id, "recurrence id")
        with self._reading() as session:
            row = session.scalar(_active_query(series_uid, recurrence_id))
            return to_record(row, Decision) if row else None

    def active_decisions(self, organization: str) -> list[Decision]:
        """All active decisions of one organization, by series and occurrence."""
        query = (
            select(DecisionRow)
            .where(DecisionRow.organization == organization, DecisionRow.superseded_at.is_(None))
            .order_by(DecisionRow.series_uid, DecisionRow.recurrence_id)
        )
        with self._reading() as session:
            return [to_record(row, Decision) for row in session.scalars(query)]

    def decision_history(self, series_uid: str, recurrence_id: datetime) -> list[Decision]:
        """Every decision ever made on one occurrence, oldest first."""
        recurrence_id = instant(recurrence_id, "recurrence id")
        query = (
            select(DecisionRow)
            .where(
                DecisionRow.series_uid == series_uid,
                DecisionRow.recurrence_id == recurrence_id,
            )
            .order_by(DecisionRow.version, DecisionRow.id)
        )
        with self._reading() as session:
            return [to_record(row, Decision) for row in session.scalars(query)]

    @staticmethod
    def _lock_active(
        session: Session, series_uid: str, recurrence_id: datetime
    ) -> DecisionRow | None:
        return session.scalar(_active_query(series_uid, recurrence_id).with_for_update())

    @staticmethod
    def _supersede(
        session: Session, current: DecisionRow, now: datetime, expected: int | None
    ) -> None:
        # Conditional on still being active: a concurrent writer that got there first makes
        # this match nothing, and we report a stale edit instead of forking the history.
        result = session.execute(
            update(DecisionRow)
            .where(DecisionRow.id == current.id, DecisionRow.superseded_at.is_(None))
            .values(superseded_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) != 1:
            raise _stale(
                current.series_uid,
                current.recurrence_id,
                None,
                current.version if expected is None else expected,
            )


def _active_query(series_uid: str, recurrence_id: datetime) -> Select[DecisionRow]:
    return select(DecisionRow).where(
        DecisionRow.series_uid == series_uid,
        DecisionRow.recurrence_id == recurrence_id,
        DecisionRow.superseded_at.is_(None),
    )
