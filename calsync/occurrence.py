"""The occurrence model: what generation produces and everything downstream consumes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

TZID = "Asia/Shanghai"
TZ = ZoneInfo(TZID)


def default_horizon(today: dt.date) -> tuple[dt.date, dt.date]:
    """What publishing covers: this year and the next; year boundaries, so a no-op publish
    stays a no-op all year."""
    return dt.date(today.year, 1, 1), dt.date(today.year + 1, 12, 31)


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    role: str = "REQ-PARTICIPANT"      # CHAIR, REQ-PARTICIPANT, OPT-PARTICIPANT, NON-PARTICIPANT
    partstat: str = "NEEDS-ACTION"
    person_id: str | None = None
    note: str = ""                     # e.g. 列席，负责记录
    delegated_to: tuple[str, ...] = ()     # mail addresses
    delegated_from: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Hashed once: an all-staff tuple of 300 is hashed for every override test and cache
        # lookup (calsync.ical.render), and a generated __hash__ rebuilds the field tuple each time.
        object.__setattr__(self, "_hash", hash((
            self.name, self.email, self.role, self.partstat, self.person_id, self.note,
            self.delegated_to, self.delegated_from)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "email": self.email, "role": self.role,
                                  "partstat": self.partstat}
        if self.person_id:
            out["person"] = self.person_id
        if self.delegated_to:
            out["delegated_to"] = list(self.delegated_to)
        if self.delegated_from:
            out["delegated_from"] = list(self.delegated_from)
        return out


@dataclass(frozen=True)
class Audience:
    """A whole group invited at once (all staff, every member of a section).

    Rendered as one ``CUTYPE=GROUP`` ATTENDEE when every member is among the occurrence's
    attendees; members whose state differs (chair, leave, substitute, 列席) are written on
    their own with ``MEMBER=``. The occurrence's ``attendees`` always list everyone: feeds,
    notices, leave and access read those, never the group.
    """

    address: str                       # a cal-address URI (urn:calsync:group:…)
    name: str                          # CN, e.g. 管理办全体人员
    role: str                          # the members' usual ROLE
    members: frozenset[str]            # person ids


@dataclass(frozen=True)
class Occurrence:
    """One instance of a meeting or deadline, after holidays and decisions are applied."""

    series: str                        # series id == resource name
    uid: str
    organization: str
    kind: str                          # meeting | deadline
    meeting_types: tuple[str, ...]
    summary: str
    start: dt.datetime
    end: dt.datetime
    nominal_start: dt.datetime         # where the rule put it (RECURRENCE-ID if recurring)
    description: str = ""
    location: str = ""
    status: str = "CONFIRMED"
    klass: str = "PUBLIC"
    organizer: tuple[str, str] = ("", "")      # (name, email)
    attendees: tuple[Attendee, ...] = ()       # the chair first, ROLE=CHAIR
    clause: str = ""
    provisional: bool = False
    alarm_minutes: int | None = None
    transparent: bool = False
    related_to: str | None = None      # a deadline's meeting UID
    notes: tuple[str, ...] = ()       # lines appended to DESCRIPTION
    audience: tuple[Audience, ...] = ()   # groups among the attendees (rendering only)
    # The resource it is published in within its series: "" for the series' own; the month's
    # duty leader for a series that leader chairs, so a rotating chair is one resource per
    # leader and costs no overrides (Series.parts). Decisions, leave, notices and pages key
    # by ``uid`` all the same.
    part: str = ""

    @property
    def published_status(self) -> str:
        """STATUS as published: a provisional date is TENTATIVE until the notice is out."""
        return "TENTATIVE" if self.provisional and self.status == "CONFIRMED" else self.status

    @property
    def published_uid(self) -> str:
        """The UID calendars see: the series' own, or its part's."""
        return part_uid(self.uid, self.part)

    @property
    def recurrence_key(self) -> str:
        """The key decisions, leave, sign-in and minutes keep for this occurrence: its nominal
        start in ISO 8601 with the series' UTC offset (what the store normalizes to)."""
        return self.nominal_start.isoformat()

    @property
    def moved(self) -> bool:
        return self.start != self.nominal_start

    @property
    def chair(self) -> Attendee | None:
        return next((a for a in self.attendees if a.role == "CHAIR"), None)

    def full_description(self) -> str:
        return "\n".join(x for x in (self.description, *self.notes) if x)


@dataclass(frozen=True)
class Recurrence:
    """A weekly rule: every ``interval`` weeks on ``weekday`` (0 = Monday)."""

    weekday: int
    interval: int = 1


@dataclass(frozen=True)
class Series:
    """One resource: a recurring series (nominal starts from its rule) or a single event."""

    id: str
    uid: str
    organization: str
    rule: Recurrence | None
    nominal: tuple[dt.datetime, ...]   # every start the rule gives inside the range
    occurrences: tuple[Occurrence, ...]  # the ones that happen (dropped ones are absent)

    @property
    def dropped(self) -> list[dt.datetime]:
        kept = {o.nominal_start for o in self.occurrences}
        return [n for n in self.nominal if n not in kept]

    def parts(self) -> tuple[Series, ...]:
        """The resources it is published as: itself, or one per ``Occurrence.part``.

        A part keeps the series' rule from its first to its last nominal start; the starts in
        between that belong to other parts (or were dropped) are its EXDATEs. Each part's
        RECURRENCE-IDs are therefore instances of its own rule, and the parts together give
        exactly the series' occurrences."""
        if self.rule is None or not any(o.part for o in self.occurrences):
            return (self,)
        by_part: dict[str, list[Occurrence]] = {}
        for o in self.occurrences:
            by_part.setdefault(o.part, []).append(o)
        out = []
        for key in sorted(by_part):
            occs = by_part[key]
            first = min(o.nominal_start for o in occs)
            last = max(o.nominal_start for o in occs)
            out.append(Series(part_id(self.id, key), occs[0].published_uid, self.organization,
                              self.rule, tuple(n for n in self.nominal if first <= n <= last),
                              tuple(occs)))
        return tuple(out)


PART_SEPARATOR = "--"


def part_id(series_id: str, part: str) -> str:
    """A part's resource name: ``zhoulihui--zhang_zhuren`` (``zhoulihui.ics`` when whole)."""
    return f"{series_id}{PART_SEPARATOR}{part}" if part else series_id


def part_uid(uid: str, part: str) -> str:
    """A part's UID: ``zhoulihui--zhang_zhuren@guanliban.calsync`` (``uid`` when whole)."""
    if not part:
        return uid
    local, domain = split_uid(uid)
    return join_uid(part_id(local, part), domain)


def split_part(uid: str) -> tuple[str, str]:
    """(series UID, part) of a published UID: the inverse of ``part_uid`` ("" when whole).
    The part is after the last ``--`` (a person id holding ``--`` would not come back)."""
    local, domain = split_uid(uid)
    series_id, sep, part = local.rpartition(PART_SEPARATOR)
    if not sep or not series_id or not part:
        return uid, ""
    return join_uid(series_id, domain), part


# -- the UID codec: every UID calsync writes is ``<local>@<domain>``, the domain naming the
# organization: its policy's ``uid_domain`` (organization.toml), else ``<org>.calsync``. UIDs
# written before a uid_domain was set keep the default, so both are the organization's.

DEFAULT_DOMAIN_SUFFIX = ".calsync"


class UidOwner(Protocol):
    """What the codec reads of an organization (calsync.policy.Organization)."""

    @property
    def id(self) -> str: ...

    @property
    def uid_domain(self) -> str: ...


class HasOrganizations(Protocol):
    """What the codec reads of the policies (calsync.policy.PolicySet)."""

    @property
    def organizations(self) -> Mapping[str, UidOwner]: ...


def default_domain(org_id: str) -> str:
    """``guanliban.calsync``: an organization's domain when its policy sets none."""
    return f"{org_id}{DEFAULT_DOMAIN_SUFFIX}"


def org_domain(org: UidOwner) -> str:
    """The domain of the UIDs calsync writes for ``org`` now."""
    return org.uid_domain or default_domain(org.id)


def org_domains(org: UidOwner) -> tuple[str, ...]:
    """Every domain whose UIDs are ``org``'s: its uid_domain and the default (sorted)."""
    return tuple(sorted({org.uid_domain, default_domain(org.id)} - {""}))


def join_uid(local: str, domain: str) -> str:
    return f"{local}@{domain}" if domain else local


def uid_for(org: UidOwner, local: str) -> str:
    """``<local>@<org's domain>``: the one way calsync names what it writes for ``org``."""
    return join_uid(local, org_domain(org))


def uid_beside(uid: str, local: str, org_id: str) -> str:
    """``<local>@`` the domain of ``uid`` (a meeting's): what stands for or comes of a meeting
    (its 忙碌 block, its decisions' tasks) is named like it; ``<org>.calsync`` for a UID
    without a domain."""
    return join_uid(local, domain_of(uid) or default_domain(org_id))


def split_uid(uid: str) -> tuple[str, str]:
    """(local part, domain): at the last ``@``; the domain is "" without one."""
    local, at_sign, domain = uid.rpartition("@")
    return (local, domain) if at_sign else (uid, "")


def local_part(uid: str) -> str:
    """``zhoulihui`` of ``zhoulihui@guanliban.calsync``."""
    return split_uid(uid)[0]


def domain_of(uid: str) -> str:
    """``guanliban.calsync`` of ``zhoulihui@guanliban.calsync``; "" without an ``@``."""
    return split_uid(uid)[1]


def domain_owners(orgs: Iterable[UidOwner]) -> dict[str, str]:
    """Domain → organization id, for every domain of every organization."""
    return {d: org.id for org in orgs for d in org_domains(org)}


def organization_of(uid: str, policies: HasOrganizations) -> str | None:
    """The organization whose UID ``uid`` is (its uid_domain or ``<org>.calsync``), or None
    for a UID that is no organization's (a calendar app's, another system's)."""
    return domain_owners(policies.organizations.values()).get(domain_of(uid))


def default_owner(uid: str) -> str | None:
    """The organization a UID names by its default domain alone (``<org>.calsync``), for code
    that has no policies (calsync.sync); a custom uid_domain is not known there."""
    domain = domain_of(uid)
    if domain.endswith(DEFAULT_DOMAIN_SUFFIX) and len(domain) > len(DEFAULT_DOMAIN_SUFFIX):
        return domain[: -len(DEFAULT_DOMAIN_SUFFIX)]
    return None


def at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=TZ)
