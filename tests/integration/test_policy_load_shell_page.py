"""The shell and the page read one set of policies (issue 21 item 2): ``calsync.policy.load``
adds the holiday table applied on the 节假日 page (``<instance>/holidays/YYYY.toml``) and the
attendance rules (``<org>/attendance.toml``) for every command, the page and the scheduler.

A table applied to the instance makes two weeks of next March days off. ``calsync clashes``,
``stats`` and ``notices`` on that instance must then agree with the page about those days;
and ``calsync validate`` must refuse what the page refuses at start (a broken
attendance.toml), not print ok."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.calendar.notice import Notice
from calsync.cli import main
from calsync.occurrence import TZ
from calsync.policy import shipped_policies
from calsync.policy.holiday_tables import write_table
from tests.support.webapp import login, make_app

SECRETARY = "zhou_mishukezhang"   # 管理办 秘书科
# Next year, so the notices' horizon (this year and the next) always covers it.
YEAR = dt.datetime.now(TZ).year + 1
FIRST = dt.date(YEAR, 3, 1)
DAYS_OFF = {FIRST + dt.timedelta(days=i): "测试假" for i in range(14)}


@pytest.fixture
def inst(tmp_path: Path) -> Path:
    folder = tmp_path / "inst"
    write_table(Notice(YEAR, None, DAYS_OFF, {}), folder / "holidays")   # as the page applies
    return folder


@pytest.fixture
def app(sqlite_url: str, inst: Path) -> Iterator[Flask]:
    # the page's clock is the real one, like the shell's (`calsync notices` has no --now)
    app = make_app(sqlite_url, inst, None, (SECRETARY,), CALSYNC_NOW=None)
    yield app
    app.extensions["calsync"].close()


def _shell(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_applied_table_is_the_page_s_calendar(app: Flask) -> None:
    cal = app.extensions["calsync"].policies.calendar
    assert all(not cal.is_working_day(d) for d in DAYS_OFF)


def test_clashes_agree_with_the_page(app: Flask, sqlite_url: str, inst: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monday = FIRST - dt.timedelta(days=FIRST.weekday())
    weeks = [monday + dt.timedelta(weeks=i) for i in range(5)]
    out = _shell(capsys, "clashes", "--database-url", sqlite_url, "--instance", str(inst),
                 "--org", "guanliban", "--start", weeks[0].isoformat(),
                 "--end", (weeks[-1] + dt.timedelta(days=6)).isoformat(), "--format", "json")
    shell = sorted(c["id"] for c in json.loads(out))
    client = login(app, SECRETARY)
    page = []
    for w in weeks:
        html = client.get(f"/clashes?org=guanliban&date={w.isoformat()}").data.decode()
        page += re.findall(r'id="clash-([^"]+)"', html)
    assert shell == sorted(page)


def test_stats_agree_with_the_page(app: Flask, sqlite_url: str, inst: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = _shell(capsys, "stats", "--database-url", sqlite_url, "--instance", str(inst),
                 "--org", "guanliban", "--start", f"{YEAR}-01-01", "--end", f"{YEAR}-12-31",
                 "--format", "csv", "--as", SECRETARY)
    page = login(app, SECRETARY).get(f"/stats/export.csv?org=guanliban&year={YEAR}")
    # after the title line, which names its clock
    shell_rows = out.splitlines()[1:]
    assert any(line.startswith("秘书科,") for line in shell_rows)
    assert shell_rows == page.data.decode("utf-8-sig").splitlines()[1:]


def test_notices_agree_with_the_page(app: Flask, sqlite_url: str, inst: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    client = login(app, SECRETARY)
    assert client.post("/notices/send").status_code == 302   # the page queues every notice
    out = _shell(capsys, "notices", "plan", "--database-url", sqlite_url,
                 "--instance", str(inst), "--org", "guanliban")
    assert out.splitlines()[-1] == "0 notices to queue"       # the shell sees the same days


def test_validate_refuses_a_broken_attendance_toml(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "p"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py"))
    (root / "jiaoyuju" / "attendance.toml").write_text(
        '[attendance.meeting_types.ganbu]\nkeeper = "section:dudao"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "--policies", str(root)]) == 2
    out, err = capsys.readouterr()
    assert "ok" not in out
    assert ("jiaoyuju/attendance.toml: attendance.meeting_types.ganbu.keeper: there is no "
            "section 'dudao'") in err


def test_validate_refuses_a_broken_table_in_the_instance(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    folder = tmp_path / "inst" / "holidays"
    folder.mkdir(parents=True)
    (folder / f"{YEAR}.toml").write_text(f"year = {YEAR + 1}\n", encoding="utf-8")
    monkeypatch.setenv("CALSYNC_INSTANCE", str(tmp_path / "inst"))
    capsys.readouterr()
    assert main(["validate"]) == 2
    assert f"differs from the file name {YEAR}.toml" in capsys.readouterr().err
