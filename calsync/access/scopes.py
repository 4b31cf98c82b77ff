"""Who may see or change what, scope by scope (pure): calsync.access re-exports every rule here.

Import them from :mod:`calsync.access`. Each rule names the clause it carries; the views,
feeds, CalDAV layouts and templates ask these functions and decide nothing on their own:

- page and feed scope: whose calendar a page or a feed shows;
- topics (篇一 二.4, 三.4), minutes and decisions (篇一 二.6/三.6, 篇二 三.1);
- leave: filing it, its reason, who decides which step (篇二 四.3, 四.6);
- meeting requests: who asks, who sees and decides one (篇二 二.3, 三.1);
- statistics (篇二 二.3, 篇一 四.4).

A rule that says "no" about an object the viewer may not know exists is a 404 at every door
(:func:`knows` is that question for an occurrence), never a 403 that tells it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from calsync.access.visibility import EXTERNAL, invited, readers, shows
from calsync.meetings.people import resolve
from calsync.policy.model import Selector

if TYPE_CHECKING:
    from calsync.access.visibility import Viewer
    from calsync.occurrence import Occurrence
    from calsync.policy import PolicySet
    from calsync.policy.model import MeetingType, Organization, Person

Scope = str | tuple[str, str]


# -- page and feed scope ---------------------------------------------------------------------

def page_organization(viewer: Viewer, requested: str | None) -> str | None:
    """The organization whose calendar, week sheet, clashes or statistics a page shows: the
    viewer's own (another organization's meetings are invisible to them, calsync.access).
    None: the viewer asked for another organization's (the page refuses)."""
    if requested and requested != viewer.organization:
        return None
    return viewer.organization


def may_read_feed(policies: PolicySet, viewer: Viewer, scope: Scope) -> bool:
    """Feed scopes (calsync.ical.feeds): one's own feed ``"me"``; the own organization ``("org",
    id)`` and any section of it ``("section", id)`` — the page shows the whole organization's
    week to everyone too, and confidential meetings are masked either way (篇二 四.5). An
    external attendee has their own feed only."""
    if scope == "me":
        return True
    if viewer.role == EXTERNAL or isinstance(scope, str):
        return False
    kind, ident = scope
    org = policies.organizations.get(viewer.organization)
    if org is None:
        return False
    if kind == "org":
        return page_organization(viewer, ident) == org.id
    return kind == "section" and ident in org.sections


# -- occurrences by id -----------------------------------------------------------------------

def knows(viewer: Viewer, occ: Occurrence) -> bool:
    """May the viewer learn that this occurrence exists under its id? Only when they see it in
    full: a 忙碌 block is shown by its time alone, so its id (a request number, a series UID)
    must answer like an unknown one (篇二 四.5 "会议内容…不得外传")."""
    return shows(viewer, occ)


# -- topics (篇一 二.4, 三.4) -----------------------------------------------------------------

def sees_topic(viewer: Viewer, occ: Occurrence, section: str, supervisor: str | None) -> bool:
    """篇一 二.4 "各科室…议题…经[分管领导]同意后…送交秘书科汇总，报主要领导审定": a topic is its
    section's business until it is on the agenda. Of a meeting the viewer sees in full, the
    organizer's secretaries and the chair see every topic, a 分管领导 their sections', staff
    their own section's."""
    if viewer.organization != occ.organization or viewer.role == EXTERNAL \
            or not shows(viewer, occ):
        return False
    chair = occ.chair.person_id if occ.chair else None
    return (viewer.role == "secretary" or viewer.person_id in (chair, supervisor)
            or (viewer.section is not None and viewer.section == section))


# -- minutes and decisions (篇一 二.6/三.6, 篇二 三.1, 四.4) ----------------------------------

def sees_minutes(viewer: Viewer, occ: Occurrence) -> bool:
    """篇一 二.6 (秘书科 keeps the record) and 篇二 四.5: minutes are for the meeting's invitees
    (named in it, or a secretary of its organization), whatever its class."""
    return viewer.role != EXTERNAL and invited(viewer, occ)


def decision_confidential(occ: Occurrence | None, recorded: bool) -> bool:
    """A decision is as confidential as its meeting now is; a meeting no longer generated
    keeps the class recorded with the decision."""
    return occ.klass == "CONFIDENTIAL" if occ is not None else recorded


def decision_readers(occ: Occurrence | None, recorded: bool,
                     secretaries: Iterable[str]) -> frozenset[str] | None:
    """Who reads a decision (篇一 二.6 督促检查议定事项, 篇二 四.5): None for a public meeting's
    (the organization's staff); else exactly the confidential meeting's readers
    (:func:`calsync.access.readers`), or its organizer section when the meeting is gone. The
    CalDAV tasks collections (calsync.ical.tasks) and the page both follow this."""
    if not decision_confidential(occ, recorded):
        return None
    return readers(occ, secretaries) if occ is not None else frozenset(secretaries)


def sees_decision(viewer: Viewer, organization: str, occ: Occurrence | None,
                  confidential: bool) -> bool:
    """A decision is seen like its meeting (:func:`decision_readers`): the organization's staff
    for a public meeting, the readers alone for a confidential one. ``confidential``: the class
    recorded with the decision (used when the meeting is no longer generated)."""
    if viewer.organization != organization or viewer.role == EXTERNAL:
        return False
    if not decision_confidential(occ, confidential):
        return True
    if occ is not None:
        return shows(viewer, occ)
    return viewer.role == "secretary"


def follows_up(viewer: Viewer, organization: str, leaders: Iterable[str]) -> bool:
    """篇一 二.6 "督促检查各科室落实会议议定事项…定期向主要领导汇报": the overdue list is read by
    the organizer section and the leaders (``leaders``: the director and the 分管领导); everyone
    else lists their own section's decisions."""
    if viewer.organization != organization or not viewer.person_id:
        return False
    return viewer.role in ("secretary", "leader") or viewer.person_id in set(leaders)


def lists_decision(viewer: Viewer, follows: bool, section: str) -> bool:
    """On the 议定事项 list (then :func:`sees_decision`): all for :func:`follows_up`, else the
    viewer's own section's."""
    return follows or (viewer.section is not None and viewer.section == section)


# -- leave (篇二 四.3, 四.6) ------------------------------------------------------------------

class LeaveNoteLike(Protocol):
    organization: str
    person_id: str
    status: str
    chair_id: str | None
    chair_status: str
    needs_director: bool
    director_id: str | None
    director_status: str


def may_file_leave(viewer: Viewer, occ: Occurrence, person_id: str) -> bool:
    """篇二 四.3 "请假…事先向会议主持人请假": a person the occurrence names (attendee, 列席,
    substitute) files leave for themselves; a secretary of its organization (秘书科 keeps the
    record) for anyone it names. Never across organizations."""
    if viewer.organization != occ.organization or viewer.role == EXTERNAL \
            or not viewer.person_id or not shows(viewer, occ):
        return False
    if person_id not in {a.person_id for a in occ.attendees if a.person_id}:
        return False
    return viewer.role == "secretary" or person_id == viewer.person_id


def sees_leave_reason(viewer: Viewer, organization: str, person_id: str,
                      approver_ids: Iterable[str | None]) -> bool:
    """The reason is personal (篇二 四.3 asks it of the chair, not of everyone): the person,
    their approvers and the secretaries of the note's organization see it; another
    organization's secretary is no secretary here."""
    if viewer.organization != organization or viewer.role == EXTERNAL \
            or not viewer.person_id:
        return False
    return (viewer.role == "secretary" or viewer.person_id == person_id
            or viewer.person_id in {a for a in approver_ids if a})


def leave_step(viewer: Viewer, note: LeaveNoteLike) -> str | None:
    """篇二 四.3: the step of a pending note that waits for the viewer — ``"chair"`` (the
    meeting's chair, or the director when the chair asks), ``"director"`` (a unit head's
    leave also needs the director) — or None."""
    if note.organization != viewer.organization or note.status != "pending":
        return None
    if note.chair_id == viewer.person_id and note.chair_status == "pending":
        return "chair"
    if note.needs_director and note.director_id == viewer.person_id \
            and note.director_status == "pending":
        return "director"
    return None


def may_decide_leave(viewer: Viewer, note: LeaveNoteLike, step: str) -> bool:
    """The person a step of the note is addressed to decides it (the store refuses a step
    already decided)."""
    if note.organization != viewer.organization or viewer.role == EXTERNAL:
        return False
    if step == "chair":
        return note.chair_id is not None and note.chair_id == viewer.person_id
    return step == "director" and note.needs_director \
        and note.director_id is not None and note.director_id == viewer.person_id


def knows_leave_note(viewer: Viewer, note: LeaveNoteLike) -> bool:
    """Who may learn that a leave note exists: its person, its approvers and the secretaries of
    its organization. Everyone else gets the answer of an unknown note."""
    return sees_leave_reason(viewer, note.organization, note.person_id,
                             (note.chair_id, note.director_id))


# -- meeting requests and approvers (篇二 二.3, 三.1) -----------------------------------------

class RequestLike(Protocol):
    organization: str
    requested_by: str
    approver_id: str | None


def sees_request(viewer: Viewer, req: RequestLike) -> bool:
    """A meeting request is its requester's, its approver's and the organizer section's (they
    arrange every meeting); nobody else learns it exists."""
    if req.organization != viewer.organization or viewer.role == EXTERNAL \
            or not viewer.person_id:
        return False
    return viewer.role == "secretary" or viewer.person_id in (req.requested_by,
                                                              req.approver_id)


def may_decide_request(viewer: Viewer, req: RequestLike) -> bool:
    """篇二 二.3: the approver named on the request (the section's 分管领导, or the 局长 for
    important ones and for the categories the policy says) decides it, nobody else."""
    return (req.organization == viewer.organization and viewer.role != EXTERNAL
            and req.approver_id is not None and req.approver_id == viewer.person_id)


def approves_by_position(org: Organization, person_id: str, role: str) -> bool:
    """Does a position make the person an approver (without looking at pending items)? Leave
    goes to chairs and the director (篇二 四.3), requests to supervising leaders or the
    director (二.3): leaders, the director, unit heads, section chiefs and supervisors, duty
    leaders. A plain 科员 approves only what is addressed to them (:func:`leave_step`,
    :func:`may_decide_request`)."""
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


def own_sections(org: Organization, person: Person | None) -> list[str]:
    """篇二 二.3 "股室站办…申请": the sections a person may file for — their own; a leader
    without one, the office's."""
    if person is None or person.external:
        return []
    if person.section:
        return [person.section]
    return [org.organizer] if org.organizer in org.sections else []


def _names(org: Organization, word: str, person: Person, section_id: str) -> bool:
    if word == "any_section":
        return True
    if word == "organizer":
        return section_id == org.organizer and person.section == org.organizer
    kind, _, arg = word.partition(":")
    return person in resolve(org, Selector(kind, arg))


def may_request(org: Organization, person: Person | None, mt: MeetingType,
                section_id: str) -> bool:
    """May ``person`` ask for a ``mt`` meeting held by ``section_id``? 篇二 二.3: a section asks
    for its own meetings; 三.1: 局党委会, 局长办公会… are convened by the 局主要领导 and notified by
    the 办公室, so only those the category's ``requested_by`` names ask for them."""
    if person is None or section_id not in own_sections(org, person):
        return False
    if not mt.requested_by:
        return True
    return any(_names(org, word, person, section_id) for word in mt.requested_by)


# -- statistics (篇二 二.3, 篇一 四.4) ---------------------------------------------------------

STATS_ROLES = ("secretary", "leader")


def may_read_stats(viewer: Viewer, organization: str) -> bool:
    """篇二 二.3: the office counts the meetings held and reports to the director (篇一 四.4
    考核): the statistics of an organization are for its secretaries and leaders. The page's
    menu asks this same rule."""
    return (bool(viewer.person_id) and viewer.organization == organization
            and viewer.role in STATS_ROLES)

