"""directory.toml rewritten with new people, everything else left as written.

The file is split at its table headers. Rooms, sections, the duty roster, comments and every
person the import does not change keep their exact text; changed people's ``[people.ID]``
tables are written anew (keeping the comment lines just above them); new people follow the
last internal person. The result is parsed back and must equal what was meant, or nothing
is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calsync.errors import CalsyncError
from calsync.policy.model import Person

_HEADER = re.compile(r"^\s*\[")
_PERSON = re.compile(r'^\s*\[\s*people\s*\.\s*"?([A-Za-z0-9_-]+)"?\s*\]\s*(#.*)?$')


class LayoutError(CalsyncError):
    """directory.toml is laid out in a way the importer cannot keep."""

    exit_code = 2


@dataclass
class _Block:
    lines: list[str]
    person: str | None = None


def _blocks(text: str) -> list[_Block]:
    lines = text.splitlines(keepends=True)
    blocks = [_Block([])]
    for line in lines:
        if _HEADER.match(line):
            # Comment lines right above a header belong to it.
            prev = blocks[-1].lines
            lead: list[str] = []
            while prev and prev[-1].lstrip().startswith("#"):
                lead.insert(0, prev.pop())
            m = _PERSON.match(line)
            blocks.append(_Block([*lead, line], m.group(1) if m else None))
        else:
            blocks[-1].lines.append(line)
    return blocks


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)   # a JSON string is a TOML basic string


def table_of(p: Person) -> dict[str, Any]:
    """The keys a person has in directory.toml (defaults left out)."""
    out: dict[str, Any] = {"name": p.name, "email": p.email}
    if p.phone:
        out["phone"] = p.phone
    if p.roles:
        out["roles"] = list(p.roles)
    if p.section:
        out["section"] = p.section
    if p.unit_head:
        out["unit_head"] = True
    if p.external:
        out["external"] = True
    if p.groups:
        out["groups"] = list(p.groups)
    if p.title:
        out["title"] = p.title
    if p.left:
        out["left"] = p.left
    return out


def render_person(p: Person) -> str:
    lines = [f"[people.{p.id}]"]
    for key, value in table_of(p).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = "[" + ", ".join(_s(v) for v in value) + "]"
        elif isinstance(value, str):
            text = _s(value)
        else:
            text = value.isoformat()   # a date: TOML local date, no quotes
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def _same_person(raw: Mapping[str, Any], p: Person) -> bool:
    want = table_of(p)
    have = dict(raw)
    if "email" in have and isinstance(have["email"], str):
        have["email"] = have["email"].strip().lower()
    for key in ("roles", "groups"):
        if have.get(key) == []:
            del have[key]
    for key in ("unit_head", "external"):
        if have.get(key) is False:
            del have[key]
    return {k: v for k, v in have.items()} == want


def rewrite(text: str, people: Mapping[str, Person], internal_after: str | None) -> str:
    """``text`` (directory.toml) with ``people`` as its people, in their order."""
    old = tomllib.loads(text)
    old_people = old.get("people", {})
    blocks = _blocks(text)
    found = [b.person for b in blocks if b.person]
    if sorted(found) != sorted(old_people) or len(set(found)) != len(found):
        raise LayoutError("directory.toml does not write every person as its own "
                          "[people.<id>] table (write them so, then import again)")
    by_id = {b.person: b for b in blocks if b.person}
    new_ids = [pid for pid in people if pid not in by_id]
    out: list[str] = []

    def emit_new() -> None:
        if out and out[-1].strip():
            out.append("\n")
        for pid in new_ids:
            out.extend([render_person(people[pid]), "\n"])

    placed = False
    for b in blocks:
        if b.person is None:
            out.extend(b.lines)
            continue
        p = people[b.person]
        if _same_person(old_people[b.person], p):
            out.extend(b.lines)
        else:
            lead = b.lines[:_header_index(b.lines)]   # the comment lines above it
            tail = _trailing_blank(b.lines)
            out.extend([*lead, render_person(p), *tail])
        if b.person == internal_after and not placed:
            if not out[-1].endswith("\n"):
                out.append("\n")
            emit_new()
            placed = True
    if not placed and new_ids:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        emit_new()
    result = "".join(out)
    _check(old, result, people)
    return result


def _header_index(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if _HEADER.match(line))


def _trailing_blank(lines: list[str]) -> list[str]:
    tail: list[str] = []
    for line in reversed(lines):
        if line.strip():
            break
        tail.insert(0, line)
    return tail or ["\n"]


def _check(old: dict[str, Any], result: str, people: Mapping[str, Person]) -> None:
    new = tomllib.loads(result)
    rest_old = {k: v for k, v in old.items() if k != "people"}
    rest_new = {k: v for k, v in new.items() if k != "people"}
    got = new.get("people", {})
    if rest_old != rest_new or list(got) != list(people) or not all(
            _same_person(got[pid], p) for pid, p in people.items()):
        raise LayoutError("directory.toml could not be rewritten without changing more than "
                          "its people (write each person as its own [people.<id>] table with "
                          "no multi-line texts, then import again)")
