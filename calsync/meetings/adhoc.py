"""Ad-hoc meetings and 列席 additions (pure).

篇一 二.2 "遇有重大事项可随时召开" and 五.2 "可临时增加": the organizer section adds an extra
occurrence of any policy meeting type; it carries the type's standard chair, attendees,
description, alarm and class, like an approved meeting request (calsync.meetings.requests),
as a single-event series with UID ``adhoc-<id>@<org>``.

篇一 二.1 "根据议题应参会的同志列席会议，列席人员由会议主持人确定": a person added to one
occurrence as ROLE=NON-PARTICIPANT with the note 列席. Both are stored generation inputs
(calsync.store.adhoc) applied at every generation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from calsync.meetings.describe import meeting_description
from calsync.meetings.people import attendees_and_audience, organizer
from calsync.occurrence import TZ, Attendee, Occurrence, Series, uid_for
from calsync.policy.model import Organization

MAX_TITLE = 120
MAX_NOTE = 500
SITTING_IN_NOTE = "列席"


@dataclass(frozen=True)
class AdhocForm:
    meeting_type: str
    start: dt.datetime
    end: dt.datetime
    title: str = ""
    section_id: str | None = None
    room: str | None = None
    extra: tuple[str, ...] = ()


class StoredAdhoc(Protocol):  # the store's AdhocMeeting record (read only), or the form's
    @property
    def id(self) -> int | str: ...  # "new": the form's preview, not stored yet
    @property
    def organization(self) -> str: ...
    @property
    def meeting_type(self) -> str: ...
    @property
    def section_id(self) -> str | None: ...
    @property
    def title(self) -> str: ...
    @property
    def start(self) -> str: ...
    @property
    def end(self) -> str: ...
    @property
    def room(self) -> str | None: ...
    @property
    def extra(self) -> Sequence[str]: ...
    @property
    def note(self) -> str: ...
    @property
    def status(self) -> str: ...


class StoredSittingIn(Protocol):  # the store's SittingIn record
    organization: str
    series_uid: str
    recurrence_id: dt.datetime        # the occurrence's nominal start
    person_id: str


def meeting_types(org: Organization) -> list[tuple[str, str]]:
    """(id, name) of every meeting type of the policy: any may be held once more."""
    return [(mt.id, mt.name) for mt in org.meeting_types.values()]


def validate(org: Organization, form: AdhocForm) -> dict[str, str]:
    """Field name → message (Chinese); empty when the meeting may be saved."""
    errors: dict[str, str] = {}
    mt = org.meeting_types.get(form.meeting_type)
    if mt is None:
        errors["meeting_type"] = "请选择会议类型。"
    elif mt.per_section and form.section_id not in org.sections:
        word = org.words.section
        errors["section_id"] = f"「{mt.name}」按{word}召开，请选择{word}。"
    if form.section_id and form.section_id not in org.sections:
        errors["section_id"] = f"请选择{org.words.section}。"
    if len(form.title.strip()) > MAX_TITLE:
        errors["title"] = f"会议名称不超过{MAX_TITLE}个字。"
    if any(p not in org.people for p in form.extra):
        errors["extra"] = "参会人员不在通讯录中。"
    if form.end <= form.start:
        errors["end"] = "结束时间须晚于开始时间。"
    elif form.end - form.start > dt.timedelta(hours=12):
        errors["end"] = "会议时长不超过12小时。"
    if form.room and form.room not in org.rooms:
        errors["room"] = "请选择会场。"
    return errors


def series_uid(org: Organization, adhoc_id: int | str) -> str:
    return uid_for(org, f"adhoc-{adhoc_id}")


def adhoc_series(org: Organization, row: StoredAdhoc) -> Series:
    """The ad-hoc meeting as a single-event series (decisions apply to it like any other);
    a withdrawn one stays as CANCELLED so calendars and notices drop it."""
    mt = org.meeting_types[row.meeting_type]
    section = org.sections.get(row.section_id or "")
    start = dt.datetime.fromisoformat(row.start).astimezone(TZ)
    end = dt.datetime.fromisoformat(row.end).astimezone(TZ)
    standard, audience = attendees_and_audience(org, mt.chairs, mt.attendees, section,
                                                start.date())
    people = list(standard)
    seen = {a.person_id for a in people}
    for pid in row.extra:
        p = org.people.get(pid)
        if p is not None and p.id not in seen:
            seen.add(p.id)
            people.append(Attendee(p.name, p.email, "REQ-PARTICIPANT", person_id=p.id))
    room = (org.rooms.get(row.room or "") or org.rooms.get(mt.location or "")
            or (org.rooms.get(section.room or "") if section else None))
    name = f"{mt.name}（{section.name}）" if section and mt.per_section else mt.name
    summary = f"{row.title.strip()}（{name}）" if row.title.strip() else f"{name}（临时召开）"
    notes = [f"临时增加的会议（第{row.id}号），由{organizer(org)[0]}安排。"]
    if row.note.strip():
        notes.append(f"时间冲突说明：{row.note.strip()}")
    alarm = mt.alarm_minutes if mt.alarm_minutes is not None else org.alarm_minutes
    sid = f"adhoc-{row.id}"
    occ = Occurrence(
        series=sid, uid=series_uid(org, row.id), organization=org.id, kind="meeting",
        status="CANCELLED" if row.status != "active" else "CONFIRMED",
        meeting_types=(mt.id,), summary=summary, start=start, end=end, nominal_start=start,
        description=meeting_description(org, [mt], tuple(people)),
        location=room.name if room else "",
        klass="CONFIDENTIAL" if mt.confidential else "PUBLIC",
        organizer=organizer(org), attendees=tuple(people), clause=mt.clause,
        alarm_minutes=alarm or None, notes=tuple(notes),
        audience=audience)
    return Series(sid, occ.uid, org.id, None, (start,), (occ,))


def add_sitting_in(series: Iterable[Series], rows: Iterable[StoredSittingIn],
                   org: Organization) -> list[Series]:
    """Each stored 列席 person as a NON-PARTICIPANT attendee of their occurrence. Someone the
    occurrence already names keeps their own role; a row whose occurrence no longer exists
    changes nothing (it is kept and applies again if the occurrence comes back)."""
    wanted: dict[tuple[str, dt.datetime], list[str]] = {}
    for r in rows:
        if r.organization == org.id:
            key = (r.series_uid, r.recurrence_id)
            wanted.setdefault(key, []).append(r.person_id)
    if not wanted:
        return list(series)
    out = []
    for s in series:
        occs = []
        for occ in s.occurrences:
            extra = wanted.get((occ.uid, occ.nominal_start))
            occs.append(with_sitting_in(occ, extra, org) if extra else occ)
        out.append(replace(s, occurrences=tuple(occs)))
    return out


def with_sitting_in(occ: Occurrence, person_ids: Iterable[str],
                    org: Organization) -> Occurrence:
    people = list(occ.attendees)
    named = {a.person_id for a in people if a.person_id}
    for pid in person_ids:
        p = org.people.get(pid)
        if p is None or p.id in named:
            continue
        named.add(p.id)
        people.append(Attendee(p.name, p.email, "NON-PARTICIPANT", person_id=p.id,
                               note=SITTING_IN_NOTE))
    return replace(occ, attendees=tuple(people))


def candidate(org: Organization, form: AdhocForm, note: str = "") -> Occurrence:
    """The occurrence the form would create (for the clash check before saving)."""
    @dataclass(frozen=True)
    class _Row:
        id: str
        organization: str
        meeting_type: str
        section_id: str | None
        title: str
        start: str
        end: str
        room: str | None
        extra: Sequence[str]
        note: str
        status: str

    row = _Row("new", org.id, form.meeting_type, form.section_id, form.title,
               form.start.isoformat(), form.end.isoformat(), form.room, form.extra, note,
               "active")
    return adhoc_series(org, row).occurrences[0]
