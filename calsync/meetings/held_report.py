"""What the statistics of held meetings show a viewer: JSON, text tables, CSV and XLSX.

Counts include confidential meetings (篇二 二.3 counts every meeting a section held); the list
of meetings behind them goes through calsync.access like every other door: a meeting the
viewer may not see in full is "忙碌" with its time only (no name, place, chair or topics).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from calsync import access
from calsync.meetings.cell_safety import append_safe, safe_row
from calsync.meetings.held import Cell, Counted, HeldStats
from calsync.occurrence import TZ

WEEKDAYS = "一二三四五六日"


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


def status_word(c: Counted) -> str:
    return "已取消" if c.cancelled else ("已召开" if c.held else "待召开")


def meeting_row(viewer: access.Viewer, c: Counted, section_name: str) -> dict[str, Any] | None:
    """One meeting as the viewer may see it; None when they may not see it at all."""
    seen = access.visibility(viewer, c.occ)
    if seen == access.NONE:
        return None
    start, end = c.occ.start.astimezone(TZ), c.occ.end.astimezone(TZ)
    full = seen == access.FULL
    chair = c.occ.chair
    a = c.attendance
    return {
        "date": start.date().isoformat(), "weekday": f"星期{WEEKDAYS[start.weekday()]}",
        "start": f"{start:%H:%M}", "end": f"{end:%H:%M}",
        "section_id": c.section, "section": section_name,
        "summary": c.occ.summary if full else access.BUSY,
        "location": c.occ.location if full else "",
        "chair": (chair.name if chair else "") if full else "",
        "confidential": c.occ.klass == "CONFIDENTIAL",
        "status": status_word(c), "held": c.held, "cancelled": c.cancelled,
        "attendance": None if a is None else {
            "invited": a.invited, "present": a.present, "late": a.late, "leave": a.leave,
            "absent": a.absent, "rate": round(c.cell().rate or 0, 4) if a.invited else None},
    }


def meeting_rows(viewer: access.Viewer, s: HeldStats,
                 month: str | None = None) -> list[dict[str, Any]]:
    out = []
    for c in s.meetings:
        if month is not None and c.month != month:
            continue
        line = meeting_row(viewer, c, s.section_name(c.section))
        if line is not None:
            out.append(line)
    return out


def to_json(s: HeldStats, viewer: access.Viewer, *, meetings: bool = True) -> dict[str, Any]:
    def cells(keys: list[str], values: tuple[Cell, ...]) -> dict[str, Any]:
        return {k: v.to_json() for k, v in zip(keys, values, strict=True)}

    pnames = [p.name for p in s.periods]
    out: dict[str, Any] = {
        "organization": s.organization, "name": s.name, "start": s.start.isoformat(),
        "end": s.end.isoformat(), "now": s.now.isoformat(), "months": list(s.months),
        "period_kind": s.period_kind,
        "periods": [{"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat()}
                    for p in s.periods],
        "sections": [{"id": r.section_id, "name": r.section_name,
                      "months": cells(list(s.months), r.months),
                      "periods": cells(pnames, r.periods), "total": r.total.to_json()}
                     for r in s.rows],
        "totals": {"months": cells(list(s.months), s.month_totals),
                   "periods": cells(pnames, s.period_totals), "total": s.total.to_json()},
    }
    if meetings:
        out["meetings"] = meeting_rows(viewer, s)
    return out


# -- text ---------------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0] + " " * (widths[0] - _width(cells[0]))
        rest = (" " * (w - _width(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()
    return [line(header), *(line(r) for r in rows)]


def pair(c: Cell) -> str:
    """held/scheduled, e.g. 3/4."""
    return f"{c.held}/{c.scheduled}"


def month_label(s: HeldStats, m: str) -> str:
    return f"{int(m[5:])}月" if len({x[:4] for x in s.months}) <= 1 else m


def text_tables(s: HeldStats) -> str:
    """Sections × months as 召开/计划 (held/scheduled), the total and attendance rate; then
    sections × periods."""
    w = s.section_word
    lines = [f"{s.name} {s.start}..{s.end} 各{w}召开会议次数（召开/计划，截至 "
             f"{s.now:%Y-%m-%d %H:%M}）"]
    rows = [[r.section_name, *map(pair, r.months), pair(r.total), percent(r.total.rate) or "—"]
            for r in s.rows]
    rows.append(["合计", *map(pair, s.month_totals), pair(s.total),
                 percent(s.total.rate) or "—"])
    lines += _table([w, *(month_label(s, m) for m in s.months), "合计", "出勤率"], rows)
    if s.periods:
        lines.append("")
        rows = [[r.section_name, *map(pair, r.periods)] for r in s.rows]
        rows.append(["合计", *map(pair, s.period_totals)])
        lines += _table([w, *(p.name for p in s.periods)], rows)
        lines.append("；".join(f"{p.name}：{p.start}至{p.end}" for p in s.periods))
    return "\n".join(lines)


# -- CSV and XLSX -------------------------------------------------------------------------

CELL_HEADER = ["计划", "召开", "取消", "待召开", "应到人次", "实到人次", "出勤率"]


def cell_values(c: Cell) -> list[Any]:
    """The counts and the rate (a fraction, None without data: XLSX formats it as a percentage,
    CSV writes it as text)."""
    return [c.scheduled, c.held, c.cancelled, c.upcoming, c.invited, c.attended,
            round(c.rate, 4) if c.rate is not None else None]


def _csv_rows(table: list[list[Any]]) -> list[list[Any]]:
    return [safe_row(percent(v) if isinstance(v, float) else ("" if v is None else v)
                     for v in line) for line in table]


def month_table(s: HeldStats) -> list[list[Any]]:
    """One line per section and month (then the totals): the long form spreadsheets sort."""
    out: list[list[Any]] = [[s.section_word, "月份", *CELL_HEADER]]
    for r in s.rows:
        out += [[r.section_name, m, *cell_values(c)] for m, c in zip(s.months, r.months,
                                                                     strict=True)]
    out += [["合计", m, *cell_values(c)] for m, c in zip(s.months, s.month_totals, strict=True)]
    return out


def period_table(s: HeldStats) -> list[list[Any]]:
    word = "学期" if s.period_kind == "semester" else "半年"
    out: list[list[Any]] = [[s.section_word, word, "起", "止", *CELL_HEADER]]
    for r in [*s.rows, None]:
        cells = r.periods if r is not None else s.period_totals
        out += [[r.section_name if r else "合计", p.name, p.start.isoformat(), p.end.isoformat(),
                 *cell_values(c)] for p, c in zip(s.periods, cells, strict=True)]
    return out


MEETING_HEADER = ["日期", "星期", "开始", "结束", "召开单位", "会议", "地点", "主持", "状态",
                  "应到", "实到", "请假", "缺席"]


def meeting_table(viewer: access.Viewer, s: HeldStats,
                  month: str | None = None) -> list[list[Any]]:
    out: list[list[Any]] = [MEETING_HEADER]
    for m in meeting_rows(viewer, s, month):
        a = m["attendance"] or {}
        out.append([m["date"], m["weekday"], m["start"], m["end"], m["section"], m["summary"],
                    m["location"], m["chair"], m["status"], a.get("invited", ""),
                    (a["present"] + a["late"]) if a else "", a.get("leave", ""),
                    a.get("absent", "")])
    return out


def to_csv(s: HeldStats, viewer: access.Viewer) -> bytes:
    """The month table, a blank line, the period table, a blank line, the meetings; UTF-8
    with a BOM so that Excel opens the Chinese text right."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(safe_row([f"{s.name} {s.start}至{s.end} 会议统计（截至 {s.now:%Y-%m-%d %H:%M}）"]))
    w.writerows(_csv_rows(month_table(s)))
    w.writerow([])
    w.writerows(_csv_rows(period_table(s)))
    w.writerow([])
    w.writerows(_csv_rows(meeting_table(viewer, s)))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(s: HeldStats, viewer: access.Viewer) -> bytes:
    """Three sheets: 按月, 按学期/按半年, 会议明细 (masked for the viewer)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    sheets = [("按月", month_table(s)),
              ("按学期" if s.period_kind == "semester" else "按半年", period_table(s)),
              ("会议明细", meeting_table(viewer, s))]
    for i, (title, table) in enumerate(sheets):
        ws = wb.worksheets[0] if i == 0 else wb.create_sheet()  # [0]: the new book's one
        ws.title = title
        for line in table:
            append_safe(ws, line)   # titles and names are text, never formulas
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for j, col in enumerate(ws.columns, 1):
            width = max(_width(str(c.value or "")) for c in col)
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 6), 40)
    wb.properties.title = f"{s.name}会议统计"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
