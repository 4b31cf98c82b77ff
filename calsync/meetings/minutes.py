"""Minutes and decisions (纪要 / 议定事项), the pure rules.

篇一 二.6 / 三.6: 秘书科 keeps the record of the leadership's meetings and "督促检查各科室落实会议
议定事项…定期向主要领导汇报"; 篇二 三.1: the 局长办公会 has 纪要, 四.4: decisions are carried
out. So the organizer section (calsync.access ``minutes``) writes an occurrence's minutes (simple
formatted text or an uploaded file) and lists its decisions, each with an owner section, a due
date and a title; the owner section (or the organizer section) reports progress until done.

Who sees what, through calsync.access only:

- minutes: the meeting's invitees (:func:`calsync.access.invited`: named in it, or a secretary
  of its organization); another organization's meeting is not even found (404);
- a decision: like its meeting (:func:`calsync.access.shows`): the organization's staff for a
  public meeting, the invitees alone for a confidential one.

Minutes text is never HTML: :func:`render_minutes` escapes everything and knows four marks
(blank line = paragraph, ``- `` = list item, ``# `` = heading, ``**bold**``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from calsync.errors import UsageError

OPEN, PROGRESS, DONE = "open", "progress", "done"
STATUSES = (OPEN, PROGRESS, DONE)
STATUS_LABELS = {OPEN: "未开始", PROGRESS: "办理中", DONE: "已办结"}
# RFC 5545 3.8.1.11 STATUS of a VTODO
VTODO_STATUS = {OPEN: "NEEDS-ACTION", PROGRESS: "IN-PROCESS", DONE: "COMPLETED"}

MAX_TEXT = 50_000            # characters of minutes text
MAX_TITLE = 300
MAX_NOTE = 1_000
FILE_TYPES = ("pdf", "doc", "docx", "txt", "wps", "ofd", "odt")
MAX_FILE_BYTES = 10 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


class MinutesError(UsageError):
    """A minutes or decision entry the rules refuse; the message says what to fix."""


# -- text ----------------------------------------------------------------------------------

def clean_text(text: str, limit: int, what: str) -> str:
    """Strip control characters (keeping newlines and tabs) and check the length."""
    value = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(value) > limit:
        raise MinutesError(f"{what}过长（最多{limit}字），请精简或改为上传文件")
    return value


def _inline(line: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(line, quote=True))


def render_minutes(text: str) -> Markup:
    """Minutes text as safe HTML: everything escaped first, then the four marks applied."""
    out: list[str] = []
    items: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append("<p>" + "<br>".join(_inline(x) for x in para) + "</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
            items.clear()

    for raw in (text or "").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith(("- ", "· ", "• ")):
            if para:
                flush()
            items.append(line[2:].strip())
        elif line.startswith("# "):
            flush()
            out.append(f"<h3>{_inline(line[2:].strip())}</h3>")
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return Markup("\n".join(out))  # built from escaped pieces only


def file_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in FILE_TYPES:
        raise MinutesError(f"纪要文件须为以下类型之一：{'、'.join(FILE_TYPES)}")
    return ext


# -- decisions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionInput:
    title: str
    section: str
    due: dt.date


def check_decision(title: str, section: str, due: str | dt.date | None,
                   sections: Iterable[str]) -> DecisionInput:
    """A decision as the recorder typed it, or MinutesError naming what to fix."""
    t = clean_text(title, MAX_TITLE, "议定事项").replace("\n", " ")
    if not t:
        raise MinutesError("请填写议定事项的内容")
    if section not in set(sections):
        raise MinutesError("请选择承办科室")
    if isinstance(due, dt.date):
        day = due
    else:
        try:
            day = dt.date.fromisoformat((due or "").strip())
        except ValueError:
            raise MinutesError("请填写完成时限（日期，如 2026-12-31）") from None
    return DecisionInput(t, section, day)


def check_progress(status: str, note: str) -> tuple[str, str]:
    if status not in STATUSES:
        raise MinutesError("请选择办理状态")
    text = clean_text(note, MAX_NOTE, "进展情况").replace("\n", " ")
    if not text:
        raise MinutesError("请简要填写进展情况")
    return status, text


def overdue(status: str, due: dt.date, today: dt.date) -> bool:
    """Past its due date and not done (due today is not overdue yet)."""
    return status != DONE and due < today


