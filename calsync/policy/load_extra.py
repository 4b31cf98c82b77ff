"""Policy keys about people and words: who may request / approve a category, confirmation,
the joint agenda, and an organization's own words (篇一 科室/主任 vs 篇二 股室/局长)."""

from __future__ import annotations

from typing import Any

from calsync.policy.model import Organization, Words
from calsync.policy.reader import Reader

REQUESTER_WORDS = ("any_section", "organizer")
APPROVER_WORDS = ("supervisor", "director")
WORD_KEYS = ("section", "office", "director_title", "request_clause", "discipline_source")
_PEOPLE_PREFIXES = ("role", "person")


def _named(value: Any, words: tuple[str, ...]) -> bool:
    if not isinstance(value, str):
        return False
    if value in words:
        return True
    kind, _, arg = value.partition(":")
    return kind in _PEOPLE_PREFIXES and bool(arg)


def meeting_type_keys(r: Reader, t: dict[str, Any], p: str) -> dict[str, Any]:
    """The MeetingType fields these keys fill (checked; problems go to ``r``)."""
    out: dict[str, Any] = {}
    raw = t.get("requested_by", [])
    if not isinstance(raw, list) or not all(_named(v, REQUESTER_WORDS) for v in raw):
        r.problem(f"{p}.requested_by", f"{raw!r} does not name who may request it",
                  'write requested_by = ["organizer", "role:党委书记"] (any_section, organizer, '
                  "role:…, person:…)")
        raw = []
    out["requested_by"] = tuple(raw)
    approver = t.get("approved_by", "supervisor")
    if not _named(approver, APPROVER_WORDS):
        r.problem(f"{p}.approved_by", f"{approver!r} does not name an approver",
                  'write approved_by = "supervisor", "director" or "role:…"/"person:…"')
        approver = "supervisor"
    out["approved_by"] = approver
    out["needs_confirmation"] = r.text(t, p, "needs_confirmation", default="") or ""
    if "joint_agenda" in t:
        out["joint_agenda"] = tuple(r.text_list(t, p, "joint_agenda"))
    return out


def words(r: Reader, d: dict[str, Any]) -> Words:
    t = r.table(d, "", "words", required=False)
    r.unknown_keys(t, "words", WORD_KEYS)
    given = {k: r.text(t, "words", k, default=None) for k in WORD_KEYS}
    return Words(**{k: v for k, v in given.items() if v is not None})


def check_people_keys(org: Organization, meetr: Reader) -> None:
    """requested_by / approved_by must name somebody in the directory."""
    for mid, mt in org.meeting_types.items():
        named = [(f"requested_by[{i}]", v) for i, v in enumerate(mt.requested_by)]
        named.append(("approved_by", mt.approved_by))
        for key, value in named:
            kind, _, arg = value.partition(":")
            if kind == "role" and not any(arg in p.roles for p in org.people.values()):
                meetr.problem(f"meeting_types.{mid}.{key}",
                              f"nobody in directory.toml has the role {arg!r}",
                              "add the role to a person's roles, or fix the spelling")
            elif kind == "person" and arg not in org.people:
                meetr.problem(f"meeting_types.{mid}.{key}", f"no person {arg!r}",
                              f"add [people.{arg}] to directory.toml or fix the id")
        if (mt.requested_by or mt.approved_by != "supervisor") and not mt.on_demand:
            key = "requested_by" if mt.requested_by else "approved_by"
            meetr.problem(f"meeting_types.{mid}.{key}",
                          "only on-demand types are requested",
                          "set on_demand = true or remove requested_by/approved_by")

