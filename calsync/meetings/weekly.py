"""一周会议安排: the coming week's meetings of one organization, as offices post them on the
notice board (pure), and the same sheet as a Word document (python-docx).

Each line: date, weekday, time, meeting name (the occurrence's summary: the regulation's name),
place, chair, who attends (a short summary), the holding section. Every line goes through
calsync.access for the viewer: a meeting they may not see in full is "忙碌" with its time and
nothing else; the notice-board version is made for :data:`calsync.access.OPERATOR` (nobody in
particular), so a confidential meeting is only ever 忙碌 there. Cancelled meetings are left out.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from calsync import access
from calsync.meetings.holding import SectionRef, holder
from calsync.occurrence import TZ, Occurrence
from calsync.policy.model import Organization

WEEKDAYS = "一二三四五六日"
MAX_NAMES = 4


@dataclass(frozen=True)
class Line:
    date: dt.date
    start: str
    end: str
    name: str
    location: str
    chair: str
    attendees: str
    organizer: str
    busy: bool                 # shown as 忙碌 (the viewer may not see more)
    series_uid: str            # "" for busy lines (they must not name the meeting)
    recurrence_id: str

    @property
    def weekday(self) -> str:
        return f"星期{WEEKDAYS[self.date.weekday()]}"

    @property
    def date_text(self) -> str:
        return f"{self.date.month}月{self.date.day}日"


@dataclass(frozen=True)
class Sheet:
    organization: str
    name: str                  # the organization's full name
    monday: dt.date
    sunday: dt.date
    lines: tuple[Line, ...]
    public: bool               # the notice-board version

    @property
    def title(self) -> str:
        return f"{self.name}一周会议安排"

    @property
    def period(self) -> str:
        a, b = self.monday, self.sunday
        tail = f"{b.month}月{b.day}日" if a.year == b.year else f"{b.year}年{b.month}月{b.day}日"
        return f"{a.year}年{a.month}月{a.day}日—{tail}"

    def days(self) -> list[tuple[dt.date, list[Line]]]:
        """Every day of the week with its lines (empty days included)."""
        return [(d, [x for x in self.lines if x.date == d])
                for d in (self.monday + dt.timedelta(days=i) for i in range(7))]


def coming_week(today: dt.date) -> dt.date:
    """The Monday of the week the sheet shows by default: this week until Thursday, the next
    one from Friday (offices post next week's sheet at the end of the week)."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday + dt.timedelta(days=7) if today.weekday() >= 4 else monday


def attendees_summary(occ: Occurrence, limit: int = MAX_NAMES) -> str:
    """Participants after the chair: a few names and the count, then 列席."""
    chair = occ.chair
    takes_part = [a for a in occ.attendees if a is not chair and a.role != "NON-PARTICIPANT"
                  and a.partstat != "DELEGATED"]
    sitting = [a for a in occ.attendees if a.role == "NON-PARTICIPANT"]
    names = [a.name for a in takes_part]
    text = "、".join(names[:limit])
    if len(names) > limit:
        text += f"等{len(names)}人"
    if sitting:
        text += ("；" if text else "") + f"列席{len(sitting)}人"
    return text


def sheet(org: Organization, occurrences: Iterable[Occurrence], viewer: access.Viewer,
          monday: dt.date, *, requests: Iterable[SectionRef] = (),
          adhoc: Iterable[SectionRef] = (), public: bool = False) -> Sheet:
    sunday = monday + dt.timedelta(days=6)
    section_of = holder(org, requests, adhoc)
    lines: dict[tuple[object, ...], Line] = {}
    for occ in sorted(occurrences, key=lambda o: (o.start, o.uid)):
        start, end = occ.start.astimezone(TZ), occ.end.astimezone(TZ)
        if (occ.organization != org.id or occ.kind != "meeting" or occ.status == "CANCELLED"
                or not monday <= start.date() <= sunday):
            continue
        seen = access.visibility(viewer, occ)
        if seen == access.NONE:
            continue
        if seen == access.FULL:
            chair = occ.chair
            section = section_of(occ)
            line = Line(start.date(), f"{start:%H:%M}", f"{end:%H:%M}", occ.summary,
                        occ.location, chair.name if chair else "", attendees_summary(occ),
                        org.sections[section].name if section in org.sections else "",
                        False, occ.uid, occ.nominal_start.isoformat())
            lines[(occ.uid, occ.nominal_start)] = line
        else:   # one busy line per time span, like access.busy_series
            line = Line(start.date(), f"{start:%H:%M}", f"{end:%H:%M}", access.BUSY, "", "",
                        "", "", True, "", "")
            lines.setdefault(("busy", start, end), line)
    ordered = sorted(lines.values(), key=lambda x: (x.date, x.start, x.busy, x.name))
    return Sheet(org.id, org.name, monday, sunday, tuple(ordered), public)


HEADER = ("日期", "星期", "时间", "会议名称", "地点", "主持", "参会人员", "承办")


def cells(line: Line) -> tuple[str, ...]:
    return (line.date_text, line.weekday, f"{line.start}—{line.end}", line.name, line.location,
            line.chair, line.attendees, line.organizer)


def to_docx(s: Sheet) -> bytes:
    """The sheet as a landscape A4 Word document: a title, the week, one table."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Cm(1.8))
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    style.font.name = "宋体"     # python-docx writes w:ascii/w:hAnsi; Chinese text needs:
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(s.title)
    run.bold, run.font.size = True, Pt(18)
    sub = doc.add_paragraph(f"（{s.period}）")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=1, cols=len(HEADER))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for line in s.lines:
        for cell, text in zip(table.add_row().cells, cells(line), strict=True):
            cell.text = text
    if not s.lines:
        doc.add_paragraph("本周无会议安排。")
    doc.core_properties.title = f"{s.title}（{s.period}）"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
