"""Who takes sign-in and to whom attendance is reported: ``<org>/attendance.toml``, read and
checked by ``calsync.policy.load`` with the other policy files (resolved to people by
calsync.meetings.attendance_policy).

篇二 四.1: "基层业务工作会由主办股室站办安排专人负责会议签到"; 四.2: "全局干部职工会和全县
教育工作会由教育督导室安排专人负责会议签到。会议考勤情况须及时向局长报告". The file is optional;
without it the organizer section (办公室/秘书科) keeps the sheet and the director (局长/主任)
gets the report.

    [attendance]                 # the organization's defaults
    # keeper: organizer | holding_section | section:<id> | role:<role> | person:<id>
    keeper = "organizer"
    report_to = "director"       # director | organizer | role:<role> | person:<id>
    opens_minutes_before = 30    # sign-in opens this long before the start
    late_after_minutes = 0       # a sign-in later than start + this is 迟到
    closes_minutes_after_end = 0 # sign-in closes this long after the end

    [attendance.meeting_types.ganbu]   # any of the keys above, for one meeting type
    keeper = "section:ducha"

Every problem names the file and the key (calsync.policy.reader).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calsync.errors import PolicyProblem
from calsync.occurrence import Occurrence
from calsync.policy.model import Organization
from calsync.policy.reader import Reader

FILE = "attendance.toml"
KEYER_WORDS = ("organizer", "holding_section")
REPORT_WORDS = ("director", "organizer")
KEYS = ("keeper", "report_to", "opens_minutes_before", "late_after_minutes",
        "closes_minutes_after_end")


@dataclass(frozen=True)
class Rules:
    keeper: str = "organizer"
    report_to: str = "director"
    opens_minutes_before: int = 30
    late_after_minutes: int = 0
    closes_minutes_after_end: int = 0


@dataclass(frozen=True)
class OrgRules:
    default: Rules
    by_type: dict[str, Rules]

    def for_occurrence(self, occ: Occurrence) -> Rules:
        for t in occ.meeting_types:
            if t in self.by_type:
                return self.by_type[t]
        return self.default


def default_rules(org: Organization) -> OrgRules:
    """The rules of an organization without attendance.toml."""
    return OrgRules(Rules(report_to=_default_report(org)), {})


def load_attendance(root: Path, orgs: dict[str, Organization],
                    problems: list[PolicyProblem]) -> dict[str, OrgRules]:
    """Each organization's rules (its defaults without the file); problems go to ``problems``."""
    out = {}
    for org_id, org in orgs.items():
        path = root / org_id / FILE
        rules = _load(path, org, f"{org_id}/{FILE}", problems) if path.is_file() else None
        out[org_id] = rules or default_rules(org)
    return out


def _default_report(org: Organization) -> str:
    return "director" if org.director else "organizer"


def _load(path: Path, org: Organization, label: str,
          problems: list[PolicyProblem]) -> OrgRules | None:
    before = len(problems)
    r = Reader(path, label, problems)
    if not r.load():
        return None
    r.unknown_keys(r.data, "", ("attendance",))
    top = r.table(r.data, "", "attendance", required=False)
    r.unknown_keys(top, "attendance", (*KEYS, "meeting_types"))
    default = _rules(r, org, top, "attendance", Rules(report_to=_default_report(org)))
    by_type = {}
    types = r.table(top, "attendance", "meeting_types", required=False)
    for mid, t in types.items():
        p = f"attendance.meeting_types.{mid}"
        if mid not in org.meeting_types:
            r.problem(p, f"{org.id} has no meeting type {mid!r}",
                      f"use one of {', '.join(sorted(org.meeting_types))}")
            continue
        if not isinstance(t, dict):
            r.problem(p, "must be a table", f"write it as [{p}] with keys below it")
            continue
        r.unknown_keys(t, p, KEYS)
        by_type[mid] = _rules(r, org, t, p, default)
    if len(problems) > before:
        return None
    return OrgRules(default, by_type)


def _rules(r: Reader, org: Organization, t: dict[str, Any], p: str, base: Rules) -> Rules:
    out: dict[str, Any] = {}
    if "keeper" in t:
        out["keeper"] = _who(r, org, t, p, "keeper", KEYER_WORDS, sections=True)
    if "report_to" in t:
        out["report_to"] = _who(r, org, t, p, "report_to", REPORT_WORDS, sections=False)
    for key, high in (("opens_minutes_before", 24 * 60), ("late_after_minutes", 120),
                      ("closes_minutes_after_end", 24 * 60)):
        if key in t:
            out[key] = r.integer(t, p, key, 0, high)
    return dataclasses.replace(base, **{k: v for k, v in out.items() if v is not None})


def _who(r: Reader, org: Organization, t: dict[str, Any], p: str, key: str,
         words: tuple[str, ...], *, sections: bool) -> str | None:
    value = t[key]
    kinds = ("section", "role", "person") if sections else ("role", "person")
    fix = (f'write {key} = "{words[0]}", ' + ", ".join(f'"{w}"' for w in words[1:])
           + ", or " + ", ".join(f'"{k}:…"' for k in kinds))
    if not isinstance(value, str):
        r.problem(f"{p}.{key}", f"must be text, not {value!r}", fix)
        return None
    if value in words:
        if value == "director" and not org.director:
            r.problem(f"{p}.{key}", f"{org.id} names no director in organization.toml",
                      'add director = "<person id>" there, or name a person here')
            return None
        return value
    kind, _, arg = value.partition(":")
    if kind not in kinds or not arg:
        r.problem(f"{p}.{key}", f"{value!r} does not name who", fix)
        return None
    if kind == "section" and arg not in org.sections:
        r.problem(f"{p}.{key}", f"there is no section {arg!r}",
                  f"use one of {', '.join(sorted(org.sections))}")
        return None
    if kind == "person" and arg not in org.people:
        r.problem(f"{p}.{key}", f"there is no person {arg!r}",
                  f"add [people.{arg}] to directory.toml or fix the id")
        return None
    if kind == "role" and not any(arg in q.roles for q in org.people.values()):
        r.problem(f"{p}.{key}", f"nobody in directory.toml has the role {arg!r}",
                  "add the role to a person's roles, or fix the spelling")
        return None
    return value
