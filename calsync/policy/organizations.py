"""Policy files → :class:`Organization` objects, with every problem reported at once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from calsync.errors import PolicyProblem
from calsync.policy.load_extra import check_people_keys, meeting_type_keys, words
from calsync.policy.model import (
    ON_HOLIDAY,
    ROLES,
    SELECTOR_PREFIXES,
    SELECTOR_WORDS,
    AttendeeSpec,
    Deadline,
    DutyRoster,
    MeetingType,
    Organization,
    Person,
    RequestRules,
    Room,
    Schedule,
    Section,
    Selector,
    Semester,
)
from calsync.policy.reader import Reader
from calsync.policy.references import check_references

ORG_FILES = ("organization.toml", "directory.toml", "meetings.toml")
SCHEDULE_KINDS = ("weekly", "after", "yearly-window", "before-spring-festival")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def load_organizations(root: Path, problems: list[PolicyProblem]) -> dict[str, Organization]:
    """Every ``<root>/<id>/organization.toml`` folder; problems are appended, not raised."""
    orgs: dict[str, Organization] = {}
    if not root.is_dir():
        problems.append(PolicyProblem(str(root), "(folder)", "policy folder does not exist",
                                      "pass --policies DIR or set CALSYNC_POLICIES"))
        return orgs
    folders = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name == "holidays" or folder.name.startswith((".", "_")):
            continue
        if (folder / "organization.toml").is_file():
            folders.append(folder)
        elif any(folder.glob("*.toml")):
            # A deleted or misspelt organization.toml must not silently drop an organization.
            problems.append(PolicyProblem(str(folder / "organization.toml"), "(file)",
                                          "file is missing", "create it (id, name, revised, "
                                          "organizer) or remove the folder"))
    if not folders and not problems:
        problems.append(PolicyProblem(str(root), "(folder)", "holds no organization",
                                      "add a folder <id>/ with organization.toml, directory.toml"
                                      " and meetings.toml"))
    for folder in folders:
        org = _load_org(folder, problems)
        if org is not None:
            orgs[org.id] = org
    return orgs


def _load_org(folder: Path, problems: list[PolicyProblem]) -> Organization | None:
    before = len(problems)
    readers = {name: Reader(folder / name, str(folder / name), problems) for name in ORG_FILES}
    if not all([r.load() for r in readers.values()]):
        return None
    org_r, dir_r, meet_r = readers.values()
    d = org_r.data
    org_r.unknown_keys(d, "", ("id", "name", "short_name", "regulation", "calendar_name",
                               "revised", "organizer", "alarm_minutes", "discipline",
                               "requests", "semesters", "uid_domain", "director",
                               "publish_interval_minutes", "feed_refresh_minutes", "words"))
    org_id = org_r.ident(d, "", "id")
    if org_id is not None and org_id != folder.name:
        org_r.problem("id", f"{org_id!r} differs from the folder name {folder.name!r}",
                      f'rename the folder or write id = "{folder.name}"')
    revised = d.get("revised")
    if not isinstance(revised, dt.datetime) or revised.tzinfo is None:
        org_r.problem("revised", f"{revised!r} is not a date-time with an offset",
                      "write e.g. revised = 2026-11-01T09:00:00+08:00 (no quotes)")
        revised = None
    directory = _load_directory(dir_r)
    meeting_types = _load_meeting_types(meet_r)
    deadlines = _load_deadlines(meet_r)
    meet_r.unknown_keys(meet_r.data, "", ("meeting_types", "deadlines"))
    requests = _load_requests(org_r, org_r.table(d, "", "requests", required=False))
    org = Organization(
        id=org_id or folder.name,
        name=org_r.text(d, "", "name") or "",
        short_name=org_r.text(d, "", "short_name", default="") or "",
        regulation=org_r.text(d, "", "regulation", default="") or "",
        revised=revised or dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        organizer=org_r.ident(d, "", "organizer") or "",
        alarm_minutes=org_r.integer(d, "", "alarm_minutes", 0, 1440, default=10) or 0,
        publish_interval_minutes=org_r.integer(d, "", "publish_interval_minutes", 1, 1440,
                                               default=10) or 10,
        feed_refresh_minutes=org_r.integer(d, "", "feed_refresh_minutes", 5, 10080,
                                           default=60) or 60,
        discipline=tuple(org_r.text_list(d, "", "discipline", default=[])),
        calendar_name=org_r.text(d, "", "calendar_name", default="") or "",
        requests=requests,
        semesters=_load_semesters(org_r, d.get("semesters", [])),
        uid_domain=org_r.text(d, "", "uid_domain", default="") or "",
        director=org_r.ident(d, "", "director", default=None),
        meeting_types=meeting_types,
        deadlines=deadlines,
        words=words(org_r, d),
        **directory,
    )
    if len(problems) > before:
        return None  # cross-references of a broken file would only add noise
    check_references(org, readers, problems)
    check_people_keys(org, meet_r)
    return org if len(problems) == before else None


def _load_requests(r: Reader, t: dict[str, Any]) -> RequestRules:
    r.unknown_keys(t, "requests", ("min_lead_days", "max_lead_days", "merge_share"))
    low = r.integer(t, "requests", "min_lead_days", 0, 60, default=1)
    high = r.integer(t, "requests", "max_lead_days", 0, 365, default=3)
    share = t.get("merge_share", 0.8)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        r.problem("requests.merge_share", f"must be a share above 0 and at most 1, not {share!r}",
                  "write merge_share = 0.8")
        share = 0.8
    if low is not None and high is not None and low > high:
        r.problem("requests.min_lead_days", f"{low} is more than max_lead_days {high}",
                  "make min_lead_days ≤ max_lead_days")
    return RequestRules(low or 0, high or 0, float(share))


def _load_semesters(r: Reader, raw: Any) -> tuple[Semester, ...]:
    if not isinstance(raw, list):
        r.problem("semesters", "must be a list of [[semesters]] tables",
                  'write [[semesters]] with name, start and end')
        return ()
    out = []
    for i, t in enumerate(raw):
        path = f"semesters[{i}]"
        if not isinstance(t, dict):
            r.problem(path, "must be a table", "write [[semesters]] with name, start and end")
            continue
        r.unknown_keys(t, path, ("name", "start", "end"))
        name, start, end = r.text(t, path, "name"), r.date(t, path, "start"), r.date(t, path, "end")
        if start and end and end < start:
            r.problem(f"{path}.end", f"{end} is before start {start}", "swap start and end")
        elif name and start and end:
            out.append(Semester(name, start, end))
    return tuple(out)


def _load_directory(r: Reader) -> dict[str, Any]:
    d = r.data
    r.unknown_keys(d, "", ("role_rank", "rooms", "sections", "people", "duty_roster"))
    rooms = {}
    for rid, t in _entries(r, d, "rooms"):
        r.unknown_keys(t, f"rooms.{rid}", ("name", "capacity"))
        rooms[rid] = Room(rid, r.text(t, f"rooms.{rid}", "name") or "",
                          r.integer(t, f"rooms.{rid}", "capacity", 1, 100000, default=None))
    sections = {}
    for sid, t in _entries(r, d, "sections"):
        p = f"sections.{sid}"
        r.unknown_keys(t, p, ("name", "email", "chief", "supervisor", "room"))
        sections[sid] = Section(sid, r.text(t, p, "name") or "", _email(r, t, p),
                                r.ident(t, p, "chief", default=None),
                                r.ident(t, p, "supervisor", default=None),
                                r.ident(t, p, "room", default=None))
    people = {}
    for pid, t in _entries(r, d, "people"):
        p = f"people.{pid}"
        r.unknown_keys(t, p, ("name", "email", "roles", "section", "unit_head", "external",
                              "groups", "title", "phone", "left"))
        people[pid] = Person(
            pid, r.text(t, p, "name") or "", _email(r, t, p),
            roles=tuple(r.text_list(t, p, "roles", default=[])),
            section=r.ident(t, p, "section", default=None),
            unit_head=bool(r.boolean(t, p, "unit_head", default=False)),
            external=bool(r.boolean(t, p, "external", default=False)),
            groups=tuple(r.text_list(t, p, "groups", default=[])),
            title=r.text(t, p, "title", default="") or "",
            phone=_phone(r, t, p),
            left=r.date(t, p, "left", default=None),
        )
    return {"rooms": rooms, "sections": sections, "people": people,
            "roster": _load_roster(r, d), "role_rank": tuple(r.text_list(d, "", "role_rank",
                                                                        default=[]))}


def _load_roster(r: Reader, d: dict[str, Any]) -> DutyRoster | None:
    if "duty_roster" not in d:
        return None
    t = r.table(d, "", "duty_roster")
    r.unknown_keys(t, "duty_roster", ("rotation", "anchor_month", "months"))
    rotation = tuple(r.text_list(t, "duty_roster", "rotation", default=[]))
    anchor = _month(r, "duty_roster.anchor_month", t.get("anchor_month", "2026-01"))
    months = {}
    for key, pid in r.table(t, "duty_roster", "months", required=False).items():
        month = _month(r, f"duty_roster.months.{key}", key)
        if not isinstance(pid, str):
            r.problem(f"duty_roster.months.{key}", f"must be a person id, not {pid!r}",
                      'write "2026-02" = "<person id>"')
        elif month:
            months[month] = pid
    if not rotation and not months:
        r.problem("duty_roster", "names nobody", "give a rotation list or months")
    return DutyRoster(rotation, anchor or (2026, 1), months)


def _month(r: Reader, key: str, value: Any) -> tuple[int, int] | None:
    m = _MONTH.match(value) if isinstance(value, str) else None
    if not m:
        r.problem(key, f"{value!r} is not a month", 'write it as "YYYY-MM", e.g. "2026-02"')
        return None
    return int(m.group(1)), int(m.group(2))


def _load_meeting_types(r: Reader) -> dict[str, MeetingType]:
    out = {}
    allowed = ("name", "clause", "agenda", "confidential", "chair", "chair_text", "attendees",
               "location", "duration_minutes", "alarm_minutes", "per_section", "on_demand",
               "schedules", "convener", "notifier", "recorder", "sign_in", "approval", "notes",
               "requested_by", "approved_by", "needs_confirmation", "joint_agenda")
    for mid, t in _entries(r, r.data, "meeting_types"):
        p = f"meeting_types.{mid}"
        r.unknown_keys(t, p, allowed)
        duration = r.integer(t, p, "duration_minutes", 5, 24 * 60, default=60) or 60
        chairs = _chairs(r, p, t.get("chair"))
        out[mid] = MeetingType(
            id=mid, name=r.text(t, p, "name") or "", clause=_clause(r, t, p),
            agenda=tuple(r.text_list(t, p, "agenda", default=[])),
            confidential=bool(r.boolean(t, p, "confidential", default=False)),
            chair=chairs[0] if chairs else None, chair_else=chairs[1:],
            chair_text=r.text(t, p, "chair_text", default="") or "",
            attendees=_attendees(r, t, p),
            location=r.ident(t, p, "location", default=None),
            duration_minutes=duration,
            alarm_minutes=r.integer(t, p, "alarm_minutes", 0, 10080, default=None),
            per_section=bool(r.boolean(t, p, "per_section", default=False)),
            on_demand=bool(r.boolean(t, p, "on_demand", default=False)),
            schedules=_schedules(r, t, p, mid, duration),
            convener=r.text(t, p, "convener", default="") or "",
            notifier=r.text(t, p, "notifier", default="") or "",
            recorder=r.text(t, p, "recorder", default="") or "",
            sign_in=r.text(t, p, "sign_in", default="") or "",
            approval=r.text(t, p, "approval", default="") or "",
            notes=tuple(r.text_list(t, p, "notes", default=[])),
            **meeting_type_keys(r, t, p),
        )
    return out


def _chairs(r: Reader, p: str, raw: Any) -> tuple[Selector, ...]:
    """``chair = "role:…"`` or a list tried in order (the first that names somebody)."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        found = [_selector(r, f"{p}.chair[{i}]", v) for i, v in enumerate(raw)]
        if not raw:
            r.problem(f"{p}.chair", "is an empty list",
                      'write chair = "role:…" or a list, e.g. '
                      '["supervisor:副局长", "section_chief"]')
        return tuple(s for s in found if s is not None)
    one = _selector(r, f"{p}.chair", raw)
    return (one,) if one is not None else ()


def _schedules(r: Reader, t: dict, p: str, mid: str, duration: int) -> tuple[Schedule, ...]:
    raw = t.get("schedules", [])
    if not isinstance(raw, list):
        r.problem(f"{p}.schedules", "must be a list of tables",
                  f"write each as [[{p}.schedules]]")
        return ()
    out, seen = [], set()
    allowed = ("id", "kind", "time", "duration_minutes", "weekday", "interval", "anchor",
               "on_holiday", "makeup_weekends", "after", "month", "last_days",
               "prefer_weekday", "working_days_before", "count_makeup_days", "also_types")
    for i, s in enumerate(raw):
        sp = f"{p}.schedules[{i}]"
        if not isinstance(s, dict):
            r.problem(sp, "must be a table", f"write it as [[{p}.schedules]]")
            continue
        r.unknown_keys(s, sp, allowed)
        if "id" not in s and len(raw) > 1:
            r.problem(f"{sp}.id", "is required when a type has several schedules",
                      'write id = "…" (e.g. "mon", "fri")')
            continue
        sid = r.ident(s, sp, "id", default=mid)
        if sid is None:
            continue
        if sid in seen:
            r.problem(f"{sp}.id", f"{sid!r} is used twice", "give each schedule its own id")
        seen.add(sid)
        kind = r.choice(s, sp, "kind", SCHEDULE_KINDS)
        needs_time = kind in ("weekly", "yearly-window", "before-spring-festival")
        sched = Schedule(
            id=sid, kind=kind or "weekly",
            time=r.time(s, sp, "time") if needs_time else r.time(s, sp, "time", default=None),
            duration_minutes=r.integer(s, sp, "duration_minutes", 5, 1440, default=duration)
            or duration,
            weekday=r.weekday(s, sp, "weekday") if kind == "weekly" else None,
            interval=r.integer(s, sp, "interval", 1, 52, default=1) or 1,
            anchor=r.date(s, sp, "anchor", default=None),
            on_holiday=r.choice(s, sp, "on_holiday", ON_HOLIDAY, default="next-in-week")
            or "skip",
            makeup_weekends=bool(r.boolean(s, sp, "makeup_weekends", default=False)),
            after=r.ident(s, sp, "after") if kind == "after" else None,
            month=r.integer(s, sp, "month", 1, 12) if kind == "yearly-window" else None,
            last_days=r.integer(s, sp, "last_days", 1, 28, default=7),
            prefer_weekday=r.weekday(s, sp, "prefer_weekday", default="TH"),
            working_days_before=r.integer(s, sp, "working_days_before", 1, 60, default=3),
            count_makeup_days=bool(r.boolean(s, sp, "count_makeup_days", default=False)),
            also_types=tuple(r.text_list(s, sp, "also_types", default=[])),
        )
        if kind == "before-spring-festival" and "count_makeup_days" not in s:
            # Counting 调休 Saturdays or not moves the meeting: the policy must say which.
            r.problem(f"{sp}.count_makeup_days", "is required for kind = before-spring-festival",
                      "write count_makeup_days = false (调休 working weekends not counted) "
                      "or true")
        elif kind != "before-spring-festival" and "count_makeup_days" in s:
            r.problem(f"{sp}.count_makeup_days", "only applies to kind = before-spring-festival",
                      "remove it")
        if sched.kind == "weekly" and sched.interval > 1 and "anchor" not in s:
            r.problem(f"{sp}.anchor", f"is required with interval = {sched.interval}",
                      "give the date of one occurrence, e.g. anchor = 2026-01-07")
        if (sched.kind == "weekly" and sched.anchor and sched.weekday is not None
                and sched.anchor.weekday() != sched.weekday):
            r.problem(f"{sp}.anchor", f"{sched.anchor} is not on the schedule's weekday",
                      "pick an anchor date on that weekday")
        out.append(sched)
    return tuple(out)


def _load_deadlines(r: Reader) -> dict[str, Deadline]:
    out = {}
    allowed = ("name", "clause", "kind", "meeting", "days_before", "weekday", "time",
               "on_holiday", "attendees", "alarm_minutes", "description", "agenda_for")
    for did, t in _entries(r, r.data, "deadlines", required=False):
        p = f"deadlines.{did}"
        r.unknown_keys(t, p, allowed)
        kind = r.choice(t, p, "kind", ("before-meeting", "weekly"))
        out[did] = Deadline(
            id=did, name=r.text(t, p, "name") or "", clause=_clause(r, t, p),
            kind=kind or "weekly", time=r.time(t, p, "time") or dt.time(17, 0),
            attendees=_attendees(r, t, p),
            meeting=r.ident(t, p, "meeting") if kind == "before-meeting" else None,
            days_before=r.integer(t, p, "days_before", 0, 60, default=0) or 0,
            weekday=r.weekday(t, p, "weekday") if kind == "weekly" else None,
            on_holiday=r.choice(t, p, "on_holiday", ON_HOLIDAY, default="previous-in-week")
            or "skip",
            alarm_minutes=r.integer(t, p, "alarm_minutes", 0, 10080, default=None),
            description=r.text(t, p, "description", default="") or "",
            agenda_for=_agenda_for(r, t, p, kind),
        )
    return out


def _agenda_for(r: Reader, t: dict, p: str, kind: str | None) -> str | None:
    # A before-meeting deadline closes its own meeting's topics; a weekly one names it.
    value = r.ident(t, p, "agenda_for", default=None)
    if value is not None and kind != "weekly":
        r.problem(f"{p}.agenda_for", "only a weekly deadline names the meeting it closes",
                  "remove agenda_for: a before-meeting deadline closes its meeting's topics")
        return None
    return value


def _clause(r: Reader, t: dict, p: str) -> str:
    clause = r.text(t, p, "clause") or ""
    if clause and not re.match(r"^篇[一二三四五六七八九十]+ ", clause):
        r.problem(f"{p}.clause", f"{clause!r} does not name a part and clause",
                  'write it like "篇一 三.2"')
    return clause


def _attendees(r: Reader, t: dict, p: str) -> tuple[AttendeeSpec, ...]:
    raw = t.get("attendees", [])
    if not isinstance(raw, list):
        r.problem(f"{p}.attendees", "must be a list",
                  'write attendees = [{ select = "all_staff" }]')
        return ()
    out = []
    for i, a in enumerate(raw):
        ap = f"{p}.attendees[{i}]"
        if isinstance(a, str):
            a = {"select": a}
        if not isinstance(a, dict):
            r.problem(ap, "must be a text or a table", 'write { select = "role:副主任" }')
            continue
        r.unknown_keys(a, ap, ("select", "role", "note"))
        sel = _selector(r, f"{ap}.select", a.get("select"))
        role = r.choice(a, ap, "role", ROLES[1:], default="REQ-PARTICIPANT")
        if sel and role:
            out.append(AttendeeSpec(sel, role, r.text(a, ap, "note", default="") or ""))
    return tuple(out)


def _selector(r: Reader, key: str, value: Any) -> Selector | None:
    if isinstance(value, str) and value in SELECTOR_WORDS:
        return Selector(value)
    if isinstance(value, str) and ":" in value:
        kind, _, arg = value.partition(":")
        if kind in SELECTOR_PREFIXES and arg:
            return Selector(kind, arg)
    r.problem(key, f"{value!r} does not name anyone",
              f"use one of {', '.join(SELECTOR_WORDS)}, or role:…, person:…, group:…, section:…")
    return None


def _phone(r: Reader, t: dict, p: str) -> str:
    phone = r.text(t, p, "phone", default="") or ""
    if phone and not _PHONE.match(phone):
        r.problem(f"{p}.phone", f"{phone!r} is not a phone number",
                  'write 11 digits of a mobile, e.g. phone = "13800138000"')
    return phone


def _email(r: Reader, t: dict, p: str) -> str:
    email = r.text(t, p, "email") or ""
    if email and not _EMAIL.match(email):
        r.problem(f"{p}.email", f"{email!r} is not a mail address", "write name@domain.example")
    return email.lower()


def _entries(r: Reader, d: dict, name: str, required: bool = True) -> list[tuple[str, dict]]:
    out = []
    for key, value in r.table(d, "", name, required=required).items():
        if not r.check_id(f"{name}.{key}", key):
            continue
        if not isinstance(value, dict):
            r.problem(f"{name}.{key}", f"must be a table, not {value!r}",
                      f"write it as [{name}.{key}] with keys below it")
            continue
        out.append((key, value))
    return out
