"""Weeks, days and months outside the calendar's years (1950–2150) answer 400 with a message in
Chinese on every page that takes ``week=``, ``date=``, ``day=``, ``month=`` or ``year=``; a
week or day inside them still shows its page, and an unreadable one still means "now"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.webapp import login, make_app

SECRETARY = "zhou_mishukezhang"   # 管理办's 秘书科长: reads /clashes and the statistics
MESSAGE = "超出范围"

OUT_OF_RANGE = [
    "/meetings?week=9999-W52",
    "/meetings?week=0001-W01",
    "/meetings?week=1949-W52",
    "/meetings?week=2026-W60",
    "/meetings?date=9999-12-31",
    "/meetings?date=0001-01-01",
    "/meetings/month?date=9999-12-31",
    "/meetings/month?date=0001-01-01",
    "/clashes?week=9999-W52",
    "/clashes?week=0001-W01",
    "/clashes?date=9999-12-31",
    "/weekly?week=9999-W52",
    "/weekly?week=0001-W01",
    "/weekly?day=9999-12-31",
    "/weekly?day=0001-01-01",
    "/weekly/sheet.docx?week=9999-W52",
    "/attendance?month=9999-12",
    "/attendance?month=0001-01",
    "/stats?year=9999",
    "/stats/report?month=9999-12",
]

IN_RANGE = [
    "/meetings?week=2026-W10",
    "/meetings?week=nonsense",
    "/meetings?date=2026-03-04",
    "/meetings/month?date=2026-03-04",
    "/clashes?week=2026-W10",
    "/weekly?week=2026-W10",
    "/weekly?day=2026-03-04",
    "/attendance?month=2026-03",
    "/stats?year=2026",
    "/stats/report?month=2026-03",
]


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, [SECRETARY])
    yield app
    app.extensions["calsync"].close()


@pytest.mark.parametrize("url", OUT_OF_RANGE)
def test_out_of_range_weeks_and_dates_answer_400_with_a_message(app: Flask, url: str) -> None:
    r = login(app, SECRETARY).get(url)
    assert r.status_code == 400, (url, r.status_code)
    html = r.data.decode()
    assert MESSAGE in html and "1950" in html and "2150" in html, html


@pytest.mark.parametrize("url", IN_RANGE)
def test_weeks_and_dates_in_range_still_show_their_page(app: Flask, url: str) -> None:
    r = login(app, SECRETARY).get(url)
    assert r.status_code == 200, (url, r.status_code)


def test_the_last_and_first_weeks_in_range_show_with_their_neighbours(app: Flask) -> None:
    client = login(app, SECRETARY)
    for url in ("/meetings?week=2150-W52", "/meetings?week=1950-W01",
                "/meetings/month?date=2150-12-31", "/meetings/month?date=1950-01-01"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
