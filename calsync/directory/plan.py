"""The 通讯录's rows against the organization's directory: who is added, what changed, who
left (pure). People who leave are kept with ``left = DATE`` (their history stays); external
attendees (county directors, 校长) are never in a 通讯录 and are never touched."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from calsync.directory.ids import pinyin_id, unique_id
from calsync.directory.sheet import Problem, Row, Sheet, SheetError
from calsync.policy.model import Organization, Person, Selector

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_SPLIT = re.compile(r"[、,，;；/／|]+|\s+")
_NUMBERING = re.compile(r"^([一二三四五六七八九十]+[、.．]|\(?[0-9一二三四五六七八九十]+\)[、.]?|"
                        r"[0-9]+[、.．])")
# A 通讯录 lists the leaders as a group of their own; they have no section in the directory.
_LEADER_GROUP = re.compile(r"^.{0,4}领导(班子)?(成员)?$|^班子成员$")
FIELD_NAMES = {"name": "姓名", "section": "科室", "roles": "职务", "phone": "手机",
               "email": "邮箱", "left": "离职日期"}


@dataclass(frozen=True)
class Change:
    before: Person
    after: Person
    fields: tuple[tuple[str, str, str], ...]   # (field, before, after) as text


@dataclass(frozen=True)
class Plan:
    organization: str
    rows: int
    added: tuple[tuple[int, Person], ...]      # (sheet row, person)
    changed: tuple[Change, ...]
    left: tuple[Person, ...]                   # newly marked, as they are after the import
    unchanged: int
    warnings: tuple[tuple[str, str], ...]      # (English, Chinese)
    people: dict[str, Person]                  # the directory's people afterwards, in order
    left_on: dt.date

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.left)


def section_text(org: Organization, sid: str | None) -> str:
    return org.sections[sid].name if sid and sid in org.sections else "—"


def _roles(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in _SPLIT.split(text):
        if part and part not in out:
            out.append(part)
    return tuple(out)


def _phone(text: str) -> str | None:
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MOBILE.match(digits) or _LANDLINE.match(digits) else None


@dataclass(frozen=True)
class _Entry:
    row: int
    name: str
    section: str | None
    roles: tuple[str, ...]
    phone: str
    email: str


def _entries(sheet: Sheet, org: Organization) -> list[_Entry]:
    by_name = {s.name: sid for sid, s in org.sections.items()}
    known = "、".join(s.name for s in org.sections.values()) or "（无）"
    known_en = ", ".join(s.name for s in org.sections.values()) or "(none)"
    problems: list[Problem] = []
    cols = sheet.columns
    entries: list[_Entry] = []
    heading: str | None = None

    def problem(row: Row, column: str | None, en: str, zh: str) -> None:
        problems.append(Problem(sheet.file, row.number, cols.get(column or "") if column
                                else None, en, zh))

    def section_of(text: str) -> tuple[bool, str | None]:
        bare = _NUMBERING.sub("", text).strip()
        if not bare or _LEADER_GROUP.match(bare):
            return True, None
        sid = by_name.get(bare) or (bare if bare in org.sections else None)
        return sid is not None, sid

    for row in sheet.rows:
        v = row.values
        others = [k for k in ("section", "role", "phone", "email") if v.get(k)]
        if v.get("name") and not others:
            ok, sid = section_of(v["name"])
            if ok and (sid or _LEADER_GROUP.match(_NUMBERING.sub("", v["name"]).strip())):
                heading = sid   # a heading row ("一、办公室") above its section's people
                continue
        if not v.get("name"):
            problem(row, "name", "姓名 is empty (fill it in, or delete the row)",
                    "姓名为空：请填写，或删除此行。")
            continue
        before = len(problems)
        section: str | None = heading
        if "section" in cols and v.get("section"):
            ok, section = section_of(v["section"])
            if not ok:
                problem(row, "section", f"{v['section']!r} is not a section of {org.name} "
                        f"(use one of: {known_en}; or add [sections.…] to directory.toml)",
                        f"“{v['section']}”不是{org.name}的科室，可用：{known}"
                        "（新科室请先在 directory.toml 中添加）。")
        phone = _phone(v["phone"]) if v.get("phone") else ""
        if phone is None:
            problem(row, "phone", f"{v['phone']!r} is not a phone number (write one "
                    "mobile number of 11 digits, e.g. 13800138000)",
                    f"“{v['phone']}”不是有效的手机号：请填写一个11位手机号，如 13800138000。")
        email = v.get("email", "").lower()
        if email and not _EMAIL.match(email):
            problem(row, "email", f"{v['email']!r} is not a mail address (write "
                    "name@domain, e.g. zhang.wei@jyj.gov.cn)",
                    f"“{v['email']}”不是有效的邮箱地址，请按 name@domain 格式填写。")
        if len(problems) > before or phone is None:
            continue
        entries.append(_Entry(row.number, v["name"], section, _roles(v.get("role", "")),
                              phone, email))
    _duplicates(sheet, entries, problems)
    if problems:
        raise SheetError(problems)
    return entries


def _duplicates(sheet: Sheet, entries: list[_Entry], problems: list[Problem]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for e in entries:
        keys = [("email", e.email), ("phone", e.phone)] if (e.email or e.phone) else \
            [("name", f"{e.name}|{e.section}")]
        for kind, value in keys:
            if not value:
                continue
            first = seen.setdefault((kind, value), e.row)
            if first != e.row:   # one message a row, naming the first thing repeated
                label = {"email": "邮箱", "phone": "手机", "name": "姓名"}[kind]
                problems.append(Problem(
                    sheet.file, e.row, sheet.columns.get(kind),
                    f"repeats row {first} ({e.name}, same {label}): delete one of the two rows",
                    f"与第{first}行重复（{e.name}，{label}相同）：请删除其中一行。"))
                break


def _match(entries: list[_Entry], org: Organization) -> dict[int, str]:
    """Sheet row → existing person id: by 邮箱, then 手机, then 姓名 + 科室 (if unique)."""
    internal = [p for p in org.people.values() if not p.external]
    matched: dict[int, str] = {}
    used: set[str] = set()
    keys = (lambda e, p: bool(e.email) and e.email == p.email.lower(),
            lambda e, p: bool(e.phone) and e.phone == p.phone,
            lambda e, p: e.name == p.name and e.section == p.section)
    for same in keys:
        for e in entries:
            if e.row in matched:
                continue
            hits = [p.id for p in internal if p.id not in used and same(e, p)]
            if len(hits) == 1:
                matched[e.row] = hits[0]
                used.add(hits[0])
    return matched


def _updated(org: Organization, person: Person, e: _Entry, has: set[str]) -> Person:
    roles = person.roles
    if "role" in has and e.roles and not set(e.roles) <= set(person.roles):
        # The 通讯录 gives posts; party memberships (党委委员 …, not in role_rank) stay.
        rank = set(org.role_rank)
        roles = e.roles + tuple(r for r in person.roles if r not in rank and r not in e.roles)
    return replace(
        person, name=e.name, roles=roles,
        section=e.section if "section" in has else person.section,
        phone=e.phone or person.phone, email=e.email or person.email, left=None)


def _text(field: str, value: object, org: Organization) -> str:
    if field == "section":
        return section_text(org, value)  # type: ignore[arg-type]
    if field == "roles":
        return "、".join(value) or "—"  # type: ignore[arg-type]
    return str(value) if value else "—"


def make_plan(sheet: Sheet, org: Organization, left_on: dt.date) -> Plan:
    entries = _entries(sheet, org)
    has = set(sheet.columns)
    matched = _match(entries, org)
    taken = set(org.people)
    people = dict(org.people)
    added: list[tuple[int, Person]] = []
    changed: list[Change] = []
    problems: list[Problem] = []
    for e in entries:
        pid = matched.get(e.row)
        if pid is not None:
            before = org.people[pid]
            after = _updated(org, before, e, has)
            fields = tuple((f, _text(f, getattr(before, f), org), _text(f, getattr(after, f), org))
                           for f in ("name", "section", "roles", "phone", "email", "left")
                           if getattr(before, f) != getattr(after, f))
            if fields:
                changed.append(Change(before, after, fields))
                people[pid] = after
            continue
        if not e.email:
            problems.append(Problem(sheet.file, e.row, sheet.columns.get("email", "邮箱"),
                                    f"{e.name} is new and has no 邮箱 (calendars invite by "
                                    "mail: fill it in)",
                                    f"{e.name}是新增人员，邮箱为空：日历邀请按邮箱发送，请填写。"))
            continue
        pid = unique_id(pinyin_id(e.name), taken)
        taken.add(pid)
        person = Person(pid, e.name, e.email, roles=e.roles, section=e.section, phone=e.phone)
        added.append((e.row, person))
    if problems:
        raise SheetError(problems)
    still = set(matched.values())
    left = []
    for pid, p in org.people.items():
        if not p.external and p.left is None and pid not in still:
            people[pid] = replace(p, left=left_on)
            left.append(people[pid])
    people = _ordered(org, people, [p for _, p in added])
    unchanged = len(entries) - len(added) - len(changed)
    plan = Plan(org.id, len(entries), tuple(added), tuple(changed), tuple(left), unchanged, (),
                people, left_on)
    return replace(plan, warnings=tuple(warnings(org, plan)))


def _ordered(org: Organization, people: dict[str, Person], new: list[Person]) -> dict[str, Person]:
    """Existing people in their order; new ones after the last internal person."""
    order = list(org.people)
    last = max((i for i, pid in enumerate(order) if not org.people[pid].external), default=-1)
    ids = order[:last + 1] + [p.id for p in new] + order[last + 1:]
    return {pid: people.get(pid) or next(p for p in new if p.id == pid) for pid in ids}


def warnings(org: Organization, plan: Plan) -> list[tuple[str, str]]:
    """Leavers still named as chief, 分管, duty leader or director; posts that now invite a
    person to confidential meetings."""
    out: list[tuple[str, str]] = []
    posts: list[tuple[str | None, str, str]] = []
    for sid, s in org.sections.items():
        posts.append((s.chief, f"sections.{sid}.chief", f"{s.name}负责人"))
        posts.append((s.supervisor, f"sections.{sid}.supervisor", f"{s.name}分管领导"))
    posts.append((org.director, "organization.toml director", "主要负责人"))
    if org.roster:
        for pid in org.roster.rotation:
            posts.append((pid, "duty_roster.rotation", "值班领导轮值"))
    for p in plan.left:
        for holder, key, zh in posts:
            if holder == p.id:
                out.append((f"{p.name} ({p.id}) leaves but is still {key}: name someone else "
                            "in directory.toml",
                            f"{p.name}已离职，但仍是{zh}（{key}）："
                            "请在 directory.toml 中改为他人。"))
    secret = _confidential_roles(org)
    for person, before in [(p, ()) for _, p in plan.added] + \
            [(c.after, c.before.roles) for c in plan.changed]:
        gained = [r for r in person.roles if r in secret and r not in before]
        for r in gained:
            out.append((f"{person.name} ({person.id}) becomes {r}: invited to the confidential "
                        f"{secret[r]}",
                        f"{person.name}新任{r}，将被邀请参加保密会议“{secret[r]}”，请核实。"))
    return out


def _confidential_roles(org: Organization) -> dict[str, str]:
    roles: dict[str, str] = {}
    for mt in org.meeting_types.values():
        if not mt.confidential:
            continue
        sels: list[Selector] = [*mt.chairs, *(a.selector for a in mt.attendees)]
        for sel in sels:
            if sel.kind in ("role", "supervisor") and sel.arg:
                roles.setdefault(sel.arg, mt.name)
    return roles
