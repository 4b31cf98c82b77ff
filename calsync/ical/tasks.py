"""Decisions (议定事项) as VTODOs in the organization's tasks collections (pure).

One VTODO per decision (RFC 5545 3.6.2): ``UID`` stable (``decision-<id>@`` the meeting's domain),
``SUMMARY``, ``DUE`` (a date), ``STATUS`` NEEDS-ACTION / IN-PROCESS / COMPLETED, ``COMPLETED``
and ``PERCENT-COMPLETE:100`` once done, ``RELATED-TO`` the meeting's UID with the occurrence in
``X-CALSYNC-RECURRENCE-ID`` and in the DESCRIPTION, ``DTSTAMP`` the decision's last change (so
equal input gives equal bytes and a second publish plans nothing).

Where they go follows calsync.sync.layouts: a decision of a public meeting goes into
``<org>-tasks`` (read by the organization's staff, like its calendar); a decision of a
confidential meeting goes into ``<org>-tasks-c-<digest>``, read by exactly the meeting's
readers (calsync.access.decision_readers: the people it names and the organizer section).
Nothing of a confidential meeting's decisions ever reaches ``<org>-tasks``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Protocol

from icalendar import Calendar, Todo

from calsync.access import decision_confidential
from calsync.ical.render import PRODID
from calsync.ical.resources import Resource
from calsync.meetings.minutes import DONE, STATUS_LABELS, VTODO_STATUS
from calsync.occurrence import TZ, TZID, Occurrence, uid_beside

TASKS_SUFFIX = "-tasks"
CONFIDENTIAL_TASKS = "-tasks-c-"
RECURRENCE_PROP = "X-CALSYNC-RECURRENCE-ID"
COMPONENTS = ("VTODO",)


class DecisionItem(Protocol):
    """A decision as the tasks read it (``calsync.store.minutes.ActionItem`` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def organization(self) -> str: ...
    @property
    def series_uid(self) -> str: ...
    @property
    def recurrence_id(self) -> dt.datetime: ...  # the meeting's nominal start
    @property
    def meeting(self) -> str: ...  # its summary when the decision was recorded
    @property
    def confidential(self) -> bool: ...  # the meeting's class when it was recorded
    @property
    def title(self) -> str: ...
    @property
    def section(self) -> str: ...  # the section that carries it out
    @property
    def due(self) -> dt.date: ...
    @property
    def status(self) -> str: ...
    @property
    def updated_at(self) -> dt.datetime: ...
    @property
    def completed_at(self) -> dt.datetime | None: ...


def task_uid(item: DecisionItem) -> str:
    """``decision-<id>@`` its meeting's domain (the organization's uid_domain or default)."""
    return uid_beside(item.series_uid, f"decision-{item.id}", item.organization)


def render_task(item: DecisionItem, section_name: str, occ: Occurrence | None) -> Resource:
    """One decision as a VCALENDAR with one VTODO (deterministic bytes)."""
    it = item
    nominal = it.recurrence_id.astimezone(TZ)
    when = f"{nominal:%Y-%m-%d %H:%M}"
    meeting = occ.summary if occ is not None else it.meeting
    todo = Todo()
    todo.add("UID", task_uid(it))
    todo.add("DTSTAMP", it.updated_at.astimezone(dt.UTC))
    todo.add("SEQUENCE", 0)
    todo.add("SUMMARY", it.title)
    todo.add("DUE", it.due)
    status = it.status
    todo.add("STATUS", VTODO_STATUS[status])
    if status == DONE and it.completed_at is not None:
        todo.add("COMPLETED", it.completed_at.astimezone(dt.UTC))
        todo.add("PERCENT-COMPLETE", 100)
    todo.add("DESCRIPTION", "\n".join([
        f"会议：{meeting}（{when}）",
        f"承办科室：{section_name}",
        f"完成时限：{it.due:%Y-%m-%d}",
        f"办理状态：{STATUS_LABELS[status]}",
    ]))
    todo.add("CATEGORIES", ["会议议定事项"])
    todo.add("CLASS", "CONFIDENTIAL" if _confidential(it, occ) else "PUBLIC")
    # the calendar object the meeting is in: its series', or its duty leader's part
    todo.add("RELATED-TO", occ.published_uid if occ is not None else it.series_uid)
    todo.add("X-CALSYNC-ORG", it.organization)
    # which occurrence of the series: its RECURRENCE-ID, as a local time in the series' zone
    todo.add(RECURRENCE_PROP, f"{nominal:%Y%m%dT%H%M%S}", parameters={"TZID": TZID})
    todo.add("X-CALSYNC-SECTION", it.section)
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add_component(todo)
    return Resource(it.organization, f"decision-{it.id}", task_uid(it), cal.to_ical())


def _confidential(item: DecisionItem, occ: Occurrence | None) -> bool:
    return decision_confidential(occ, bool(item.confidential))


def occurrence_key(occ: Occurrence) -> tuple[str, dt.datetime]:
    """What a decision names its meeting by: (series UID, nominal start)."""
    return occ.uid, occ.nominal_start


def tasks_slug(org_id: str) -> str:
    return f"{org_id}{TASKS_SUFFIX}"


def confidential_tasks_slug(org_id: str, who: frozenset[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(who)).encode()).hexdigest()[:10]
    return f"{org_id}{CONFIDENTIAL_TASKS}{digest}"
