"""Policies: the regulations as data. ``load_policies`` is the one entry point."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from calsync.calendar.workdays import WorkCalendar
from calsync.errors import PolicyError, PolicyProblem
from calsync.policy.holiday_tables import load_holiday_tables
from calsync.policy.load import load_organizations
from calsync.policy.model import Organization
from calsync.settings import policies_path, shipped_policies


@dataclass(frozen=True)
class PolicySet:
    root: Path
    organizations: dict[str, Organization]
    calendar: WorkCalendar
    # checks that do not stop loading (calsync.policy.checks), as FILE: KEY: problem (fix)
    warnings: tuple[PolicyProblem, ...] = ()


__all__ = ["PolicySet", "load_policies", "policies_path", "shipped_policies"]


def load_policies(root: Path | None = None) -> PolicySet:
    """Load and check every organization under ``root``; raise one PolicyError listing all."""
    root = policies_path(root)
    problems: list[PolicyProblem] = []
    orgs = load_organizations(root, problems)
    # A policies folder may bring its own holiday years; they replace the shipped ones.
    holiday_folders = [shipped_policies() / "holidays", root / "holidays"]
    calendar = load_holiday_tables(holiday_folders, problems)
    if not problems:
        from calsync.policy.checks import check_policies

        errors, warnings = check_policies(root, orgs, dict.fromkeys(holiday_folders))
        problems += errors
    if problems:
        raise PolicyError(problems)
    for w in warnings:
        logging.getLogger("calsync.policy").warning("calsync: warning: %s", w)
    return PolicySet(root, orgs, calendar, tuple(warnings))
