"""Who holds a meeting: the section that convenes it under the policy (the holding section),
in one place for the statistics, the weekly sheet, sign-in, minutes and notices.

The holding section is not who asked for it: a per-section series (科务会) → that section; a
requested category any section may ask for (基层业务工作会, ``requested_by`` empty or
``any_section``) → the requesting section; everything else (局党委会, 局务会, 周例会, 主任办公会 …,
whoever filed it) → the organization's organizer section (办公室 / 秘书科: it convenes,
notifies, records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from calsync.meetings.adhoc import series_uid as adhoc_uid
from calsync.meetings.requests import series_uid as request_uid
from calsync.meetings.stats import section_series
from calsync.occurrence import Occurrence
from calsync.policy.model import Organization


class SectionRef(Protocol):  # an approved MeetingRequest or an AdhocMeeting record (read only)
    @property
    def id(self) -> int: ...
    @property
    def section_id(self) -> str | None: ...


def section_held(org: Organization, type_id: str) -> bool:
    """Is this category held by the section that asks for it (any section may ask)?"""
    mt = org.meeting_types.get(type_id)
    return mt is not None and (not mt.requested_by or "any_section" in mt.requested_by)


def holding_section(org: Organization, occ: Occurrence, by_series: Mapping[str, str],
                    asked_by: Mapping[str, str], per_section_uid: Mapping[str, str]) -> str:
    """The section that holds ``occ`` (see the module docstring).

    ``by_series``: per-section policy series → section (calsync.meetings.stats.section_series);
    ``asked_by``: meeting-request UID → the requesting section; ``per_section_uid``: ad-hoc
    UID → the section of an ad-hoc per-section meeting (an extra 科务会).
    """
    if occ.uid in per_section_uid:
        return per_section_uid[occ.uid]
    if occ.series in by_series:
        return by_series[occ.series]
    base, _, year = occ.series.rpartition("-")     # a yearly series: <sid>-<year>
    if year.isdigit() and base in by_series:
        return by_series[base]
    if occ.uid in asked_by and occ.meeting_types and section_held(org, occ.meeting_types[0]):
        return asked_by[occ.uid]
    return org.organizer


def holder(org: Organization, requests: Iterable[SectionRef] = (),
           adhoc: Iterable[SectionRef] = ()) -> Callable[[Occurrence], str]:
    """``occurrence → holding section`` for ``org``, given its approved requests and ad-hoc
    meetings (store records)."""
    by_series = section_series(org)
    asked_by = {request_uid(org, r.id): r.section_id for r in requests if r.section_id}
    per_section = {adhoc_uid(org, a.id): a.section_id for a in adhoc
                   if a.section_id and _per_section_type(org, a)}
    return lambda occ: holding_section(org, occ, by_series, asked_by, per_section)


def _per_section_type(org: Organization, row: SectionRef) -> bool:
    mt = org.meeting_types.get(getattr(row, "meeting_type", ""))
    return mt is not None and mt.per_section


def organizer_section(org: Organization, occ: Occurrence) -> str | None:
    """The section whose mailbox is the occurrence's ORGANIZER. Sign-in keepers, minutes and
    notices name the holding section this way today; for a requested or per-section meeting
    it can differ from :func:`holding_section` (the next issue makes them one rule)."""
    email = occ.organizer[1].strip().lower()
    for sid, s in org.sections.items():
        if email and s.email.strip().lower() == email:
            return sid
    return None
