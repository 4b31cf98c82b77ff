"""Who may change what: :func:`may_act` and the rules for acting on one kind of object (sign-in,
attendance, merges, notices and replies, holiday tables)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from calsync.access.visibility import (
    BUSY,
    BUSY_ONLY,
    EXTERNAL,
    FULL,
    NONE,
    OPERATOR,
    Viewer,
    Visibility,
    busy_uid,
    names_viewer,
    shows,
    visibility,
)
from calsync.errors import UsageError
from calsync.meetings.accounts import role_for
from calsync.occurrence import Attendee, Occurrence, local_part

if TYPE_CHECKING:
    from calsync.policy import PolicySet


# -- acting on things ----------------------------------------------------------------------

SECRETARY_ACTIONS = frozenset({"decide", "ack", "withdraw-decision", "resolve", "publish",
                               "view-clashes", "act-for-others", "adhoc", "external-feeds",
                               "reset-password", "directory-import", "notices"})
# Actions on one's own things (``owner=`` the person; without an owner, anyone of the
# organization: filing one's own leave or request). The view asks a narrower rule where one
# exists (approvers: calsync.approvers; keepers: may_keep_attendance).
OWN_ACTIONS = frozenset({"leave", "withdraw-leave", "request", "change-password", "approve",
                         "attendance"})
# 篇一 二.1 "列席人员由会议主持人确定": the chair of the occurrence (``owner=`` its chair's
# person id) or a secretary of its organization; nobody else, whatever their role.
SIT_IN = "sit-in"


def may_act(viewer: Viewer, organization: str, action: str, *,
            owner: str | None = None) -> bool:
    """May ``viewer`` do ``action`` on an object of ``organization`` (owned by person
    ``owner``, e.g. a leave note's person)? Never across organizations; secretaries act on
    anything of their own organization, everyone else on their own things."""
    if action not in ACTIONS:   # a misspelt action must not fall through to "allowed"
        raise ValueError(f"calsync.access.may_act: unknown action {action!r}")
    if not viewer.person_id or viewer.organization != organization:
        return False
    if viewer.role == EXTERNAL:   # a feed link is all they have: they never act
        return False
    if action in AGENDA_ACTIONS:
        return _may_agenda(viewer, action, owner)
    if action in MINUTES_ACTIONS:
        return _may_minutes(viewer, action, owner)
    if viewer.role == "secretary":
        return True
    if action in SECRETARY_ACTIONS:
        return False
    if action == SIT_IN:
        return owner is not None and owner == viewer.person_id
    return owner is None or owner == viewer.person_id


# Topics and agenda (篇一 二.4, 三.4; calsync.meetings.agenda): each step is one person's, and a
# secretary's general rights do not stand in for the 分管领导's consent or the chair's approval.
# ``owner``: agenda-submit → the topic's section; agenda-consent → that section's 分管领导;
# agenda-approve → the occurrence's chair (the duty leader for 周例会); agenda-order → unused.
AGENDA_ACTIONS = frozenset({"agenda-submit", "agenda-consent", "agenda-order",
                            "agenda-approve"})


# Minutes and decisions (篇一 二.6/三.6 记录, 督促检查…议定事项; 篇二 三.1 纪要): the organizer
# section (秘书科/办公室) records minutes and decisions; a decision's progress is reported by
# the organizer section or by its owner section (``owner=`` the decision's section id).
MINUTES_ACTIONS = frozenset({"minutes", "decision-progress"})

# Every action any door may ask about (web/rules.py declares which each endpoint asks).
ACTIONS = (SECRETARY_ACTIONS | OWN_ACTIONS | AGENDA_ACTIONS | MINUTES_ACTIONS
           | frozenset({SIT_IN}))


def _may_minutes(viewer: Viewer, action: str, owner: str | None) -> bool:
    if viewer.role == "secretary":
        return True
    return (action == "decision-progress" and owner is not None
            and viewer.section is not None and viewer.section == owner)


def _may_agenda(viewer: Viewer, action: str, owner: str | None) -> bool:
    if action == "agenda-submit":
        return viewer.section is not None and owner == viewer.section
    if action == "agenda-order":
        return viewer.role == "secretary"   # a member of the organizer section
    return owner is not None and owner == viewer.person_id


# -- the shell's doors (CLI JSON and tables) ------------------------------------------------

def external_viewer(organization: str, person: Any) -> Viewer:
    """An external attendee of ``organization``'s directory (county directors, 校长) as a
    reader of their own feed: they see the occurrences naming them (by id or e-mail)."""
    return Viewer(person.id, organization, EXTERNAL, person.name,
                  person.email.strip().lower(), None)


def viewer_of(policies: PolicySet, person_id: str | None) -> Viewer:
    """The directory person ``person_id`` as a viewer (``calsync … --as ID``); without one,
    the operator: confidential meetings are busy blocks for them too."""
    if not person_id:
        return OPERATOR
    for org in policies.organizations.values():
        person = org.people.get(person_id)
        if person is not None and not person.external:
            return Viewer(person.id, org.id, role_for(org, person), person.name,
                          person.email.strip().lower(), person.section)
    raise UsageError(f"--as {person_id}: no such person in the directories "
                     f"(use a person id from directory.toml, e.g. qian_keyuan)")


def clash_for_viewer(viewer: Viewer, clash: Any,
                     occurrences: Mapping[tuple[str, str], Occurrence]) -> Any | None:
    """A clash as the viewer may see it: an item they may not see in full is 忙碌, and then
    the subject (a person or room of a confidential meeting) and the suggestion (which names
    the meetings) are withheld. None when they may see no item at all."""
    items, open_ = [], True
    for it in clash.items:
        occ = occurrences.get((it.series_uid, it.recurrence_id)) if it.series_uid else None
        seen = visibility(viewer, occ) if occ is not None else FULL
        if seen == NONE:
            return None
        if occ is not None and seen != FULL:  # an item without its occurrence is FULL
            open_ = False
            it = replace(it, summary=BUSY, series_uid=local_part(busy_uid(occ)),
                         recurrence_id=None)
        items.append(it)
    if open_:
        return clash
    return replace(clash, items=tuple(items), subject="", subject_name="",
                   suggestion="与一项保密会议时间冲突，请与会议承办科室协调。")


# -- sign-in and attendance (篇二 四.1–2; calsync.meetings.attendance) ----------------------

def may_sign_in(viewer: Viewer, occ: Occurrence) -> bool:
    """Sign in on one's own behalf: a logged-in person the occurrence names (attendee, 列席,
    substitute). A secretary who is not named does not sign in for the meeting."""
    return bool(viewer.person_id) and viewer.role != EXTERNAL and names_viewer(viewer, occ)


def may_keep_attendance(viewer: Viewer, occ: Occurrence, keepers: Iterable[str]) -> bool:
    """Show the QR code and the short code, mark people by hand: the people the policy names
    (calsync.meetings.attendance_policy.keepers), of the occurrence's organization, who may
    see the meeting in full (a keeper never learns a confidential meeting this way)."""
    return (bool(viewer.person_id) and viewer.role != EXTERNAL
            and viewer.organization == occ.organization
            and viewer.person_id in set(keepers) and shows(viewer, occ))


def may_read_attendance(viewer: Viewer, occ: Occurrence, readers: Iterable[str]) -> bool:
    """The occurrence's attendance report: its keepers and the person it is reported to
    (``readers``), the chair and the organization's secretaries — each only if they may see
    the meeting in full."""
    if not shows(viewer, occ) or viewer.organization != occ.organization:
        return False
    chair = occ.chair.person_id if occ.chair else None
    return (viewer.role == "secretary" or viewer.person_id in set(readers)
            or (chair is not None and viewer.person_id == chair))


def may_read_monthly_attendance(viewer: Viewer, organization: str,
                                readers: Iterable[str]) -> bool:
    """The organization's monthly attendance report: its secretaries and the person it is
    reported to. Each occurrence in it is then shown per :func:`visibility`."""
    return (bool(viewer.person_id) and viewer.organization == organization
            and viewer.role != EXTERNAL
            and (viewer.role == "secretary" or viewer.person_id in set(readers)))


# -- sign-in by code: the QR code's page, no login needed (issue 20, item 7) ---------------
# A person is recognised only by logging in. The short code proves that someone read the
# poster in the room, and a typed name is whatever they typed: it may stand only for people
# who have no account to log in with, and it never opens a confidential meeting.

def signin_code_view(viewer: Viewer | None, occ: Occurrence, *,
                     signed_by_name: bool = False) -> Visibility:
    """What the QR code's page shows of ``occ``: in full to a logged-in person it names
    (:func:`may_sign_in`); to an anonymous visitor whose typed name has just signed in, a
    public meeting in full and a confidential one as 忙碌 and its time; otherwise nothing
    (the page asks for the code and a name, or tells a logged-in person they are not listed)."""
    if viewer is not None and may_sign_in(viewer, occ):
        return FULL
    if viewer is None and signed_by_name:
        return FULL if occ.klass != "CONFIDENTIAL" else BUSY_ONLY
    return NONE


def may_sign_in_by_name(occ: Occurrence, matches: Sequence[Attendee],
                        holders: Collection[str]) -> bool:
    """May a name typed with the right short code sign in? Only when it names exactly one
    attendee of ``occ`` (two of the same name: the name does not say who) and that attendee
    holds no account: ``holders`` are the person ids and lowercased e-mail addresses of the
    matches who can log in (a password is set; a temporary one counts). Every refusal is
    answered alike, so the answer never tells whether a name is on the list."""
    if len(matches) != 1 or matches[0] not in occ.attendees:
        return False
    a = matches[0]
    known = {a.person_id or "", a.email.strip().lower()} - {""}
    return not known & set(holders)


# -- merging (篇二 二.3 合并; 篇二 四.5 保密; issue 20) ----------------------------------------
# The merged meeting names everyone of both and is confidential if either is, so each of its
# people reads it in full. Merging is therefore allowed only when that adds no reader to a
# confidential meeting: everyone the other meeting names already reads it (is named in it or
# is a secretary of its organization). Otherwise the secretary moves one of them (调整).

def _named(occ: Occurrence) -> tuple[set[str], set[str]]:
    return ({a.person_id for a in occ.attendees if a.person_id},
            {a.email.strip().lower() for a in occ.attendees if a.email.strip()})


def new_readers(secret: Occurrence, other: Occurrence,
                secretaries: Iterable[str] = ()) -> list[str]:
    """Names of the people ``other`` names who do not read ``secret`` (empty unless
    ``secret`` is confidential)."""
    if secret.klass != "CONFIDENTIAL":
        return []
    ids, emails = _named(secret)
    ids |= set(secretaries)
    out: dict[str, str] = {}
    for a in other.attendees:
        if (a.person_id and a.person_id in ids) or a.email.strip().lower() in emails:
            continue
        out.setdefault(a.person_id or a.email, a.name or a.email)
    return list(out.values())


def may_merge(a: Occurrence, b: Occurrence,
              secretaries: Iterable[str] = ()) -> str | None:
    """Why ``a`` and ``b`` may not be merged into one meeting (Chinese, for the secretary),
    or None when they may. ``secretaries``: person ids of the organization's secretaries."""
    chosen = frozenset(secretaries)
    outsiders = dict.fromkeys([*new_readers(a, b, chosen), *new_readers(b, a, chosen)])
    if not outsiders:
        return None
    names = "、".join(list(outsiders)[:6]) + ("等" if len(outsiders) > 6 else "")
    return (f"不能合并：其中有保密会议，{names}不在其知悉范围内，合并后会看到保密会议的"
            f"内容（篇二 四.5 会议内容不得外传）。请改用“调整”错开其中一个会议。")


def secretaries_of(org: Any) -> frozenset[str]:
    """Person ids of ``org``'s secretaries (its organizer section: 秘书科/办公室), as
    calsync.meetings.accounts.role_for names them."""
    return frozenset(p.id for p in org.people.values()
                     if p.section and p.section == org.organizer and not p.external)


def notice_reader(email: str, name: str = "") -> Viewer:
    """An e-mail recipient of iMIP notices (calsync.notices.plan): known by address only, of
    no organization, so :func:`visibility` shows them in full exactly the occurrences that
    name the address, and a confidential meeting only if they are among its people."""
    return Viewer("", "", "recipient", name, email.strip().lower())


# -- the notice outbox and replies (calsync.notices; issue 20, items 11 and 12) -------------

def notice_visibility(viewer: Viewer, organization: str, confidential: bool,
                      recipients: Iterable[str]) -> Visibility:
    """One outbox row (an iMIP notice or a report by e-mail) as ``calsync notices list|plan``
    show it. ``recipients``: every address its UID was sent to (the meeting's invitees).
    Its organization's secretaries and its recipients see it in full; anyone else (the
    operator without ``--as`` too) sees a confidential one as 忙碌 without subject or
    recipient, and another organization's not at all."""
    if viewer.role == "secretary" and viewer.organization == organization:
        return FULL
    if viewer.email and viewer.email in {r.strip().lower() for r in recipients}:
        return FULL
    if viewer.role == EXTERNAL:
        return NONE
    if viewer.organization != organization and viewer is not OPERATOR:
        return NONE
    return BUSY_ONLY if confidential else FULL


def may_record_reply(viewer: Viewer, organization: str, attendee_id: str | None) -> bool:
    """Record an attendee's answer (METHOD:REPLY, ``POST /imip/reply``) to a notice of
    ``organization``: its secretaries (秘书科/办公室 collect the answers), or the attendee
    themselves (``attendee_id``: the directory person with the reply's address; None for an
    address outside the directory, which only a secretary may answer for)."""
    if may_act(viewer, organization, "notices"):
        return True
    return (bool(viewer.person_id) and viewer.role != EXTERNAL
            and viewer.organization == organization
            and attendee_id is not None and attendee_id == viewer.person_id)


# -- the instance's holiday table (web/holidays.py; issue 20, item 6) ------------------------
# One table serves every organization of the instance, so a notice moves other organizations'
# meetings too. A secretary applies it alone only if it moves no other organization's
# meetings; otherwise it waits as an application until a secretary of each other organization
# it changes has confirmed it (the organization that applied counts as confirmed).

def holiday_orgs_to_confirm(viewer: Viewer, affected_orgs: Iterable[str],
                            confirmed_orgs: Iterable[str] = ()) -> frozenset[str]:
    """The organizations whose meetings the table changes and that have not agreed yet (the
    viewer's own organization agrees by the viewer's click)."""
    agreed = set(confirmed_orgs) | {viewer.organization}
    return frozenset(o for o in affected_orgs if o not in agreed)


def may_apply_holiday_table(viewer: Viewer, affected_orgs: Iterable[str],
                            confirmed_orgs: Iterable[str] = ()) -> bool:
    """A secretary, when every organization whose meetings the table moves, appears or drops
    is their own or has confirmed it through one of its secretaries."""
    return (bool(viewer.person_id) and viewer.role == "secretary"
            and not holiday_orgs_to_confirm(viewer, affected_orgs, confirmed_orgs))


def may_propose_holiday_table(viewer: Viewer) -> bool:
    """Any secretary may preview a notice and submit it for the others to confirm."""
    return bool(viewer.person_id) and viewer.role == "secretary"


def may_confirm_holiday_table(viewer: Viewer, affected_orgs: Iterable[str]) -> bool:
    """A secretary of an organization whose meetings a pending table changes confirms (or
    turns down) it for that organization."""
    return (bool(viewer.person_id) and viewer.role == "secretary"
            and viewer.organization in set(affected_orgs))


def may_withdraw_holiday_table(viewer: Viewer, requested_by: str,
                               affected_orgs: Iterable[str]) -> bool:
    """Who applied withdraws a pending table; a secretary it would change turns it down."""
    return bool(viewer.person_id) and (viewer.person_id == requested_by
                                       or may_confirm_holiday_table(viewer, affected_orgs))


def holiday_change_visibility(viewer: Viewer, occ: Occurrence) -> Visibility:
    """A preview row of the holiday table: in full what the viewer sees in full; anything
    else (another organization's meeting, a confidential one the viewer is not invited to) as
    忙碌 with its time and organization only — enough to know whom to ask."""
    return FULL if visibility(viewer, occ) == FULL else BUSY_ONLY
