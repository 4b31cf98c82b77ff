"""Who may ask for a meeting of a category, for which section, and who approves it (pure).

篇二 二.3: a section (股室站办) asks for its own meetings, with its supervising leader's consent
(the 局长's for important ones). 三.1: 局党委会, 局长办公会, 局务会, 民主生活会 and
全局干部职工会 are convened by the 局主要领导 and notified by the 办公室, so only the office or
those leaders ask for them, and the 局长/书记 approves. Each category says so in the policy
(``requested_by``, ``approved_by``). Who may ask is calsync.access's rule (may_request,
own_sections, re-exported here); who approves is the policy's (:func:`approver`).
"""

from __future__ import annotations

from calsync.access import may_request, own_sections
from calsync.meetings.people import resolve
from calsync.policy.model import MeetingType, Organization, Person, Selector

__all__ = ["approver", "may_request", "own_sections", "requestable"]


def requestable(org: Organization, person: Person | None) -> list[MeetingType]:
    """The on-demand categories ``person`` may ask for (for any of their sections)."""
    return [mt for mt in org.meeting_types.values() if mt.on_demand
            and any(may_request(org, person, mt, s) for s in own_sections(org, person))]


def approver(org: Organization, mt: MeetingType | None, section_id: str,
             important: bool) -> str | None:
    """The person who approves: per the category's ``approved_by``."""
    how = mt.approved_by if mt is not None else "supervisor"
    if how == "director":
        return org.director
    if how == "supervisor":
        if important:
            return org.director
        section = org.sections.get(section_id)
        return (section.supervisor if section else None) or org.director
    kind, _, arg = how.partition(":")
    found = resolve(org, Selector(kind, arg))
    return found[0].id if found else org.director
