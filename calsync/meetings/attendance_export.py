"""Attendance reports as CSV, XLSX (openpyxl) and a plain-text e-mail body (pure: the
reports come already masked for their reader, calsync.meetings.attendance_report)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from calsync.meetings.attendance import METHOD_LABELS, STATUS_LABELS, Row
from calsync.meetings.attendance_report import MonthReport, OccurrenceReport
from calsync.meetings.cell_safety import append_safe, safe_row
from calsync.occurrence import TZ

SUMMARY_HEAD = ("会议", "时间", "应到", "出席", "迟到", "请假", "缺席", "出席率")
DETAIL_HEAD = ("会议", "时间", "姓名", "身份", "考勤", "签到时间", "签到方式", "请假类别",
               "代会人")
ROLE_LABELS = {"CHAIR": "主持", "REQ-PARTICIPANT": "参会", "OPT-PARTICIPANT": "参会",
               "NON-PARTICIPANT": "列席"}


def when(r: OccurrenceReport) -> str:
    s, e = r.occ.start.astimezone(TZ), r.occ.end.astimezone(TZ)
    return f"{s:%Y-%m-%d %H:%M}–{e:%H:%M}"


def summary_line(r: OccurrenceReport) -> list[str]:
    if r.masked:
        return [r.title, when(r), "", "", "", "", "", ""]
    c = r.counts
    return [r.title, when(r), str(c.invited), str(c.present), str(c.late), str(c.leave),
            str(c.absent), f"{c.rate:.0%}"]


def detail_line(r: OccurrenceReport, row: Row) -> list[str]:
    signed = row.signed_at.astimezone(TZ).strftime("%H:%M") if row.signed_at else ""
    sub = row.substitute + ("（已签到）" if row.substitute and row.substitute_signed else "")
    return [r.title, when(r), row.name, ROLE_LABELS.get(row.role, row.role),
            STATUS_LABELS[row.status], signed, METHOD_LABELS.get(row.method, row.method),
            row.leave_category, sub]


def _reports(report: MonthReport | OccurrenceReport) -> list[OccurrenceReport]:
    return list(report.occurrences) if isinstance(report, MonthReport) else [report]


def _total_line(report: MonthReport | OccurrenceReport) -> list[str] | None:
    if not isinstance(report, MonthReport):
        return None
    c = report.totals
    return ["合计", report.label, str(c.invited), str(c.present), str(c.late), str(c.leave),
            str(c.absent), f"{c.rate:.0%}"]


def to_csv(report: MonthReport | OccurrenceReport) -> bytes:
    """Both tables in one CSV (UTF-8 with BOM, so Excel opens the Chinese text right)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(SUMMARY_HEAD)
    for r in _reports(report):   # titles and names come from people: never formulas
        w.writerow(safe_row(summary_line(r)))
    total = _total_line(report)
    if total:
        w.writerow(safe_row(total))
    w.writerow([])
    w.writerow(DETAIL_HEAD)
    for r in _reports(report):
        for row in r.rows:
            w.writerow(safe_row(detail_line(r, row)))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(report: MonthReport | OccurrenceReport) -> bytes:
    """Two sheets: 汇总 (a line per meeting) and 明细 (a line per person)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.worksheets[0]  # the new book's one sheet
    summary.title = "汇总"
    _sheet(summary, SUMMARY_HEAD, (summary_line(r) for r in _reports(report)), Font)
    total = _total_line(report)
    if total:
        _append(summary, total)
    detail = wb.create_sheet("明细")
    _sheet(detail, DETAIL_HEAD,
           (detail_line(r, row) for r in _reports(report) for row in r.rows), Font)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet(ws, head: Iterable[str], lines: Iterable[list[str]], font) -> None:
    ws.append(list(head))
    for cell in ws[1]:
        cell.font = font(bold=True)
    for line in lines:
        _append(ws, line)
    for col, width in zip("ABCDEFGHI", (24, 22, 10, 8, 8, 8, 8, 10, 14), strict=False):
        ws.column_dimensions[col].width = width


def _append(ws, line: list[str]) -> None:
    """Counts as numbers and the rate as a percentage, so the sheet can sum them; text (titles,
    names) as inert strings."""
    append_safe(ws, [int(v) if v.isdigit() else float(v[:-1]) / 100
                     if v.endswith("%") and v[:-1].isdigit() else v for v in line])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, float):
            cell.number_format = "0%"


def text(report: MonthReport | OccurrenceReport, org_name: str) -> str:
    """The e-mail body: the counts first, then who was late, on leave or absent."""
    head = (f"{org_name}{report.label}会议考勤情况" if isinstance(report, MonthReport)
            else f"{org_name}会议考勤情况：{report.title}（{when(report)}）")
    lines = [head, ""]
    for r in _reports(report):
        s = summary_line(r)
        if r.masked:
            lines.append(f"{s[1]} {s[0]}")
            continue
        lines.append(f"{s[1]} {s[0]}：应到{s[2]}人，出席{s[3]}人，迟到{s[4]}人，请假{s[5]}人，"
                     f"缺席{s[6]}人，出席率{s[7]}")
        for status in ("late", "leave", "absent"):
            names = [_who(row) for row in r.rows if row.status == status]
            if names:
                lines.append(f"  {STATUS_LABELS[status]}：{'、'.join(names)}")
    total = _total_line(report)
    if total:
        lines += ["", f"合计：应到{total[2]}人次，出席{total[3]}，迟到{total[4]}，请假{total[5]}，"
                      f"缺席{total[6]}，出席率{total[7]}"]
    return "\n".join(lines) + "\n"


def _who(row: Row) -> str:
    if row.status == "leave":
        extra = "，".join(x for x in (row.leave_category,
                                      f"代会：{row.substitute}" if row.substitute else "") if x)
        return f"{row.name}（{extra}）" if extra else row.name
    if row.status == "late" and row.signed_at:
        return f"{row.name}（{row.signed_at.astimezone(TZ):%H:%M}）"
    return row.name
