"""Decisions (议定事项) as VTODOs in the organization's tasks collections (pure).

One VTODO per decision (RFC 5545 3.6.2): ``UID`` stable (``decision-<id>@<org>.calsync``),
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

from icalendar import Calendar, Todo

from calsync.access import decision_confidential
from calsync.ical.render import PRODID
from calsync.ical.resources import Resource
from calsync.meetings.minutes import DONE, STATUS_LABELS, VTODO_STATUS
from calsync.occurrence import TZ, TZID, Occurrence

TASKS_SUFFIX = "-tasks"
CONFIDENTIAL_TASKS = "-tasks-c-"
RECURRENCE_PROP = "X-CALSYNC-RECURRENCE-ID"
COMPONENTS = ("VTODO",)


def task_uid(item: object) -> str:
    return f"decision-{item.id}@{item.organization}.calsync"  # type: ignore[attr-defined]


def render_task(item: object, section_name: str, occ: Occurrence | None) -> Resource:
    """One decision as a VCALENDAR with one VTODO (deterministic bytes)."""
    it = item  # a calsync.store.minutes.ActionItem
    nominal = dt.datetime.fromisoformat(it.recurrence_id).astimezone(TZ)  # type: ignore[attr-defined]
    when = f"{nominal:%Y-%m-%d %H:%M}"
    meeting = occ.summary if occ is not None else it.meeting  # type: ignore[attr-defined]
    todo = Todo()
    todo.add("UID", task_uid(it))
    todo.add("DTSTAMP", it.updated_at.astimezone(dt.UTC))  # type: ignore[attr-defined]
    todo.add("SEQUENCE", 0)
    todo.add("SUMMARY", it.title)  # type: ignore[attr-defined]
    todo.add("DUE", it.due)  # type: ignore[attr-defined]
    status = it.status  # type: ignore[attr-defined]
    todo.add("STATUS", VTODO_STATUS[status])
    if status == DONE and it.completed_at is not None:  # type: ignore[attr-defined]
        todo.add("COMPLETED", it.completed_at.astimezone(dt.UTC))  # type: ignore[attr-defined]
        todo.add("PERCENT-COMPLETE", 100)
    todo.add("DESCRIPTION", "\n".join([
        f"会议：{meeting}（{when}）",
        f"承办科室：{section_name}",
        f"完成时限：{it.due:%Y-%m-%d}",  # type: ignore[attr-defined]
        f"办理状态：{STATUS_LABELS[status]}",
    ]))
    todo.add("CATEGORIES", ["会议议定事项"])
    todo.add("CLASS", "CONFIDENTIAL" if _confidential(it, occ) else "PUBLIC")
    # the calendar object the meeting is in: its series', or its duty leader's part
    todo.add("RELATED-TO", occ.published_uid if occ is not None
             else it.series_uid)  # type: ignore[attr-defined]
    todo.add("X-CALSYNC-ORG", it.organization)  # type: ignore[attr-defined]
    # which occurrence of the series: its RECURRENCE-ID, as a local time in the series' zone
    todo.add(RECURRENCE_PROP, f"{nominal:%Y%m%dT%H%M%S}", parameters={"TZID": TZID})
    todo.add("X-CALSYNC-SECTION", it.section)  # type: ignore[attr-defined]
    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add_component(todo)
    return Resource(it.organization, f"decision-{it.id}", task_uid(it),  # type: ignore[attr-defined]
                    cal.to_ical())


def _confidential(item: object, occ: Occurrence | None) -> bool:
    return decision_confidential(occ, bool(item.confidential))  # type: ignore[attr-defined]


def occurrence_key(occ: Occurrence) -> tuple[str, str]:
    return occ.uid, occ.nominal_start.isoformat()


def tasks_slug(org_id: str) -> str:
    return f"{org_id}{TASKS_SUFFIX}"


def confidential_tasks_slug(org_id: str, who: frozenset[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(who)).encode()).hexdigest()[:10]
    return f"{org_id}{CONFIDENTIAL_TASKS}{digest}"
