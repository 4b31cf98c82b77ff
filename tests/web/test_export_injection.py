"""Spreadsheet formulas (OWASP CSV injection) in every export, on SQLite and PostgreSQL: a
requested meeting titled ``=HYPERLINK(...)`` and directory people whose names begin with
``=`` or ``@`` reach /stats/export.csv|xlsx, the sign-in report and the monthly attendance
report; each file is read back with csv and openpyxl: every such cell starts with an
apostrophe and no XLSX cell is a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from openpyxl import load_workbook

from calsync.meetings.cell_safety import FORMULA_STARTS, safe_cell
from calsync.occurrence import TZ
from calsync.policy import shipped_policies
from tests.support.webapp import login, make_app

TITLE = '=HYPERLINK("http://x","y")'
CHIEF = "=HUANG()+1"        # 黄志远, 局长: chairs 局长办公会
DEPUTY = "@SUM(1+1)"         # 宋丽华, an attendee the section asked for
SECRETARY = "liu_zhuren"
START = dt.datetime(2026, 3, 3, 9, 0, tzinfo=TZ)


def _policies(root: Path) -> Path:
    """The shipped policies with two 教育局 names as a careless directory import wrote them."""
    target = root / "p"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / "jiaoyuju" / "directory.toml"
    text = path.read_text(encoding="utf-8")
    for old, new in (("黄志远", CHIEF), ("宋丽华", DEPUTY)):
        assert f'name = "{old}"' in text
        text = text.replace(f'name = "{old}"', f'name = "{new}"')
    path.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Flask:
    app = make_app(db_url, tmp_path / "instance", _policies(tmp_path), users=(SECRETARY,))
    store = app.extensions["calsync"].store
    req = store.requests.add_request("jiaoyuju", section_id="bangongshi", category="juzhangbangong",
                                     title=TITLE, audience=["song_fujuzhang"],
                                     start=START.isoformat(),
                                     end=(START + dt.timedelta(hours=1)).isoformat(),
                                     room=None, important=False, approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    uid = f"request-{req.id}@jiaoyuju.calsync"
    app.config["REQUEST_UID"] = uid
    store.attendance.sign_in("jiaoyuju", uid, START, "song_fujuzhang", name=DEPUTY,
                             status="present", method="self", actor="song_fujuzhang",
                             at=START - dt.timedelta(minutes=5))
    return app


def _csv_cells(data: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    return [cell for row in rows for cell in row]


def _xlsx_cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def _assert_neutral_csv(data: bytes, *texts: str) -> None:
    cells = _csv_cells(data)
    for text in texts:
        found = [c for c in cells if text in c]
        assert found, f"{text!r} is not in the export"
        assert all(c.startswith("'") and c[1:].startswith(text[0]) for c in found), found
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]


def _assert_neutral_xlsx(data: bytes, *texts: str) -> None:
    cells = _xlsx_cells(data)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for text in texts:
        found = [c for c in cells if isinstance(c.value, str) and text in c.value]
        assert found, f"{text!r} is not in the workbook"
        assert all(c.data_type == "s" and c.value.startswith("'") for c in found)


def test_the_cell_helper_prefixes_every_formula_start_and_leaves_the_rest() -> None:
    for lead in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(f"{lead}1+1") == f"'{lead}1+1"
    for plain in ("主任办公会", "2026-03-03", "45.0%", "", "'=already"):
        assert safe_cell(plain) == plain
    assert safe_cell(3) == 3 and safe_cell(0.5) == 0.5 and safe_cell(None) is None


def test_stats_exports_neutralise_a_requested_formula_title_and_a_chair_name(
        app: Flask) -> None:
    client = login(app, SECRETARY)
    r = client.get("/stats/export.csv?year=2026")
    assert r.status_code == 200
    _assert_neutral_csv(r.data, TITLE, CHIEF)
    r = client.get("/stats/export.xlsx?year=2026")
    assert r.status_code == 200
    _assert_neutral_xlsx(r.data, TITLE, CHIEF)


def test_sign_in_report_neutralises_a_formula_title_and_directory_names(app: Flask) -> None:
    client = login(app, SECRETARY)
    page = f"/signin/{app.config['REQUEST_UID']}/{quote(START.isoformat())}"
    r = client.get(f"{page}/report.csv")
    assert r.status_code == 200
    _assert_neutral_csv(r.data, TITLE, CHIEF, DEPUTY)
    r = client.get(f"{page}/report.xlsx")
    assert r.status_code == 200
    _assert_neutral_xlsx(r.data, TITLE, CHIEF, DEPUTY)


def test_monthly_attendance_exports_neutralise_titles_and_names(app: Flask) -> None:
    app.extensions["calsync"].fixed_now = dt.datetime(2026, 3, 31, 18, 0, tzinfo=TZ)
    client = login(app, SECRETARY)   # the month's report lists the meetings held so far
    r = client.get("/attendance/export.csv?month=2026-03")
    assert r.status_code == 200
    _assert_neutral_csv(r.data, TITLE, CHIEF, DEPUTY)
    r = client.get("/attendance/export.xlsx?month=2026-03")
    assert r.status_code == 200
    _assert_neutral_xlsx(r.data, TITLE, CHIEF, DEPUTY)
