"""What must be sent (pure): the generated series against what each recipient was last told.

A recipient's *view* of a series is the meeting occurrences that name them (chair, attendee in
any role, substitute); one invitation carries the whole view (master, RRULE, overrides), never
one mail per occurrence. Confidential meetings therefore reach only their invitees, and a
message holds nothing but the recipient's own occurrences.

What a recipient was told is a *state*: recurrence id → (digest, end) of each live (not
cancelled) occurrence of their view. Per series and recipient:

- told nothing (or nothing still to come) and something is to come → ``REQUEST`` (invitation);
- nothing left to come of what they were told → ``CANCEL`` of the series;
- an occurrence new or changed → ``REQUEST`` (update: the whole view, cancelled overrides
  included as STATUS:CANCELLED);
- otherwise occurrences gone (cancelled, or the recipient removed) → ``CANCEL`` of just those.

Only occurrences that have not ended count, so a year's worth of past meetings never causes
mail. SEQUENCE is per series: one more than any sent for the UID; every notice of a UID in one
plan shares it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from calsync import access
from calsync.occurrence import TZ, Occurrence, Series

REQUEST = "REQUEST"
CANCEL = "CANCEL"
KINDS = ("invite", "update", "cancel")

# recurrence id (ISO) -> (digest, end ISO, start ISO): the start as told, for cancellations
State = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Sent:
    """The last notice a recipient got for a UID (any status: once queued, it is told)."""

    organization: str
    uid: str
    recipient: str          # lowercased address
    sequence: int
    method: str
    state: State
    summary: str = ""
    confidential: bool = False


@dataclass(frozen=True)
class Notice:
    organization: str
    uid: str
    recipient: str          # lowercased address
    recipient_name: str
    method: str             # REQUEST | CANCEL
    kind: str               # invite | update | cancel
    sequence: int
    summary: str
    confidential: bool
    state: dict[str, tuple[str, ...]]   # what the recipient knows after this notice
    view: Series | None = None          # REQUEST: the recipient's occurrences
    cancelled: tuple[str, ...] = ()     # CANCEL of occurrences: their recurrence ids
    first_start: str = ""               # CANCEL of a series: its first recurrence id told
    starts: Mapping[str, str] = field(default_factory=dict)  # CANCEL: recurrence id -> start
    told: int = 0                       # CANCEL of a series: how many occurrences we told
    notes: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[str, str]:
        return (self.uid, self.recipient)


def rid(occ: Occurrence) -> str:
    return occ.nominal_start.astimezone(TZ).isoformat()


def occurrence_digest(occ: Occurrence) -> str:
    """What a recipient sees of one occurrence (time, text, place, people, status)."""
    seen = (occ.start.astimezone(TZ).isoformat(), occ.end.astimezone(TZ).isoformat(),
            occ.summary, occ.full_description(), occ.location, occ.status, occ.klass,
            occ.organizer, occ.attendees)
    return hashlib.sha256(repr(seen).encode("utf-8")).hexdigest()[:32]


def views(series: Series) -> dict[str, tuple[str, Series]]:
    """address -> (name, the series restricted to the meetings that name the address): what
    the one visibility rule (calsync.access) shows a recipient in full, so a confidential
    meeting reaches its invitees only."""
    meetings = [o for o in series.occurrences if o.kind == "meeting"]  # deadlines: reminders
    names: dict[str, str] = {}
    for occ in meetings:
        for a in occ.attendees:
            email = a.email.strip().lower()
            if email:
                names.setdefault(email, a.name)
    out = {}
    for email, name in names.items():
        # Only what the one visibility rule shows this address in full: a confidential
        # meeting never reaches a non-reader (issue 20), whatever put the address here.
        reader = access.notice_reader(email, name)
        occs = tuple(o for o in meetings if access.shows(reader, o))
        out[email] = (name, replace(series, occurrences=occs))
    return out


def live_state(view: Series) -> dict[str, tuple[str, ...]]:
    return {rid(o): (occurrence_digest(o), o.end.astimezone(TZ).isoformat(),
                     o.start.astimezone(TZ).isoformat())
            for o in view.occurrences if o.status != "CANCELLED"}


def _told_starts(prev: Sent | None, rids: Iterable[str]) -> dict[str, str]:
    """Where the recipient last saw each occurrence (a moved one is not at its rid)."""
    state = prev.state if prev is not None else {}
    return {r: (state[r][2] if r in state and len(state[r]) > 2 else r) for r in rids}


def _future(state: State, now: dt.datetime) -> dict[str, tuple[str, ...]]:
    return {r: v for r, v in state.items() if dt.datetime.fromisoformat(v[1]) > now}


def _summary(view: Series) -> str:
    names = [o.summary for o in view.occurrences if o.status != "CANCELLED"] or [
        o.summary for o in view.occurrences]
    return max(names, key=names.count) if names else ""


def plan(series: Iterable[Series], sent: Mapping[tuple[str, str], Sent], now: dt.datetime,
         organizations: Iterable[str]) -> list[Notice]:
    """The notices to queue now for ``organizations``, in a stable order.

    ``sent``: (uid, recipient) -> the last notice of that pair; ``now`` decides what is still
    to come.
    """
    orgs = set(organizations)
    top: dict[str, int] = {}
    for last in sent.values():
        top[last.uid] = max(top.get(last.uid, -1), last.sequence)
    wanted: list[tuple[str, str, str, dict]] = []  # (uid, recipient, action, details)
    seen: set[tuple[str, str]] = set()
    for s in series:
        if s.organization not in orgs:
            continue
        for email, (name, view) in sorted(views(s).items()):
            seen.add((s.uid, email))
            prev = sent.get((s.uid, email))
            decided = _decide(prev, live_state(view), now)
            if decided is not None:
                wanted.append((s.uid, email, decided[0],
                               {"name": name, "view": view, "gone": decided[1],
                                "org": s.organization, "prev": prev}))
    for key, prev in sorted(sent.items()):
        if key in seen or prev.organization not in orgs or not _future(prev.state, now):
            continue
        wanted.append((prev.uid, prev.recipient, "cancel-series",
                       {"name": "", "view": None, "gone": (), "org": prev.organization,
                        "prev": prev}))
    out = []
    for uid, email, action, d in wanted:
        seq = top.get(uid, -1) + 1
        out.append(_notice(uid, email, action, seq, d))
    return sorted(out, key=lambda n: (n.organization, n.uid, n.recipient))


def _decide(prev: Sent | None, cur: dict[str, tuple[str, ...]],
            now: dt.datetime) -> tuple[str, tuple[str, ...]] | None:
    cur_f = _future(cur, now)
    prev_f = _future(prev.state, now) if prev is not None else {}
    if not prev_f:
        return ("invite", ()) if cur_f else None
    if not cur_f:
        return ("cancel-series", ())
    if any(r not in prev_f or prev_f[r][0] != v[0] for r, v in cur_f.items()):
        return ("update", ())
    gone = tuple(sorted(r for r in prev_f if r not in cur_f))
    return ("cancel-occurrences", gone) if gone else None


def _notice(uid: str, email: str, action: str, seq: int, d: dict) -> Notice:
    view: Series | None = d["view"]
    prev: Sent | None = d["prev"]
    summary = _summary(view) if view is not None else (prev.summary if prev else "")
    if not summary and prev is not None:
        summary = prev.summary
    confidential = (any(o.klass == "CONFIDENTIAL" for o in view.occurrences)
                    if view is not None else bool(prev and prev.confidential))
    if action in ("invite", "update"):
        assert view is not None, "invite and update come from a series planned now"
        return Notice(d["org"], uid, email, d["name"], REQUEST, action, seq, summary,
                      confidential, live_state(view), view=view)
    if action == "cancel-occurrences":
        state = live_state(view) if view is not None else {}
        return Notice(d["org"], uid, email, d["name"], CANCEL, "cancel", seq, summary,
                      confidential, state, view=view, cancelled=tuple(d["gone"]),
                      starts=_told_starts(prev, d["gone"]))
    first = min(prev.state) if prev is not None and prev.state else ""
    return Notice(d["org"], uid, email, d["name"], CANCEL, "cancel", seq, summary,
                  confidential, {}, view=view, first_start=first,
                  starts=_told_starts(prev, [first] if first else []),
                  told=len(prev.state) if prev is not None else 0)
