"""Merging two occurrences into one (篇二 二.3: meetings with the same audience in the same
period are merged). Pure: the web page previews it, generation applies stored merges."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from calsync.meetings.people import _STRENGTH
from calsync.occurrence import Attendee, Occurrence
from calsync.policy.model import Organization


def rank_of(org: Organization, person_id: str | None) -> int:
    """Position of the person's best role in ``role_rank`` (lower is higher-ranked)."""
    person = org.people.get(person_id or "")
    if person is None:
        return len(org.role_rank) + 1
    ranks = [org.role_rank.index(r) for r in person.roles if r in org.role_rank]
    return min(ranks, default=len(org.role_rank))


def merged_summary(a: Occurrence, b: Occurrence) -> str:
    return f"{a.summary}、{b.summary}（合并召开）"


def merged(keep: Occurrence, other: Occurrence, org: Organization,
           start: dt.datetime | None = None, end: dt.datetime | None = None) -> Occurrence:
    """One meeting: the chosen time (default: the earlier), both audiences, the higher-ranked
    chair, both agendas, a summary naming both."""
    first = min(keep, other, key=lambda o: o.start)
    begin = start or first.start
    finish = end or begin + max(keep.end - keep.start, other.end - other.start)
    chairs = [c for c in (keep.chair, other.chair) if c is not None]
    chair = min(chairs, key=lambda c: rank_of(org, c.person_id)) if chairs else None
    people: dict[str, Attendee] = {}
    for a in (*keep.attendees, *other.attendees):
        role = "REQ-PARTICIPANT" if a.role == "CHAIR" else a.role
        cur = people.get(a.email)
        if cur is None or _STRENGTH[role] < _STRENGTH[cur.role]:
            people[a.email] = replace(a, role=role)
    if chair is not None:
        people.pop(chair.email, None)
    attendees = ((chair,) if chair is not None else ()) + tuple(people.values())
    agenda = "\n\n".join(f"【{o.summary}】\n{o.full_description()}" for o in (keep, other))
    note = (f"本次会议由“{keep.summary}”与“{other.summary}”合并召开"
            f"（原定{keep.start:%m月%d日%H:%M}、{other.start:%m月%d日%H:%M}）。")
    return replace(
        keep, summary=merged_summary(keep, other), start=begin, end=finish,
        description=agenda, notes=(note,), attendees=attendees,
        meeting_types=tuple(dict.fromkeys((*keep.meeting_types, *other.meeting_types))),
        klass="CONFIDENTIAL" if "CONFIDENTIAL" in (keep.klass, other.klass) else keep.klass,
        location=keep.location or other.location)


def cancelled_note(keep: Occurrence, start: dt.datetime) -> str:
    """What the other occurrence says once cancelled: where it went. A confidential merged
    meeting is not named: the cancelled occurrence stays visible to everyone."""
    if keep.klass == "CONFIDENTIAL":
        return f"已与另一会议合并，于{start:%Y-%m-%d %H:%M}召开（详情见会议通知）"
    return f"已并入“{keep.summary}”，于{start:%Y-%m-%d %H:%M}合并召开"
