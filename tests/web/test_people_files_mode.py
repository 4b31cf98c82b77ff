"""Files holding people's data that calsync writes are 0600 whatever the umask (issue 20 item
12): directory.toml and its backup after an import (CLI and page), the 通讯录 kept between the
page's preview and its confirmation, the calendars `calsync export` writes, and the holiday
table the 节假日 page applies."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.calendar.notice import parse_notice
from calsync.directory import apply, preview
from calsync.ical.export import write_ics
from calsync.meetings.generate import generate
from calsync.policy import load_policies, shipped_policies
from calsync.policy.holiday_tables import write_table
from tests.support import directory_sheets as ds
from tests.support.webapp import login, make_app

NOW = dt.datetime(2026, 12, 7, 9, 30)
NOTICES = Path(__file__).parents[1] / "fixtures" / "notices"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask of a shell or a systemd unit left as is: files would be 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in target.rglob("*.toml"):
        path.chmod(0o644)   # as a copy or a checkout leaves them
    return target


def _sheet() -> bytes:
    rows = [r for r in ds.JIAOYUJU if r[0] != "谢　婷"]
    rows.append(("周　敏", "教育股", "科员", "13900000001", "zhou.min@jyj.example.org"))
    return ds.csv_bytes(rows)


def test_directory_import_writes_the_directory_and_its_backup_0600(root: Path) -> None:
    p = preview(root, "jiaoyuju", "通讯录.csv", _sheet(), NOW.date())
    assert _mode(p.path) == 0o644
    backup = apply(p, NOW)
    assert backup is not None
    assert _mode(p.path) == 0o600, oct(_mode(p.path))
    assert _mode(backup) == 0o600, oct(_mode(backup))


@pytest.fixture
def app(tmp_path: Path, root: Path) -> Iterator[Flask]:
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst", root,
                   ["liu_zhuren"])
    yield app
    app.extensions["calsync"].close()


def test_the_page_keeps_the_upload_and_writes_the_directory_0600(
        app: Flask, root: Path, tmp_path: Path) -> None:
    sec = login(app, "liu_zhuren")
    r = sec.post("/people/directory", data={"sheet": (io.BytesIO(_sheet()), "通讯录.csv")},
                 content_type="multipart/form-data")
    assert r.status_code == 200
    kept = sorted((tmp_path / "inst" / "directory-uploads").iterdir())
    assert {p.suffix for p in kept} == {".bin", ".json"}
    assert {p.name: oct(_mode(p)) for p in kept} == {p.name: oct(0o600) for p in kept}
    html = r.data.decode()
    token = re.search(r'name="token" value="([^"]+)"', html)
    after = re.search(r'name="after" value="([^"]+)"', html)
    assert token and after
    done = sec.post("/people/directory/apply", data={"token": token[1], "after": after[1]})
    assert done.status_code == 302
    folder = root / "jiaoyuju"
    written = [folder / "directory.toml", *folder.glob("directory.toml.bak-*")]
    assert len(written) == 2
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o600) for p in written}


def test_calsync_export_writes_calendars_0600(tmp_path: Path) -> None:
    policies = load_policies(None)
    gen = generate(policies, dt.date(2026, 3, 2), dt.date(2026, 3, 8), ["guanliban"])
    written = write_ics(policies, gen, tmp_path / "out", ["guanliban"])
    assert written
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o600) for p in written}


def test_the_applied_holiday_table_is_0600(tmp_path: Path) -> None:
    text = (NOTICES / "2019.txt").read_text(encoding="utf-8")
    path = write_table(parse_notice(text), tmp_path / "holidays")
    assert _mode(path) == 0o600
