"""Who takes sign-in and to whom attendance is reported, as people: the rules of
``<org>/attendance.toml`` (read and checked by ``calsync.policy.load``, see
calsync.policy.attendance) resolved against the organization's directory."""

from __future__ import annotations

from calsync.meetings.holding import organizer_section
from calsync.occurrence import Occurrence
from calsync.policy import PolicySet
from calsync.policy.attendance import OrgRules, Rules, default_rules
from calsync.policy.model import Organization

__all__ = ["OrgRules", "Rules", "keepers", "monthly_report_to",
           "org_rules", "people", "report_to", "rules"]


def org_rules(policies: PolicySet, org_id: str) -> OrgRules:
    """The organization's attendance rules, as loaded with the policies (defaults when it has
    no attendance.toml)."""
    found = policies.attendance.get(org_id)
    return found if found is not None else default_rules(policies.organizations[org_id])


def rules(policies: PolicySet, occ: Occurrence) -> Rules:
    return org_rules(policies, occ.organization).for_occurrence(occ)


# -- resolving the names to people ---------------------------------------------------------

def people(org: Organization, occ: Occurrence, who: str) -> frozenset[str]:
    """Person ids (not external) named by a keeper or report_to value."""
    staff = [p for p in org.people.values() if not p.external]
    if who == "director":
        return frozenset({org.director} if org.director else ())
    if who in ("organizer", "holding_section"):
        section = org.organizer if who == "organizer" else organizer_section(org, occ)
        return frozenset(p.id for p in staff if section and p.section == section)
    kind, _, arg = who.partition(":")
    if kind == "section":
        return frozenset(p.id for p in staff if p.section == arg)
    if kind == "role":
        return frozenset(p.id for p in staff if arg in p.roles)
    if kind == "person":
        return frozenset({arg} if arg in org.people else ())
    return frozenset()


def keepers(policies: PolicySet, occ: Occurrence) -> frozenset[str]:
    org = policies.organizations[occ.organization]
    return people(org, occ, rules(policies, occ).keeper)


def report_to(policies: PolicySet, occ: Occurrence) -> frozenset[str]:
    org = policies.organizations[occ.organization]
    return people(org, occ, rules(policies, occ).report_to)


def monthly_report_to(policies: PolicySet, org_id: str) -> frozenset[str]:
    """Who gets the organization's monthly report: the default report_to."""
    org = policies.organizations[org_id]
    dummy = Occurrence("", "", org_id, "meeting", (), "", org.revised, org.revised,
                       org.revised)
    return people(org, dummy, org_rules(policies, org_id).default.report_to)
