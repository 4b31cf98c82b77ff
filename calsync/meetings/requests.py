"""Meeting requests (篇二 二.3): a section asks the office for a meeting 1–3 days ahead.

Pure: validating a request, who approves it (the supervising leader; the director when it is
important), and the single-event series an approved request becomes in the organization's
calendar (UID ``request-<id>@<org's domain>``, calsync.occurrence.uid_for: stable, and owned
like every generated series).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from calsync.meetings.describe import meeting_description
from calsync.meetings.people import attendees_and_audience, organizer
from calsync.meetings.request_rights import approver, may_request
from calsync.occurrence import TZ, Attendee, Occurrence, Series, uid_for
from calsync.policy.model import MeetingType, Organization, Person

MAX_TITLE = 120


@dataclass(frozen=True)
class RequestForm:
    section_id: str
    category: str          # an on-demand meeting type id
    title: str
    audience: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    room: str | None = None
    important: bool = False


class StoredRequest(Protocol):  # the store's MeetingRequest record
    id: int
    organization: str
    section_id: str
    category: str
    title: str
    audience: Sequence[str]
    start: str
    end: str
    room: str | None
    important: bool


def categories(org: Organization) -> list[tuple[str, str]]:
    """(meeting type id, name) of the types a section may ask for."""
    return [(mt.id, mt.name) for mt in org.meeting_types.values() if mt.on_demand]


def validate(org: Organization, form: RequestForm, now: dt.datetime,
             requester: Person | None = None) -> dict[str, str]:
    """Field name → message (Chinese) for every problem; empty when the request may be filed.

    With ``requester``, also who may ask: only for their own section, and only categories
    whose ``requested_by`` names them.
    """
    errors: dict[str, str] = {}
    rules = org.requests
    w = org.words
    if form.section_id not in org.sections:
        errors["section_id"] = f"请选择提出申请的{w.section}。"
    if form.category not in dict(categories(org)):
        errors["category"] = "请选择会议类别。"
    elif requester is not None and form.section_id in org.sections:
        mt = org.meeting_types[form.category]
        if not may_request(org, requester, mt, org.sections[form.section_id].id):
            if may_request(org, requester, _any_rule(mt), form.section_id):
                errors["category"] = (f"「{mt.name}」只能由{_who(org, mt)}提出申请"
                                      f"（{org.regulation} {mt.clause.split(' ', 1)[-1]}）。")
            else:
                errors["section_id"] = f"只能为本{w.section}提出会议申请。"
    title = form.title.strip()
    if not title:
        errors["title"] = "请填写会议名称。"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"会议名称不超过{MAX_TITLE}个字。"
    unknown = [p for p in form.audience if p not in org.people]
    if not form.audience:
        errors["audience"] = "请选择参会人员。"
    elif unknown:
        errors["audience"] = "参会人员不在通讯录中。"
    if form.end <= form.start:
        errors["end"] = "结束时间须晚于开始时间。"
    # Earlier than max_lead_days is not refused: it only helps the office plan rooms.
    lead = (form.start.astimezone(TZ).date() - now.astimezone(TZ).date()).days
    if lead < rules.min_lead_days:
        errors["start"] = (f"会议须至少提前{rules.min_lead_days}天报告{w.office}"
                           f"（{w.request_clause}），请改期或联系{w.office}。")
    if form.room is not None and form.room not in org.rooms:
        errors["room"] = "请选择会场。"
    return errors


def approver_for(org: Organization, section_id: str, important: bool,
                 category: str | None = None) -> str | None:
    """The category's approver; by default the supervising leader (分管局领导), the director
    (局长) for an important meeting."""
    return approver(org, org.meeting_types.get(category or ""), section_id, important)


def _any_rule(mt: MeetingType) -> MeetingType:
    return replace(mt, requested_by=())


def _who(org: Organization, mt: MeetingType) -> str:
    names = []
    for word in mt.requested_by:
        if word == "organizer":
            names.append(org.sections[org.organizer].name)
        elif word == "any_section":
            names.append(f"各{org.words.section}")
        else:
            kind, _, arg = word.partition(":")
            names.append(org.people[arg].name if kind == "person" and arg in org.people
                         else arg)
    return "或".join(names)


def series_uid(org: Organization, request_id: int) -> str:
    return uid_for(org, f"request-{request_id}")


def request_summary(title: str, category: str) -> str:
    """The event title: the requested name, with the category added only when the name does
    not already say it (not "党组会议（研究年度干部考核）（党组会议）")."""
    title = title.strip()
    return title if category in title else f"{title}（{category}）"


def request_series(org: Organization, req: StoredRequest) -> Series:
    """The approved request as a single-event series (decisions apply to it like any other)."""
    mt = org.meeting_types[req.category]
    section = org.sections.get(req.section_id)
    start = dt.datetime.fromisoformat(req.start).astimezone(TZ)
    end = dt.datetime.fromisoformat(req.end).astimezone(TZ)
    # The category's own chair and standard attendees (e.g. 局党委会: the 党委委员), then
    # the audience the section asked for.
    standard, audience = attendees_and_audience(org, mt.chairs, mt.attendees, section,
                                                start.date())
    people = list(standard)
    seen = {a.person_id for a in people}
    asked = getattr(req, "requested_by", None)  # the requester attends what they asked for
    for pid, note in [*((pid, "") for pid in req.audience), (asked, "申请人")]:
        p = org.people.get(pid or "")
        if p is not None and p.id not in seen:
            seen.add(p.id)
            people.append(Attendee(p.name, p.email, "REQ-PARTICIPANT", person_id=p.id,
                                   note=note))
    room = org.rooms.get(req.room or "") or org.rooms.get(mt.location or "")
    sid = f"request-{req.id}"
    who = section.name if section else ""
    lines = [f"会议申请第{req.id}号：{who}提出" + ("（重要会议）" if req.important else "")]
    alarm = mt.alarm_minutes if mt.alarm_minutes is not None else org.alarm_minutes
    occ = Occurrence(
        series=sid, uid=series_uid(org, req.id), organization=org.id, kind="meeting",
        meeting_types=(mt.id,), summary=request_summary(req.title, mt.name), start=start, end=end,
        nominal_start=start,
        description=meeting_description(org, [mt], tuple(people)),
        location=room.name if room else "",
        klass="CONFIDENTIAL" if mt.confidential else "PUBLIC",
        organizer=organizer(org), attendees=tuple(people), clause=org.words.request_clause,
        alarm_minutes=alarm or None, notes=tuple(lines),
        audience=audience)
    return Series(sid, occ.uid, org.id, None, (start,), (occ,))
