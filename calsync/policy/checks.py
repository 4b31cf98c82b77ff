"""Checks across files and organizations that loading one file cannot see (issue 14).

Called once, from ``calsync.policy.load``. Errors are ``PolicyProblem``s like any other (exit 2,
``FILE: KEY: problem (fix)``); warnings are the same lines, logged and kept on the PolicySet.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from calsync.errors import PolicyProblem
from calsync.policy.model import Organization

# A clock a little ahead of the policy author's is not "the future".
REVISED_SLACK = dt.timedelta(days=1)


def check_policies(root: Path, orgs: Mapping[str, Organization],
                   holiday_folders: Iterable[Path], now: dt.datetime | None = None
                   ) -> tuple[list[PolicyProblem], list[PolicyProblem]]:
    """(errors, warnings) of the loaded organizations and holiday tables."""
    now = now or dt.datetime.now(dt.UTC)
    errors: list[PolicyProblem] = []
    warnings: list[PolicyProblem] = []
    errors += shared_people(root, orgs)
    for org in orgs.values():
        errors += duty_roster_gaps(root, org)
        warnings += revised_in_future(root, org, now)
    for folder in holiday_folders:
        errors += holiday_overlaps(folder)
    return errors, warnings


def shared_people(root: Path, orgs: Mapping[str, Organization]) -> list[PolicyProblem]:
    """One person id in two organizations: logins are by person id, so the second one's
    person could never sign in (and access would follow whichever loaded first)."""
    out = []
    seen: dict[str, str] = {}
    for org_id in sorted(orgs):
        for pid, person in orgs[org_id].people.items():
            first = seen.get(pid)
            if first is None:
                seen[pid] = org_id
            elif not person.external or not orgs[first].people[pid].external:
                out.append(PolicyProblem(
                    str(root / org_id / "directory.toml"), f"people.{pid}",
                    f"person id {pid!r} is also in {first} ({root / first / 'directory.toml'})",
                    "give one of them another id: ids are user names and must be unique "
                    "across organizations"))
    return out


def duty_roster_gaps(root: Path, org: Organization) -> list[PolicyProblem]:
    """A meeting chaired only by 当月值班领导 needs a duty roster that names somebody every
    month (a missing roster is already the loader's problem; an empty one its too)."""
    needs = [mt for mt in org.meeting_types.values()
             if mt.chairs and all(s.kind == "duty_leader" for s in mt.chairs)]
    if not needs:
        return []
    names = "、".join(mt.name for mt in needs)
    where = str(root / org.id / "directory.toml")
    roster = org.roster
    if roster is None or (not roster.rotation and not roster.months):
        return [PolicyProblem(
            where, "duty_roster", f"no duty roster, so {names} would be generated without a "
            f"chair (chair = \"duty_leader\" in meetings.toml)",
            "add [duty_roster] with rotation = [\"<person id>\", ...]")]
    if not roster.rotation:
        last = max(roster.months)
        return [PolicyProblem(
            where, "duty_roster.rotation", f"empty: every month not listed in "
            f"duty_roster.months (all after {last[0]}-{last[1]:02d}) has no duty leader, so "
            f"{names} would be generated without a chair",
            "add rotation = [\"<person id>\", ...]; listed months still win")]
    return []


def revised_in_future(root: Path, org: Organization, now: dt.datetime) -> list[PolicyProblem]:
    """``revised`` is every event's DTSTAMP: a future one outranks later real edits."""
    if org.revised <= now + REVISED_SLACK:
        return []
    return [PolicyProblem(
        str(root / org.id / "organization.toml"), "revised",
        f"{org.revised.isoformat()} is in the future (every event's DTSTAMP comes from it)",
        "write when the policy was really last revised")]


def holiday_overlaps(folder: Path) -> list[PolicyProblem]:
    """Two holiday ranges of one table sharing a day: the later name would silently win."""
    out: list[PolicyProblem] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue  # reported by the loader
        ranges = []
        for i, h in enumerate(data.get("holidays") or []):
            if not isinstance(h, dict):
                continue
            start, end = h.get("start"), h.get("end")
            if isinstance(start, dt.date) and isinstance(end, dt.date) and start <= end:
                ranges.append((start, end, i, str(h.get("name", ""))))
        ranges.sort()
        for (s1, e1, i1, n1), (s2, e2, i2, n2) in itertools.pairwise(ranges):
            if s2 <= e1:
                out.append(PolicyProblem(
                    str(path), f"holidays[{i2}]",
                    f"{n2} {s2}–{e2} overlaps holidays[{i1}] {n1} {s1}–{e1}",
                    "fix the dates so each day belongs to one holiday"))
    return out
