"""An office's 通讯录 (xlsx or csv) as rows of text: the header found among the first rows,
its columns mapped to 姓名 / 科室 / 职务 / 手机 / 邮箱 whatever their spelling, and every
problem reported with the file, the row, the column and the fix.

Hostile input is refused before it is parsed: a size limit, a zip whose contents would
unpack past a limit, an old binary .xls, anything that is not a spreadsheet or text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.parsers import expat

from calsync.errors import CalsyncError

MAX_BYTES = 2 * 1024 * 1024           # an office's 通讯录 is a few hundred KB at most
MAX_UNPACKED = 40 * 1024 * 1024       # xlsx contents once unzipped (a zip bomb stops here)
MAX_PART = 8 * 1024 * 1024            # one sheet's XML or the shared strings, unzipped
MAX_ROWS = 2000                       # people (a county office has a few hundred)
HEADER_SCAN = 20                      # title rows above the header ("县教育局机关通讯录")
# Sheet rows read: people, headings and blank rows between printed pages. Content below them
# is refused, never dropped (dropped people would be marked as left).
MAX_SHEET_ROWS = 2 * MAX_ROWS + HEADER_SCAN
MAX_COLUMNS = 30                      # columns read: 序号 … 备注 is about ten
# The longest text a field may hold: longer is a mistake (or an attack on the preview).
MAX_TEXT = {"name": 30, "section": 50, "role": 100, "phone": 40, "email": 254}

FIELDS = ("name", "section", "role", "phone", "email")
LABELS = {"name": "姓名", "section": "科室/股室", "role": "职务", "phone": "手机",
          "email": "邮箱"}
# Header spellings seen in offices' sheets, best first: the first one found wins a field.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "人员姓名", "职工姓名", "干部姓名", "name"),
    "section": ("科室/股室", "科室", "股室", "科(股)室", "股(科)室", "处室", "部门",
                "所在科室", "所在股室", "所在部门", "科室名称", "股室名称", "工作部门",
                "单位/部门", "section", "department"),
    "role": ("职务", "职位", "职务/职称", "职务职称", "现任职务", "岗位", "title",
             "position"),
    "phone": ("手机", "手机号", "手机号码", "移动电话", "手机/电话", "联系手机", "mobile",
              "联系电话", "电话", "联系方式", "phone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址", "email", "e-mail", "mail"),
}
_BRACKETS = re.compile(r"\([^)]*\)$")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Problem:
    """One problem in the sheet: where (row, column) and what to do, in English (CLI) and
    Chinese (the page)."""

    file: str
    row: int | None
    column: str | None
    en: str
    zh: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return ": ".join([", ".join(where), self.en])

    def chinese(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"“{self.column}”列")
        return ("".join(where) + "：" if where else "") + self.zh


class SheetError(CalsyncError):
    """The sheet cannot become a directory; every problem at once. Exit code 2."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def chinese(self) -> list[str]:
        return [p.chinese() for p in self.problems]


@dataclass(frozen=True)
class Row:
    """One person's row: the sheet row number and each mapped field's text (cleaned)."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    file: str
    columns: dict[str, str]           # field → how the column is named in messages
    rows: tuple[Row, ...]
    ignored: tuple[str, ...] = field(default=())   # extra columns (序号, 办公电话, 备注 …)


def clean(text: object) -> str:
    """A cell as text: full-width letters, digits and spaces made plain, spaces collapsed;
    an Excel number such as 13800138000.0 written as digits."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    value = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", " ", value).strip()


def clean_name(text: object) -> str:
    """A name without the spaces that align two-character names (张　伟 → 张伟)."""
    value = clean(text)
    return re.sub(r"\s+", "", value) if _CJK.search(value) else value


def header_key(text: object) -> str:
    value = clean(text).lower()
    return re.sub(r"[\s*：:]", "", value)


def _field_of(columns: Iterable[object]) -> dict[str, int]:
    keys = [header_key(c) for c in columns]
    stripped = [_BRACKETS.sub("", k) for k in keys]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            hits = [i for i, k in enumerate(keys) if k == alias]
            hits = hits or [i for i, k in enumerate(stripped) if k == alias]
            if hits and hits[0] not in found.values():
                found[name] = hits[0]
                break
    return found


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def read_sheet(file: str, data: bytes) -> Sheet:
    """The rows of an xlsx or csv 通讯录; a :class:`SheetError` for anything else."""
    if len(data) > MAX_BYTES:
        raise SheetError([Problem(
            file, None, None,
            f"is {len(data) // 1024} KB; a 通讯录 is at most {MAX_BYTES // 1024 // 1024} MB "
            "(remove pictures and other sheets, or save it as CSV)",
            f"文件过大（{len(data) // 1024} KB），通讯录不超过 {MAX_BYTES // 1024 // 1024} MB；"
            "请删除图片和其他工作表，或另存为 CSV 后上传。")])
    if data[:4] == b"PK\x03\x04":
        grid, merged = _xlsx_grid(file, data)
        return _table(file, grid, spreadsheet=True, merged=merged)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SheetError([Problem(
            file, None, None, "is an old Excel 97–2003 (.xls) file (save it as .xlsx or CSV "
            "in Excel: File → Save As)",
            "这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 CSV 后上传。")])
    text = _decode(file, data)
    return _table(file, _csv_grid(file, text), spreadsheet=False)


def _not_a_sheet(file: str) -> SheetError:
    return SheetError([Problem(
        file, None, None, "is not a spreadsheet (give the 通讯录 as .xlsx or .csv)",
        "无法识别的文件：这不是 Excel 表格（.xlsx）或 CSV 文件，请上传本单位的通讯录。")])


def _decode(file: str, data: bytes) -> str:
    head = data[:4096]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_a_sheet(file) from None
    if b"\x00" in head:
        raise _not_a_sheet(file)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # gb18030 decodes nearly any bytes: control characters mean it was not text.
        if not any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in text):
            return text
    raise _not_a_sheet(file)


def _csv_grid(file: str, text: str) -> list[tuple[int, list[object]]]:
    sample = text[:4096]
    delimiter = max(",\t;，", key=sample.count) if sample else ","
    if delimiter == "，":
        text = text.replace("，", ",")
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[tuple[int, list[object]]] = []
    try:
        for cells in reader:
            if len(grid) >= MAX_SHEET_ROWS:
                if any(c.strip() for c in cells):
                    raise _below(file, reader.line_num, None)
                continue
            grid.append((reader.line_num, list(cells[:MAX_COLUMNS])))
    except csv.Error:
        pass  # a stray quote: what was read so far is checked like any sheet
    return grid


def _xlsx_grid(file: str, data: bytes) -> tuple[list[tuple[int, list[object]]],
                                                 dict[tuple[int, int], object]]:
    """The chosen sheet's first :data:`MAX_SHEET_ROWS` rows and :data:`MAX_COLUMNS` columns,
    streamed (openpyxl read-only: a cell at XFD1048576 or a million styled rows cost no
    memory), and its merged cells within them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_a_sheet(file) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise _not_a_sheet(file)
    # Declared sizes bound what unzipping yields (zipfile stops there and checks the CRC).
    unpacked = sum(i.file_size for i in infos)
    part = max((i.file_size for i in infos if i.filename.startswith("xl/worksheets/")
                or i.filename == "xl/sharedStrings.xml"), default=0)
    if unpacked > MAX_UNPACKED or part > MAX_PART:
        raise SheetError([Problem(
            file, None, None, f"unpacks to {max(unpacked, part) // 1024 // 1024} MB (a 通讯录 "
            "is far smaller; save it as CSV)",
            "文件解压后过大，不像是通讯录；请另存为 CSV 后上传。")])
    import openpyxl  # defusedxml is installed: openpyxl parses with it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:   # openpyxl raises many kinds on a damaged file
        raise _not_a_sheet(file) from None
    try:
        return _read_book(file, book)
    except SheetError:
        raise
    except Exception:   # a damaged sheet found while streaming it
        raise _not_a_sheet(file) from None
    finally:
        book.close()


def _read_book(file: str, book: object) -> tuple[list[tuple[int, list[object]]],
                                                 dict[tuple[int, int], object]]:
    sheets = list(book.worksheets)  # type: ignore[attr-defined]
    if not sheets:
        raise _not_a_sheet(file)
    chosen = None
    for sheet in sheets:
        rows = sheet.iter_rows(min_row=1, max_row=HEADER_SCAN, max_col=MAX_COLUMNS,
                               values_only=True)
        if any("name" in _field_of(list(r)) for r in rows):
            chosen = sheet
            break
    sheet = chosen or sheets[0]
    rows = sheet.iter_rows(max_row=MAX_SHEET_ROWS, max_col=MAX_COLUMNS, values_only=True)
    grid = [(number, list(cells)) for number, cells in enumerate(rows, start=1)]
    merged, below = _scan(sheet, grid)
    if below is not None:
        raise _below(file, below, sheet.title)
    return grid, merged


def _below(file: str, number: int, title: str | None) -> SheetError:
    where, zh = (f"sheet {title!r}", f"工作表“{title}”") if title else ("the file", "文件")
    return SheetError([Problem(
        file, number, None, f"{where} has content below row {MAX_SHEET_ROWS} (at most "
        f"{MAX_ROWS} people; delete what is below the list)",
        f"{zh}第{MAX_SHEET_ROWS}行以下仍有内容：通讯录不超过 {MAX_ROWS} 人，"
        "请删除名单以下的内容后重新上传。")])


_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})$")
_CELL = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")


def _column(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def _scan(sheet: object, grid: list[tuple[int, list[object]]]) -> tuple[
        dict[tuple[int, int], object], int | None]:
    """One streamed pass over the sheet's XML (read-only sheets have no ``merged_cells``):
    its merged cells, clipped to the rows and columns read (A1:XFD1048576 is no more than the
    grid) — a merged cell (科室 spanning its members' rows) gives every row its value —; and
    the first row below :data:`MAX_SHEET_ROWS` holding a value in the columns read, if any
    (blank or merely styled rows below are fine). Plain expat callbacks, no tree: a sheet of
    many styled rows costs what reading its bytes does."""
    values = {number: cells for number, cells in grid}
    last_row = grid[-1][0] if grid else 0
    merged: dict[tuple[int, int], object] = {}
    at = {"row": 0, "col": 0}
    below: list[int] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(" ")[2]
        if tag == "row":
            at["row"] = int(attrs.get("r") or 0)
        elif tag == "c":
            m = _CELL.match(attrs.get("r", ""))
            at["col"] = _column(m[1]) if m else 0
        elif tag in ("v", "t") and not below and at["row"] > MAX_SHEET_ROWS \
                and at["col"] <= MAX_COLUMNS:
            below.append(at["row"])
        elif tag == "mergeCell":
            m = _REF.match(attrs.get("ref", ""))
            if m is not None:
                _merge(merged, values, last_row, m)

    def refuse(*_args: object) -> None:
        raise ValueError("DTDs and entities are not read")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    archive = sheet.parent._archive  # type: ignore[attr-defined]
    with archive.open(sheet._worksheet_path) as src:  # type: ignore[attr-defined]
        parser.ParseFile(src)
    return merged, (below[0] if below else None)


def _merge(merged: dict[tuple[int, int], object], values: dict[int, list[object]],
           last_row: int, m: re.Match[str]) -> None:
    c1, r1, c2, r2 = _column(m[1]), int(m[2]), _column(m[3]), int(m[4])
    if r1 > last_row or c1 > MAX_COLUMNS:
        return
    top = values.get(r1)
    value = top[c1 - 1] if top is not None and c1 - 1 < len(top) else None
    for r in range(r1, min(r2, last_row) + 1):
        for c in range(c1, min(c2, MAX_COLUMNS) + 1):
            merged[(r, c - 1)] = value


def _table(file: str, grid: list[tuple[int, list[object]]], *, spreadsheet: bool,
           merged: dict[tuple[int, int], object] | None = None) -> Sheet:
    merged = merged or {}
    header_at = next((i for i, (_, cells) in enumerate(grid[:HEADER_SCAN])
                      if "name" in _field_of(cells)), None)
    if header_at is None:
        raise SheetError([Problem(
            file, None, None, "has no header row with 姓名 in its first "
            f"{HEADER_SCAN} rows (add a row 姓名, 科室, 职务, 手机, 邮箱 above the people)",
            f"前{HEADER_SCAN}行中没有找到表头“姓名”：请在人员上方加一行表头"
            "（姓名、科室、职务、手机、邮箱）。")])
    header = grid[header_at][1]
    found = _field_of(header)

    def label(name: str) -> str:
        text = clean(header[found[name]]) or LABELS[name]
        return f"{text} ({_letter(found[name])})" if spreadsheet else text

    columns = {name: label(name) for name in FIELDS if name in found}
    ignored = tuple(clean(h)[:MAX_TEXT["name"]] for i, h in enumerate(header)
                    if clean(h) and i not in found.values())
    rows: list[Row] = []
    too_long: list[Problem] = []
    for number, cells in grid[header_at + 1:]:
        values = {}
        for name, index in found.items():
            raw = cells[index] if index < len(cells) else None
            if (raw is None or raw == "") and (number, index) in merged:
                raw = merged[(number, index)]
            values[name] = clean_name(raw) if name == "name" else clean(raw)
            if len(values[name]) > MAX_TEXT[name]:
                # Not echoed: the message stays short whatever the cell holds.
                too_long.append(Problem(
                    file, number, columns[name], f"is {len(values[name])} characters long "
                    f"(a {LABELS[name]} is at most {MAX_TEXT[name]})",
                    f"内容过长（{len(values[name])} 字），{LABELS[name]}不超过 "
                    f"{MAX_TEXT[name]} 字，请核对。"))
                values[name] = values[name][:MAX_TEXT[name]]
        if not any(values.values()):
            continue   # a blank row, or one whose text is all in columns we do not read
        rows.append(Row(number, values))
        if len(rows) > MAX_ROWS:
            raise SheetError([Problem(file, None, None, f"has more than {MAX_ROWS} rows of "
                                      f"people (at most {MAX_ROWS})",
                                      f"人员超过 {MAX_ROWS} 人的上限，请分科室整理后再导入。")])
    if too_long:
        raise SheetError(too_long)
    return Sheet(file, columns, tuple(rows), ignored)
