"""`calsync clashes --format json` reads the moves stored in the database."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from calsync.cli import main
from calsync.occurrence import TZ
from calsync.store import open_store
from tests.properties.test_clashes import ORG, WANG


def test_cli_json_follows_stored_moves(capsys, db_url) -> None:
    args = ["clashes", "--start", "2026-03-02", "--end", "2026-03-08", "--format", "json",
            "--database-url", db_url]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert Counter(r["kind"] for r in rows) == {"person": 2}
    monday = next(r for r in rows if r["kind"] == "person" and r["start"].startswith(
        "2026-03-02"))
    assert (monday["subject"], monday["subject_name"]) == (WANG, "王立新")
    assert [i["recurrence_id"] for i in monday["items"]] == ["2026-03-02T10:30:00+08:00"] * 2
    with open_store(db_url) as store:
        store.decisions.add_decision(ORG, "kewuhui-zonghe-mon@guanliban.calsync",
                                     dt.datetime(2026, 3, 2, 10, 30, tzinfo=TZ), "move",
                                     actor="t", source="cli",
                                     new_start=dt.datetime(2026, 3, 3, 15, 0, tzinfo=TZ),
                                     new_end=dt.datetime(2026, 3, 3, 15, 45, tzinfo=TZ))
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert Counter(r["kind"] for r in rows) == {"person": 1}
    assert main([*args[:4], "2026-03-01", "--database-url", db_url]) == 2
    assert "before --start" in capsys.readouterr().err
