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
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from icalendar import Calendar, Todo

from calsync.access import decision_confidential, decision_readers
from calsync.meetings.minutes import DONE, STATUS_LABELS, VTODO_STATUS
from calsync.occurrence import TZ, TZID, Occurrence
from calsync.policy import PolicySet
from calsync.render import PRODID
from calsync.resources import Resource
from calsync.sync.layouts import secretaries
from calsync.sync.publish import CollectionSpec

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


def task_collections(policies: PolicySet, org_id: str, items: Iterable[object],
                     occurrences: Mapping[tuple[str, str], Occurrence],
                     keep_empty: bool = False) -> list[CollectionSpec]:
    """The tasks collections of one organization. ``occurrences``: (series UID, recurrence
    id) → occurrence, for the meeting's class and readers; a decision whose meeting is not
    generated any more keeps its recorded class, and a confidential one then goes to the
    organizer section alone. ``keep_empty``: publish ``<org>-tasks`` even without decisions
    (it held some before)."""
    org = policies.organizations[org_id]
    secs = secretaries(policies, org_id)
    names = {s.id: s.name for s in org.sections.values()}
    public: list[Resource] = []
    groups: dict[frozenset[str], list[Resource]] = {}
    for it in items:
        if it.organization != org_id:  # type: ignore[attr-defined]
            continue
        occ = occurrences.get((it.series_uid, it.recurrence_id))  # type: ignore[attr-defined]
        res = render_task(it, names.get(it.section, it.section), occ)  # type: ignore[attr-defined]
        who = decision_readers(occ, bool(it.confidential), secs)  # type: ignore[attr-defined]
        if who is None:      # a public meeting's: the organization's staff
            public.append(res)
            continue
        groups.setdefault(who, []).append(res)
    short = org.short_name or org.name
    specs = []
    if public or keep_empty:
        specs.append(CollectionSpec(tasks_slug(org_id), f"{short}会议议定事项", (org_id,),
                                    tuple(public)))
    for who, resources in sorted(groups.items(),
                                 key=lambda kv: confidential_tasks_slug(org_id, kv[0])):
        specs.append(CollectionSpec(confidential_tasks_slug(org_id, who),
                                    f"{short}保密会议议定事项", (org_id,), tuple(resources),
                                    readers=who))
    return specs


def retired_tasks(specs: list[CollectionSpec], orgs: Iterable[str],
                  known: Mapping[str, Iterable[str]], home: str) -> list[CollectionSpec]:
    """Empty specs for confidential tasks collections written before and wanted no more (a
    meeting's readers changed): emptied without tripping the safety valve."""
    wanted = {_url(home, s) for s in specs}
    out = []
    for org_id in sorted(set(orgs)):
        for url in sorted(known.get(org_id, ())):
            slug = url.rstrip("/").rsplit("/", 1)[-1]
            if url not in wanted and slug.startswith(org_id + CONFIDENTIAL_TASKS):
                out.append(CollectionSpec(slug, slug, (org_id,), (), url=url,
                                          readers=frozenset(), retire=True))
    return out


def _url(home: str, spec: CollectionSpec) -> str:
    url = spec.url or home.rstrip("/") + "/" + spec.slug.strip("/") + "/"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
