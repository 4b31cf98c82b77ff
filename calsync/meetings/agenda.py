"""Topics and agenda before a meeting (篇一 二.4, 三.4): the rules, pure.

篇一 二.4: "各科室如有需上会的议题，应及时向分管领导提出报告，经同意后，在会议召开前两天将议题和
有关材料送交秘书科汇总，报主要领导审定后统一编排议程。" 三.4 (周例会): "会议内容由各科室负责提供，
秘书科负责汇总，报值班领导审定。"

So: a section submits a topic for one occurrence; its 分管领导 consents or declines; the
organizer section (秘书科/办公室) orders the consented topics into an agenda; the chair (the
month's duty leader for 周例会) approves it, and the approved agenda opens the occurrence's
DESCRIPTION. A topic after the deadline is taken and marked 逾期, never lost. Which meeting
types have topics is the policy's: a before-meeting deadline closes its meeting's topics, a
weekly one names the meeting with ``agenda_for``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from calsync.calendar.workdays import WorkCalendar
from calsync.errors import UsageError
from calsync.meetings.schedule import previous_working_day, shift
from calsync.occurrence import Occurrence, Series, at
from calsync.policy.model import Deadline, Organization

SUBMITTED, CONSENTED, DECLINED = "submitted", "consented", "declined"
TOPIC_STATES = {SUBMITTED: "待分管领导同意", CONSENTED: "分管领导已同意",
                DECLINED: "分管领导未同意"}
DRAFT, APPROVED = "draft", "approved"
AGENDA_STATES = {DRAFT: "待审定", APPROVED: "已审定"}
# (state, action) → new state. A decided topic stays decided: a new one is a new submission.
TOPIC_MOVES = {(SUBMITTED, "consent"): CONSENTED, (SUBMITTED, "decline"): DECLINED}

MAX_TITLE, MAX_PRESENTER, MAX_LINK, MAX_MINUTES = 100, 40, 500, 240
# Office documents a 科室 sends as 会议材料; anything else (html, svg, exe) is refused, so a
# stored file can never run in the reader's browser.
FILE_TYPES = ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "wps", "et", "dps",
              "ofd", "zip")
MAX_FILE_BYTES = 20 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AgendaError(UsageError):
    """A topic or agenda step the rules refuse; the message says what to do instead."""


@dataclass(frozen=True)
class AgendaSpec:
    """One meeting type's topic rules: the deadline that closes them and its clause."""

    meeting_type: str
    deadline: Deadline
    approver: str           # who 审定s, in the regulation's words


def specs(org: Organization) -> dict[str, AgendaSpec]:
    """Meeting type id → its topic rules, for every type an agenda deadline closes."""
    out: dict[str, AgendaSpec] = {}
    for dl in org.deadlines.values():
        target = dl.agenda_for if dl.kind == "weekly" else dl.meeting
        mt = org.meeting_types.get(target or "")
        if mt is None or target in out:
            continue
        duty = mt.chair is not None and mt.chair.kind == "duty_leader"
        out[mt.id] = AgendaSpec(mt.id, dl, "值班领导" if duty else "主要领导（主持人）")
    return out


def spec_for(org: Organization, occ: Occurrence) -> AgendaSpec | None:
    if occ.kind != "meeting" or occ.status == "CANCELLED":
        return None
    table = specs(org)
    return next((table[t] for t in occ.meeting_types if t in table), None)


def deadline(spec: AgendaSpec, occ: Occurrence, cal: WorkCalendar) -> dt.datetime:
    """When topics for ``occ`` are due: the same instant the calendar's deadline event shows
    (a non-working day → the working day before; never after the meeting has begun)."""
    dl = spec.deadline
    start = occ.start
    if dl.kind == "weekly":
        assert dl.weekday is not None
        day = start.date()
        for _ in range(3):  # the latest weekly deadline held before the meeting
            day -= dt.timedelta(days=(day.weekday() - dl.weekday) % 7)
            held = shift(cal, day, dl.on_holiday, before=day + dt.timedelta(7),
                         after=day - dt.timedelta(7))
            if held is not None and at(held, dl.time) <= start:
                return at(held, dl.time)
            day -= dt.timedelta(days=1)
        return start
    day = previous_working_day(cal, start.date() - dt.timedelta(days=dl.days_before))
    if at(day, dl.time) > start:
        day = previous_working_day(cal, day - dt.timedelta(days=1))
    return at(day, dl.time)


def late_note(spec: AgendaSpec, due: dt.datetime, submitted: dt.datetime) -> str:
    """"" when on time; else the mark a late topic carries (it is kept, 篇一 二.4)."""
    if submitted <= due:
        return ""
    return (f"逾期：晚于{spec.deadline.name}（{due:%Y-%m-%d %H:%M}，"
            f"{spec.deadline.clause}）提交")


# -- input checks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TopicInput:
    title: str
    presenter: str
    minutes: int
    link: str = ""


def clean_topic(title: str, presenter: str, minutes: int | str | None,
                link: str | None) -> TopicInput:
    title, presenter, link = (title or "").strip(), (presenter or "").strip(), \
        (link or "").strip()
    if not title or len(title) > MAX_TITLE or _CONTROL.search(title):
        raise AgendaError(f"议题名称须为1–{MAX_TITLE}字的单行文字")
    if not presenter or len(presenter) > MAX_PRESENTER or _CONTROL.search(presenter):
        raise AgendaError(f"汇报人须为1–{MAX_PRESENTER}字")
    try:
        count = int(str(minutes))
    except ValueError:
        raise AgendaError("预计用时须为分钟数") from None
    if not 1 <= count <= MAX_MINUTES:
        raise AgendaError(f"预计用时须在1–{MAX_MINUTES}分钟之间")
    return TopicInput(title, presenter, count, check_link(link))


def check_link(link: str) -> str:
    """A materials link is an http(s) address and nothing else (no javascript:, data:, file:)."""
    if not link:
        return ""
    parts = urlsplit(link)
    if len(link) > MAX_LINK or parts.scheme.lower() not in ("http", "https") \
            or not parts.netloc or _CONTROL.search(link) or any(c in link for c in ' "<>\\'):
        raise AgendaError("材料链接须为 http:// 或 https:// 开头的网址")
    return link


def file_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in FILE_TYPES:
        raise AgendaError(f"材料文件须为以下类型之一：{'、'.join(FILE_TYPES)}")
    return ext


# -- the state machine -----------------------------------------------------------------------

def next_state(state: str, action: str) -> str:
    new = TOPIC_MOVES.get((state, action))
    if new is None:
        word = _ACTION_WORDS.get(action, action)
        raise AgendaError(f"议题已{TOPIC_STATES.get(state, state)}，不能再{word}")
    return new


_ACTION_WORDS = {"consent": "同意", "decline": "不同意"}


def check_order(chosen: Iterable[int], topics: Mapping[int, str]) -> list[int]:
    """``chosen`` topic ids (in agenda order) given topic id → state: consented ones, once each."""
    order = list(chosen)
    if not order:
        raise AgendaError("议程至少须有一项已获分管领导同意的议题")
    if len(set(order)) != len(order):
        raise AgendaError("同一议题不能在议程中出现两次")
    for tid in order:
        if topics.get(tid) != CONSENTED:
            raise AgendaError(f"议题 {tid} 未获分管领导同意，不能编入议程（篇一 二.4）")
    return order


def check_approve(status: str | None) -> None:
    if status is None:
        raise AgendaError("尚无议程：请秘书科先编排议程")
    if status == APPROVED:
        raise AgendaError("议程已审定；如需调整，请秘书科重新编排后再审定")


@dataclass(frozen=True)
class Item:
    title: str
    presenter: str
    minutes: int


def agenda_text(items: Iterable[Item]) -> str:
    """The DESCRIPTION's opening block: 议程：1. … 2. …"""
    lines = ["议程："]
    lines.extend(f"{i}. {it.title}（汇报：{it.presenter}，约{it.minutes}分钟）"
                 for i, it in enumerate(items, 1))
    return "\n".join(lines)


# -- generation input -------------------------------------------------------------------------

Approved = Mapping[tuple[str, dt.datetime], str]   # (series UID, nominal start) → agenda text


def apply(series: Iterable[Series], approved: Approved) -> list[Series]:
    """The approved agenda opens each occurrence's DESCRIPTION (before the policy's text), so
    every calendar and feed carries it, and calsync.access hides it with the rest."""
    out = []
    for s in series:
        occs = tuple(_with(o, approved.get((o.uid, o.nominal_start))) for o in s.occurrences)
        out.append(replace(s, occurrences=occs) if occs != s.occurrences else s)
    return out


def _with(occ: Occurrence, text: str | None) -> Occurrence:
    if not text or occ.kind != "meeting":
        return occ
    return replace(occ, description=f"{text}\n{occ.description}" if occ.description else text)
