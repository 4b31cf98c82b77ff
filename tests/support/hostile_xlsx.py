"""Hostile 通讯录 workbooks, written as raw zips so that a few KB say what a real sheet never
would: a cell in the far corner, a million styled rows, a merge over the whole sheet, one
very long text repeated on every row (a shared string is stored once)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
          'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats'
          '-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
          'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
          'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
          'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELS = (f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
         f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = (f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
         '<sheet name="通讯录" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = (f'<?xml version="1.0"?><Relationships xmlns="{_PKG}">'
              f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
              f'<Relationship Id="rId2" Type="{_DOC}/sharedStrings" Target="sharedStrings.xml"/>'
              '</Relationships>')

HEADER = ("姓名", "科室", "手机", "邮箱")
# Three of 教育局's own people (as in tests/support/directory_sheets.py).
PEOPLE = (("黄志远", "局领导", "13800000001", "huang.zhiyuan@jyj.example.org"),
          ("刘芳", "办公室", "13800000005", "liu.fang@jyj.example.org"),
          ("杜娟", "教育股", "13800000008", "du.juan@jyj.example.org"))


def workbook(rows_xml: str, strings: Sequence[str], dimension: str = "A1",
             merges: Sequence[str] = ()) -> bytes:
    sst = (f'<?xml version="1.0"?><sst xmlns="{_MAIN}" count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings)
           + "</sst>")
    merge = (f'<mergeCells count="{len(merges)}">'
             + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
             if merges else "")
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><dimension ref="{dimension}"/>'
             f"<sheetData>{rows_xml}</sheetData>{merge}</worksheet>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("[Content_Types].xml", _TYPES), ("_rels/.rels", _RELS),
                           ("xl/workbook.xml", _BOOK), ("xl/_rels/workbook.xml.rels", _BOOK_RELS),
                           ("xl/sharedStrings.xml", sst), ("xl/worksheets/sheet1.xml", sheet)):
            z.writestr(name, text)
    return buf.getvalue()


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _shared(ref: str, index: int) -> str:
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


def _people_rows(people: Sequence[Sequence[str]] = PEOPLE, first: int = 2) -> str:
    out = ['<row r="1">' + "".join(_inline(f"{c}1", h) for c, h in zip("ABCD", HEADER, strict=True))
           + "</row>"]
    for r, person in enumerate(people, start=first):
        cells = "".join(_inline(f"{c}{r}", v) for c, v in zip("ABCD", person, strict=True))
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def far_corner(row: int = 1048576, column: str = "XFD", text: str = "x") -> bytes:
    """The people, and one cell at ``column``/``row`` (the dimension says A1:XFD1048576)."""
    rows = _people_rows() + f'<row r="{row}">{_inline(f"{column}{row}", text)}</row>'
    return workbook(rows, [], f"A1:{column}{row}")


def styled_rows(count: int) -> bytes:
    """The people, then ``count`` empty rows that only carry a style (a formatted column)."""
    start = len(PEOPLE) + 2
    rows = _people_rows() + "".join(f'<row r="{r}"><c r="A{r}" s="0"/></row>'
                                    for r in range(start, start + count))
    return workbook(rows, [], f"A1:D{start + count - 1}")


def merged_sections(ref: str) -> bytes:
    """The people with their 科室 column empty below the first, merged over ``ref``."""
    people = [(n, s if i == 0 else "", p, e) for i, (n, s, p, e) in enumerate(PEOPLE)]
    return workbook(_people_rows(people), [], "A1:D4", [ref])


def repeated_text(rows: int, column: int, length: int) -> bytes:
    """``rows`` people whose field ``column`` (0 name … 3 邮箱) is one ``length``-character
    shared string; the other fields are distinct and valid."""
    strings = ["x" * length if column != 0 else "张" * length]
    out = ['<row r="1">' + "".join(_inline(f"{c}1", h) for c, h in zip("ABCD", HEADER, strict=True))
           + "</row>"]
    for r in range(2, rows + 2):
        own = (f"新人{r}", "办公室", f"139{r:08d}", f"p{r}@jyj.example.org")
        cells = [_shared(f"{c}{r}", 0) if i == column else _inline(f"{c}{r}", own[i])
                 for i, c in enumerate("ABCD")]
        out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    return workbook("".join(out), strings, f"A1:D{rows + 1}")
