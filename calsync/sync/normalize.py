"""Pure functions over iCalendar bytes: what an object *means*, who owns it, what moved.

Servers and calendar apps rewrite objects without changing them (refold lines, reorder
properties, bump DTSTAMP, add X- props, rewrite VTIMEZONE). ``semantic_key`` ignores all of
that so calsync can tell "reformatted" from "edited" without false conflicts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import icalendar

from calsync.sync.errors import MalformedServerData

OWNER_PROP = "X-CALSYNC-ORG"
# Properties that churn on every save and say nothing about the meeting.
_CHURN = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "PRODID"})
_ITEM_KINDS = ("VEVENT", "VTODO", "VJOURNAL")


def parse(ics: bytes | str, href: str | None = None) -> icalendar.Calendar:
    """Parse a VCALENDAR; anything unreadable becomes ``MalformedServerData``."""
    try:
        cal = icalendar.Calendar.from_ical(ics)
    except Exception as exc:  # icalendar raises ValueError, IndexError, KeyError ...
        raise MalformedServerData(_short(exc), href) from None
    if isinstance(cal, list) or cal.name != "VCALENDAR":
        raise MalformedServerData("not a single VCALENDAR", href)
    items = [c for c in cal.subcomponents if c.name in _ITEM_KINDS]
    if not items:
        raise MalformedServerData("no VEVENT in it", href)
    for comp in items:
        if not comp.get("UID"):
            raise MalformedServerData("a VEVENT without UID", href)
        if comp.errors:
            raise MalformedServerData(f"broken value: {comp.errors[0]}", href)
        for name, value in comp.property_items(recursive=False):
            if type(value).__name__ == "vBroken":
                raise MalformedServerData(f"broken {name} value", href)
    return cal


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]


def _items(cal: icalendar.Calendar) -> list[icalendar.Component]:
    return [c for c in cal.subcomponents if c.name in _ITEM_KINDS]


def _prop_lines(name: str, value: Any) -> list[str]:
    """Canonical lines for one property; date lists are split so 1×"a,b" == 2×"a"."""
    params = getattr(value, "params", {}) or {}
    ptext = ";".join(f"{k.upper()}={params[k]}" for k in sorted(params, key=str.upper))
    head = f"{name};{ptext}" if ptext else name
    dts = getattr(value, "dts", None)
    if dts is not None:
        return [f"{head}:{_to_text(dt)}" for dt in dts]
    return [f"{head}:{_to_text(value)}"]


def _to_text(value: Any) -> str:
    raw = value.to_ical() if hasattr(value, "to_ical") else str(value)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _canonical(comp: icalendar.Component) -> str:
    lines: list[str] = []
    for name, value in comp.items():
        upper = name.upper()
        if upper in _CHURN:
            continue
        if upper.startswith("X-") and not upper.startswith("X-CALSYNC"):
            continue
        for v in value if isinstance(value, list) else [value]:
            lines.extend(_prop_lines(upper, v))
    subs = sorted(_canonical(sub) for sub in comp.subcomponents)
    return "\n".join([f"BEGIN:{comp.name}", *sorted(lines), *subs, f"END:{comp.name}"])


def _sort_key(comp: icalendar.Component) -> tuple[str, str]:
    rid = comp.get("RECURRENCE-ID")
    return (str(comp.get("UID", "")), _to_text(rid) if rid is not None else "")


def semantic_key(ics: bytes | str) -> str:
    """sha256 of what the calendar means; equal for churned copies of the same object."""
    return _meaning(_items(parse(ics)))


def _meaning(items: list[icalendar.Component]) -> str:
    ordered = sorted(items, key=lambda c: (_sort_key(c), _canonical(c)))
    return hashlib.sha256("\n".join(_canonical(c) for c in ordered).encode("utf-8")).hexdigest()


def try_semantic_key(ics: bytes | str) -> str | None:
    """``semantic_key`` or None for unreadable data."""
    try:
        return semantic_key(ics)
    except MalformedServerData:
        return None


def uid_of(ics: bytes | str) -> str:
    return str(_items(parse(ics))[0]["UID"])


def owned_org(ics: bytes | str) -> str | None:
    """The organization in X-CALSYNC-ORG, or None for an object calsync did not write."""
    for comp in _items(parse(ics)):
        value = comp.get(OWNER_PROP)
        if value is not None:
            return str(value).strip() or None
    return None


@dataclass(frozen=True)
class Facts:
    """What the planner needs of a server copy, from one parse."""

    uid: str
    key: str  # semantic_key
    org: str | None  # owned_org
    confidential: bool  # some item is CLASS:CONFIDENTIAL or PRIVATE


_HIDDEN = frozenset({"CONFIDENTIAL", "PRIVATE"})


def facts(ics: bytes | str, href: str | None = None) -> Facts:
    """``uid_of``, ``semantic_key``, ``owned_org`` and the class, from one parse."""
    cal = parse(ics, href)
    items = _items(cal)
    org = next((str(c[OWNER_PROP]).strip() or None for c in items if OWNER_PROP in c), None)
    hidden = any(str(c.get("CLASS", "")).strip().upper() in _HIDDEN for c in items)
    return Facts(str(items[0]["UID"]), _meaning(items), org, hidden)


_LINES = re.IGNORECASE | re.MULTILINE
_SEQ_LINE = re.compile(rb"^SEQUENCE(?:;[^:\r\n]*)?:[ \t]*(\d+)", _LINES)


def sequence_of(ics: bytes | str) -> int:
    """The highest SEQUENCE in the object (0 when absent).

    A line scan, not a parse: it runs for every resource on every publish, and a full
    icalendar parse of a year-long series costs ~0.1 s.
    """
    data = ics.encode("utf-8", "replace") if isinstance(ics, str) else ics
    return max((int(m.group(1)) for m in _SEQ_LINE.finditer(data)), default=0)


def policy_key(ics: bytes) -> str:
    """Identity of one generated version: sha256 of its bytes.

    The generator is deterministic, so equal policy input gives equal bytes. Cheap enough to
    run on every resource of every publish, unlike ``semantic_key`` (a full parse, ~0.1 s for
    a year-long series), which only server copies that changed need.
    """
    return hashlib.sha256(ics).hexdigest()


_SEQUENCED = (b"VEVENT", b"VTODO")


def with_sequence(ics: bytes, n: int) -> bytes:
    """Set ``SEQUENCE:n`` on every VEVENT (and VTODO: published decisions, calsync.meetings.
    tasks), editing lines so the rest stays byte-identical."""
    upper_ics = ics.upper()
    if b"BEGIN:VEVENT" not in upper_ics and b"BEGIN:VTODO" not in upper_ics:
        raise MalformedServerData("no VEVENT in it")  # refuse to stamp garbage
    crlf = b"\r\n" in ics
    eol = b"\r\n" if crlf else b"\n"
    lines = ics.replace(b"\r\n", b"\n").split(b"\n")
    out: list[bytes] = []
    stack: list[bytes] = []
    skipping = False
    for line in lines:
        if skipping and line[:1] in (b" ", b"\t"):
            continue  # continuation of a dropped SEQUENCE line
        skipping = False
        upper = line.upper()
        if upper.startswith(b"BEGIN:"):
            stack.append(upper[6:].strip())
        elif upper.startswith(b"END:"):
            if stack and stack[-1] in _SEQUENCED:
                out.append(b"SEQUENCE:%d" % n)
            if stack:
                stack.pop()
        elif stack and stack[-1] in _SEQUENCED and upper[:9] in (b"SEQUENCE:", b"SEQUENCE;"):
            skipping = True
            continue
        out.append(line)
    return eol.join(out)


# --- what changed per instance ------------------------------------------------------------


@dataclass(frozen=True)
class InstanceChange:
    """One occurrence that differs between what calsync wrote and the server copy.

    ``kind``: ``moved`` (start changed), ``cancelled`` (STATUS:CANCELLED or removed from the
    series), ``added`` (an occurrence only the server has) or ``changed`` (same start, other
    details differ). ``recurrence_id``/``old_start``/``new_start`` are ISO strings.
    """

    kind: str
    recurrence_id: str
    old_start: str | None
    new_start: str | None


# Occurrences further out than this are not compared: regulations are re-published yearly.
_HORIZON = timedelta(days=3 * 366)


def _occurrences(cal: icalendar.Calendar, start: date, end: date) -> dict[str, dict[str, Any]]:
    import recurring_ical_events

    out: dict[str, dict[str, Any]] = {}
    for ev in recurring_ical_events.of(cal).between(start, end):
        rid = ev.get("RECURRENCE-ID") or ev.get("DTSTART")
        key = _iso(rid.dt)
        out[key] = {
            "start": _iso(ev["DTSTART"].dt),
            "cancelled": str(ev.get("STATUS", "")).upper() == "CANCELLED",
            "canon": _canonical_instance(ev),
        }
    return out


def _canonical_instance(ev: icalendar.Component) -> str:
    skip = {"RECURRENCE-ID", "RRULE", "RDATE", "EXDATE", "DTSTART", "DTEND", "DURATION", "STATUS"}
    lines = [
        line
        for line in _canonical(ev).split("\n")
        if line.split(":", 1)[0].split(";", 1)[0] not in skip
    ]
    return "\n".join(lines)


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _first_start(cal: icalendar.Calendar) -> date | None:
    starts = []
    for comp in _items(cal):
        dt = comp.get("DTSTART")
        if dt is not None:
            v = dt.dt
            starts.append(v.date() if isinstance(v, datetime) else v)
    return min(starts, default=None)


def diff_instances(stored_ics: bytes | str, server_ics: bytes | str) -> list[InstanceChange]:
    """Per occurrence: what the calendar app did to the series calsync wrote.

    The lead turns ``moved``/``cancelled`` entries into decisions when a user keeps the
    server copy. Sorted by recurrence id; an empty list means no occurrence differs.
    """
    old_cal, new_cal = parse(stored_ics), parse(server_ics)
    firsts = [d for d in (_first_start(old_cal), _first_start(new_cal)) if d is not None]
    if not firsts:
        return []
    start = min(firsts) - timedelta(days=1)
    end = start + _HORIZON
    old, new = _occurrences(old_cal, start, end), _occurrences(new_cal, start, end)
    removed = sorted(rid for rid in old.keys() - new.keys())
    added = sorted(rid for rid in new.keys() - old.keys())
    changes: list[InstanceChange] = []
    if removed and len(removed) == len(added):
        # The whole series (or this-and-following) was dragged: recurrence ids changed
        # with it, so pair old and new occurrences in order.
        for a, b in zip(removed, added, strict=True):
            changes.append(InstanceChange("moved", a, old[a]["start"], new[b]["start"]))
    else:
        changes += [InstanceChange("cancelled", r, old[r]["start"], None) for r in removed]
        changes += [InstanceChange("added", r, None, new[r]["start"]) for r in added]
    for rid in sorted(old.keys() & new.keys()):
        was, now = old[rid], new[rid]
        if now["cancelled"] and not was["cancelled"]:
            changes.append(InstanceChange("cancelled", rid, was["start"], None))
        elif was["start"] != now["start"]:
            changes.append(InstanceChange("moved", rid, was["start"], now["start"]))
        elif was["canon"] != now["canon"] or was["cancelled"] != now["cancelled"]:
            changes.append(InstanceChange("changed", rid, was["start"], now["start"]))
    return sorted(changes, key=lambda c: c.recurrence_id)
