"""The directory preview is bounded (issue 20 item 12): a 通讯录 is read row by row and only
its first rows and columns (a cell at XFD1048576, a million styled rows or a merge over the
whole sheet cost no memory), content below the rows read is refused rather than dropped (the
people there would be marked as left), a text longer than any name, phone or address is
refused without being echoed, and the page lists the first changes and problems and counts
the rest — a 42 KB workbook once made an 80 MB page."""

from __future__ import annotations

import io
import re
import shutil
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from calsync.directory.sheet import (
    MAX_PART,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_UNPACKED,
    SheetError,
    read_sheet,
)
from calsync.policy import shipped_policies
from tests.support import directory_sheets as ds
from tests.support import hostile_xlsx as hx
from tests.support.webapp import login, make_app

PEAK_MB = 30   # what reading a small 通讯录 may allocate at most, whatever its sheet claims


def _peak_mb(read: Callable[[], Any]) -> tuple[Any, float]:
    tracemalloc.start()
    try:
        result = read()
        return result, tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def _names(data: bytes) -> list[str]:
    return [r.values["name"] for r in read_sheet("通讯录.xlsx", data).rows]


def _refusal(data: bytes, name: str = "通讯录.xlsx") -> list[str]:
    with pytest.raises(SheetError) as caught:
        read_sheet(name, data)
    return caught.value.chinese()


PEOPLE = [p[0] for p in hx.PEOPLE]


# -- reading: rows and columns ---------------------------------------------------------------

def test_a_cell_in_the_far_corner_is_not_read_and_costs_no_memory() -> None:
    data = hx.far_corner(1048576, "XFD")
    assert len(data) < 4096
    names, peak = _peak_mb(lambda: _names(data))
    assert names == PEOPLE
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_a_far_column_within_the_rows_is_read_in_bounded_memory() -> None:
    data = hx.far_corner(60, "XFD")   # 60 rows × 16,384 columns if every column were read
    names, peak = _peak_mb(lambda: _names(data))
    assert names == PEOPLE
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_styled_empty_rows_below_the_people_are_ignored_in_bounded_memory() -> None:
    data = hx.styled_rows(100_000)   # a whole column formatted in Excel
    names, peak = _peak_mb(lambda: _names(data))
    assert names == PEOPLE
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_a_merge_over_the_whole_column_gives_only_the_rows_read_their_value() -> None:
    data = hx.merged_sections("B2:B1048576")
    sheet, peak = _peak_mb(lambda: read_sheet("通讯录.xlsx", data))
    assert [r.values["section"] for r in sheet.rows] == ["局领导"] * 3
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_content_below_the_rows_read_is_refused_not_dropped() -> None:
    far = hx.far_corner(MAX_SHEET_ROWS + 1000, "A", "王五")
    assert _refusal(far) == [f"第{MAX_SHEET_ROWS + 1000}行：工作表“通讯录”第{MAX_SHEET_ROWS}行"
                             f"以下仍有内容：通讯录不超过 {MAX_ROWS} 人，"
                             "请删除名单以下的内容后重新上传。"]
    rows = ds.csv_bytes(ds.JIAOYUJU[:3]).decode("utf-8-sig")
    late = rows + "\r\n" * (MAX_SHEET_ROWS + 100) + "99,王五,办公室,科员,13900000099,w@x.cn\r\n"
    assert "以下仍有内容" in _refusal(late.encode("utf-8"), "通讯录.csv")[0]


def test_more_people_than_the_limit_are_refused_naming_the_limit() -> None:
    data = ds.csv_bytes(ds.generated(MAX_ROWS + 1))
    assert _refusal(data, "通讯录.csv") == [
        f"人员超过 {MAX_ROWS} 人的上限，请分科室整理后再导入。"]
    assert len(read_sheet("通讯录.csv", ds.csv_bytes(ds.generated(MAX_ROWS))).rows) == MAX_ROWS


def test_an_overlong_text_is_refused_with_row_and_column_and_not_echoed() -> None:
    data = hx.repeated_text(300, 2, 16_000)   # one 16,000-character 手机 on every row
    assert len(data) < 20_000
    problems = _refusal(data)
    assert len(problems) == 300
    assert problems[0] == "第2行“手机 (C)”列：内容过长（16000 字），手机不超过 40 字，请核对。"
    assert max(len(p) for p in problems) < 100
    assert "新人" not in _refusal(hx.repeated_text(1, 0, 31))[0]


def test_a_sheet_that_unpacks_past_its_part_limit_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<worksheet>" + b" " * (MAX_PART + 1)
                   + b"</worksheet>")
    assert MAX_PART + 1 < MAX_UNPACKED and len(buf.getvalue()) < 64 * 1024
    assert _refusal(buf.getvalue()) == ["文件解压后过大，不像是通讯录；请另存为 CSV 后上传。"]


# -- the page ----------------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    root = tmp_path / "policies"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst", root,
                   ["liu_zhuren"])
    yield app
    app.extensions["calsync"].close()


def _upload(app: Flask, data: bytes, name: str):
    return login(app, "liu_zhuren").post(
        "/people/directory", data={"sheet": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_the_preview_lists_the_first_500_people_and_counts_the_rest(app: Flask) -> None:
    people = ds.JIAOYUJU + ds.generated(1500)
    r = _upload(app, ds.csv_bytes(people), "通讯录.csv")
    html = r.data.decode()
    assert r.status_code == 200
    assert "新增 1500 人" in html
    added = re.search(r'<table id="diff-added">(.*?)</table>', html, re.S)
    assert added is not None
    assert added.group(1).count("<tr>") == 1 + 500   # the header and 500 people
    assert '<p class="hint more" id="added-more">另有 1000 人未列出。</p>' in html
    assert 'name="token"' in html                      # confirming still applies all 1500


def test_the_problem_list_shows_50_and_counts_the_rest(app: Flask) -> None:
    r = _upload(app, hx.repeated_text(2000, 2, 16_000), "通讯录.xlsx")
    html = r.data.decode()
    assert r.status_code == 400
    assert len(r.data) < 100_000, len(r.data)
    errors = re.search(r'<div class="flash warn" id="import-errors"[^>]*>(.*?)</div>', html, re.S)
    assert errors is not None
    assert errors.group(1).count("<li>") == 50
    assert "另有 1950 处问题未列出" in html
