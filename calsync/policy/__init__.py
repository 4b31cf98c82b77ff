"""Policies: the regulations as data. ``load(policies_dir, instance)`` is the one entry point:
every command, the page, the scheduler and ``calsync serve`` read the policies through it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from calsync.calendar.workdays import WorkCalendar
from calsync.errors import PolicyError, PolicyProblem
from calsync.policy.attendance import OrgRules, load_attendance
from calsync.policy.checks import check_policies
from calsync.policy.holiday_tables import load_holiday_tables
from calsync.policy.model import Organization
from calsync.policy.organizations import load_organizations
from calsync.settings import policies_path, shipped_policies


@dataclass(frozen=True)
class PolicySet:
    root: Path
    organizations: dict[str, Organization]
    calendar: WorkCalendar
    # checks that do not stop loading (calsync.policy.checks), as FILE: KEY: problem (fix)
    warnings: tuple[PolicyProblem, ...] = ()
    # org id → its <org>/attendance.toml rules (calsync.policy.attendance); an organization
    # missing here (a PolicySet built by hand) has the defaults
    attendance: Mapping[str, OrgRules] = field(default_factory=dict)


__all__ = ["PolicySet", "load", "load_policies", "policies_path", "shipped_policies"]


def load(policies_dir: str | Path | None = None, instance: Path | None = None) -> PolicySet:
    """The policies of ``policies_dir`` (default: ``CALSYNC_POLICIES`` or the shipped ones)
    with the instance's holiday tables (``<instance>/holidays/YYYY.toml``, the notices applied
    on the 节假日 page) over the folder's own, and each organization's attendance rules
    (``<org>/attendance.toml``); all checked (calsync.policy.checks). Every problem of every
    file is raised at once, as one PolicyError; ``calsync validate`` says the same."""
    root = policies_path(policies_dir)
    problems: list[PolicyProblem] = []
    orgs = load_organizations(root, problems)
    # A policies folder may bring its own holiday years; they replace the shipped ones, and
    # the instance's (applied on the page) replace both.
    holiday_folders = [shipped_policies() / "holidays", root / "holidays"]
    if instance is not None:
        holiday_folders.append(Path(instance) / "holidays")
    calendar = load_holiday_tables(holiday_folders, problems)
    attendance: dict[str, OrgRules] = {}
    warnings: list[PolicyProblem] = []
    if not problems:
        attendance = load_attendance(root, orgs, problems)
        errors, warnings = check_policies(root, orgs, dict.fromkeys(holiday_folders))
        problems += errors
    if problems:
        raise PolicyError(problems)
    for w in warnings:
        logging.getLogger("calsync.policy").warning("calsync: warning: %s", w)
    return PolicySet(root, orgs, calendar, tuple(warnings), attendance)


def load_policies(root: Path | None = None) -> PolicySet:
    """The policies folder alone, without an instance: ``load(root)``."""
    return load(root)
