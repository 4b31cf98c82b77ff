"""The day a page shows: ?date= first, then ?week=, then today (in a request context)."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.exceptions import BadRequest


def test_chosen_day_reads_date_then_week_then_today(tmp_path) -> None:
    from tests.support.web_fixtures import shipped_app

    app = shipped_app(tmp_path, (), "unused-pw", now="2026-03-04T08:00:00+08:00")
    from calsync.web.occurrences import chosen_day

    try:
        with app.test_request_context():
            assert chosen_day("2026-03-18", "2026-W20") == dt.date(2026, 3, 18)
            assert chosen_day(None, "2026-W20") == dt.date(2026, 5, 11)
            assert chosen_day("bad", None) == dt.date(2026, 3, 4)
            # typed by hand where a browser shows a text box instead of a picker
            for typed in ("2026/3/18", "2026.3.18", "2026年3月18日", " 2026-3-18 "):
                assert chosen_day(typed, None) == dt.date(2026, 3, 18), typed
            assert chosen_day("2026-02-30", None) == dt.date(2026, 3, 4)
            with pytest.raises(BadRequest):   # out of the calendar's years: 400 (issue 20)
                chosen_day("0001-01-01", None)
            assert chosen_day(None, None) == dt.date(2026, 3, 4)
    finally:
        app.extensions["calsync"].close()
