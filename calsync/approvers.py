"""Who approves anything (pure): the people for whom the page offers 待我审批.

Leave goes to a meeting's chair and, for unit heads, the director (篇二 四.3); meeting
requests go to the section's supervising leader or the director (篇二 二.3). Chairs are section
chiefs, supervisors, duty leaders and the leaders; a plain 科员 approves nothing unless an item
is actually addressed to them (the caller checks that)."""

from __future__ import annotations

from calsync.policy.model import Organization


def approves_by_position(org: Organization, person_id: str, role: str) -> bool:
    """Does the person's position make them an approver (without looking at pending items)?"""
    if role == "leader" or person_id == org.director:
        return True
    person = org.people.get(person_id)
    if person is not None and person.unit_head:
        return True
    if any(person_id in (s.chief, s.supervisor) for s in org.sections.values()):
        return True
    roster = org.roster
    return roster is not None and (person_id in roster.rotation
                                   or person_id in roster.months.values())
