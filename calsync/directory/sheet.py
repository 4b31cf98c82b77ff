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

from calsync.errors import CalsyncError

MAX_BYTES = 2 * 1024 * 1024           # an office's 通讯录 is a few hundred KB at most
MAX_UNPACKED = 40 * 1024 * 1024       # xlsx contents once unzipped (a zip bomb stops here)
MAX_ROWS = 5000
HEADER_SCAN = 20                      # title rows above the header ("县教育局机关通讯录")

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


def _field_of(columns: list[str]) -> dict[str, int]:
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
    return _table(file, _csv_grid(text), spreadsheet=False)


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


def _csv_grid(text: str) -> list[tuple[int, list[object]]]:
    sample = text[:4096]
    delimiter = max(",\t;，", key=sample.count) if sample else ","
    if delimiter == "，":
        text = text.replace("，", ",")
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[tuple[int, list[object]]] = []
    try:
        for cells in reader:
            grid.append((reader.line_num, list(cells)))
            if len(grid) > MAX_ROWS + HEADER_SCAN:
                break
    except csv.Error:
        pass  # a stray quote: what was read so far is checked like any sheet
    return grid


def _xlsx_grid(file: str, data: bytes) -> tuple[list[tuple[int, list[object]]],
                                                 dict[tuple[int, int], object]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_a_sheet(file) from None
    if "xl/workbook.xml" not in names:
        raise _not_a_sheet(file)
    if unpacked > MAX_UNPACKED:
        raise SheetError([Problem(
            file, None, None, f"unpacks to {unpacked // 1024 // 1024} MB (a 通讯录 is far "
            "smaller; save it as CSV)",
            "文件解压后过大，不像是通讯录；请另存为 CSV 后上传。")])
    import openpyxl  # defusedxml is installed: openpyxl parses with it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:   # openpyxl raises many kinds on a damaged file
        raise _not_a_sheet(file) from None
    for sheet in book.worksheets:
        if sheet.max_row > MAX_ROWS + HEADER_SCAN:
            raise SheetError([Problem(
                file, None, None, f"sheet {sheet.title!r} has {sheet.max_row} rows (at most "
                f"{MAX_ROWS} people)", f"工作表“{sheet.title}”有 {sheet.max_row} 行，"
                f"超过 {MAX_ROWS} 人的上限。")])
    chosen = None
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(min_row=1, max_row=HEADER_SCAN, values_only=True))
        if any("name" in _field_of(list(r)) for r in rows):
            chosen = sheet
            break
    sheet = chosen or book.worksheets[0]
    # A merged cell (科室 spanning its members' rows) gives every row its value.
    merged: dict[tuple[int, int], object] = {}
    for rng in sheet.merged_cells.ranges:
        value = sheet.cell(rng.min_row, rng.min_col).value
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                merged[(r, c - 1)] = value
    grid = [(i, list(cells)) for i, cells in
            enumerate(sheet.iter_rows(values_only=True), start=1)]
    return grid, merged


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
    ignored = tuple(clean(h) for i, h in enumerate(header)
                    if clean(h) and i not in found.values())
    rows: list[Row] = []
    for number, cells in grid[header_at + 1:]:
        values = {}
        for name, index in found.items():
            raw = cells[index] if index < len(cells) else None
            if (raw is None or raw == "") and (number, index) in merged:
                raw = merged[(number, index)]
            values[name] = clean_name(raw) if name == "name" else clean(raw)
        if not any(values.values()):
            continue   # a blank row, or one whose text is all in columns we do not read
        rows.append(Row(number, values))
    if len(rows) > MAX_ROWS:
        raise SheetError([Problem(file, None, None, f"has {len(rows)} rows (at most "
                                  f"{MAX_ROWS} people)",
                                  f"共 {len(rows)} 行，超过 {MAX_ROWS} 人的上限。")])
    return Sheet(file, columns, tuple(rows), ignored)
