"""Every page and export this round added, asked for by another organization's secretary
(教育局 办公室, liu_zhuren): 管理办's weekly sheet and its Word file, month view, statistics and
their exports, printable report, attendance month and export, and the decisions list either
refuse (403) or show only 教育局's own data — no 管理办 meeting, decision or name gets out."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from calsync.meetings.minutes import DecisionInput
from calsync.occurrence import TZ
from tests.support.webapp import login, make_app

UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
DECISION = "修订窗口服务规范（管理办内部）"
GUANLIBAN_WORDS = ("周例会", "主任办公会", "科务会", "管理办", DECISION, "王立新")


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "instance", users=("liu_zhuren", "zhou_mishukezhang"))
    store = app.extensions["calsync"].store
    store.minutes.add_action_item("guanliban", UID, RID,
                                  DecisionInput(DECISION, "zonghe", dt.date(2026, 3, 20)),
                                  meeting="主任办公会", confidential=False,
                                  actor="zhou_mishukezhang")
    store.attendance.sign_in("guanliban", UID, RID, "wang_fuzhuren", name="王立新",
                             status="present",
                             method="self", actor="wang_fuzhuren",
                             at=dt.datetime(2026, 3, 4, 8, 50, tzinfo=TZ))
    yield app
    app.extensions["calsync"].close()


REFUSED = ("/weekly?org=guanliban", "/weekly/sheet.docx?org=guanliban&week=2026-W10",
           "/meetings?org=guanliban&date=2026-03-04",
           "/meetings/month?org=guanliban&date=2026-03-04",
           "/stats?org=guanliban", "/stats/export.csv?org=guanliban",
           "/stats/export.xlsx?org=guanliban", "/stats/report?org=guanliban&month=2026-03")


@pytest.mark.parametrize("url", REFUSED)
def test_another_organizations_pages_are_refused(app: Flask, url: str) -> None:
    liu = login(app, "liu_zhuren")
    assert liu.get(url).status_code == 403
    # the same page is there for 管理办's own secretary: the refusal is about the organization
    assert login(app, "zhou_mishukezhang").get(url).status_code == 200


def test_own_organization_pages_show_nothing_of_the_other(app: Flask) -> None:
    liu = login(app, "liu_zhuren")
    pages = {url: liu.get(url) for url in (
        "/attendance?month=2026-03", "/minutes/decisions", "/weekly?week=2026-W10",
        "/meetings/month?date=2026-03-04", "/stats/report?month=2026-03")}
    for url, r in pages.items():
        assert r.status_code == 200, url
        text = r.data.decode()
        assert not [w for w in GUANLIBAN_WORDS if w in text], url
    wb = load_workbook(io.BytesIO(liu.get("/attendance/export.xlsx?month=2026-03").data))
    cells = " ".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row
                     if c.value is not None)
    assert not [w for w in GUANLIBAN_WORDS if w in cells]
    # 管理办's secretary sees both in his own organization (the fixture is not empty)
    zhou = login(app, "zhou_mishukezhang")
    assert DECISION in zhou.get("/minutes/decisions").data.decode()
    assert "主任办公会" in zhou.get("/attendance?month=2026-03").data.decode()
