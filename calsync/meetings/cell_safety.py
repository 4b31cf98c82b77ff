"""Cells of CSV and XLSX exports that come from people (titles, names, places), made inert.

A spreadsheet program reads a cell beginning with ``= + - @`` (and, after a tab or carriage
return, the same) as a formula: a meeting titled ``=HYPERLINK("http://x","y")`` would become
a link, or worse, in the secretary's Excel. OWASP's "CSV injection" advice: prefix such a
cell with an apostrophe, which spreadsheets show as text. In XLSX the cell is also written as
a string, never a formula (openpyxl turns any string starting with ``=`` into one).

Every export (calsync.meetings.held_report, calsync.meetings.attendance_export) writes its
rows through :func:`safe_row` and :func:`append_safe`; numbers calsync computed stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def append_safe(ws: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet: text neutralised and typed as a string."""
    ws.append(safe_row(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
