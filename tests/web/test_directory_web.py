"""导入通讯录 on the page through Flask's test client on a real store: the diff first, 确认导入
writes the file and the running service reloads its policies; only secretaries of THAT
organization (another organization's secretary and staff get 403); CSRF; hostile uploads;
and a person who left can no longer log in or read their feed."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from calsync.occurrence import TZ
from calsync.policy import shipped_policies
from tests.support import directory_sheets as ds
from tests.support.webapp import PASSWORD, login, make_app

USERS = ("liu_zhuren", "du_keyuan", "xie_keyuan", "zhou_mishukezhang")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.fixture
def app(tmp_path: Path, root: Path) -> Iterator[Flask]:
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst", root, USERS)
    yield app
    app.extensions["calsync"].close()


def _sheet() -> bytes:
    rows = [r for r in ds.JIAOYUJU if r[0] != "谢　婷"]
    rows.append(("周　敏", "教育股", "科员", "13900000001", "zhou.min@jyj.example.org"))
    return ds.csv_bytes(rows)


def _upload(client: FlaskClient, data: bytes, name: str = "通讯录.csv", **form: str):
    import io

    return client.post("/people/directory", data={"sheet": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def _hidden(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag, html
    value = re.search(r'value="([^"]*)"', tag.group(0))
    assert value, tag.group(0)
    return value.group(1)


def test_upload_shows_the_diff_and_confirm_applies_and_reloads(app: Flask, root: Path) -> None:
    path = root / "jiaoyuju" / "directory.toml"
    before = path.read_bytes()
    sec = login(app, "liu_zhuren")
    r = _upload(sec, _sheet())
    html = r.data.decode()
    assert r.status_code == 200
    assert "新增 1 人，变更 11 人，离职 1 人，未变 0 人" in html
    assert "<code>zhoumin</code>" in html and "<code>xie_keyuan</code>" in html
    assert path.read_bytes() == before                  # nothing written before 确认导入
    done = sec.post("/people/directory/apply", data={
        "token": _hidden(html, "token"), "after": _hidden(html, "after")})
    assert done.status_code == 302 and done.headers["Location"].endswith("/people")
    assert b"[people.zhoumin]" in path.read_bytes()
    core = app.extensions["calsync"]
    assert core.policies.organizations["jiaoyuju"].people["zhoumin"].name == "周敏"
    assert core.store.users.get_user("zhoumin").display_name == "周敏"   # an account, no password
    assert core.store.audit.audit_log("directory:jiaoyuju")[0].action == "directory.import"
    people = sec.get("/people").data.decode()
    assert "通讯录已导入：新增1人，变更11人，离职1人" in people
    assert "2026-03-01 离职" in people
    # the token was used up: a second confirmation applies nothing
    again = sec.post("/people/directory/apply", data={
        "token": _hidden(html, "token"), "after": _hidden(html, "after")})
    assert again.status_code == 302 and again.headers["Location"].endswith("/people/directory")


def test_another_organizations_secretary_and_staff_get_403(app: Flask) -> None:
    own = login(app, "liu_zhuren")
    html = _upload(own, _sheet()).data.decode()
    token, after = _hidden(html, "token"), _hidden(html, "after")
    other = login(app, "zhou_mishukezhang")           # 管理办's secretary
    assert other.get("/people/directory?org=jiaoyuju").status_code == 403
    assert _upload(other, _sheet(), org="jiaoyuju").status_code == 403
    assert other.post("/people/directory/apply", data={
        "org": "jiaoyuju", "token": token, "after": after}).status_code == 403
    # their own organization, someone else's upload: 403 too
    assert other.post("/people/directory/apply", data={
        "token": token, "after": after}).status_code == 403
    staff = login(app, "du_keyuan")            # 教育股: staff, not a secretary
    assert staff.get("/people/directory").status_code == 403
    assert _upload(staff, _sheet()).status_code == 403
    assert other.get("/people/directory").status_code == 200   # their own is fine


def test_csrf_is_checked_on_the_upload(tmp_path: Path, root: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'csrf.sqlite3'}", tmp_path / "inst2", root,
                   ["liu_zhuren"], WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        page = client.get("/login").data.decode()
        token = _hidden(page, "csrf_token")
        client.post("/login", data={"username": "liu_zhuren", "password": PASSWORD,
                                    "csrf_token": token})
        r = _upload(client, _sheet())
        assert r.status_code == 400 and "CSRF" in r.data.decode()
        ok = _upload(client, _sheet(), csrf_token=token)
        assert ok.status_code == 200 and "确认导入" in ok.data.decode()
    finally:
        app.extensions["calsync"].close()


def test_hostile_uploads_get_a_clear_chinese_message(app: Flask) -> None:
    sec = login(app, "liu_zhuren")
    big = _upload(sec, b"x" * (3 * 1024 * 1024), "big.csv")
    assert big.status_code == 413 and "文件过大" in big.data.decode()
    pdf = _upload(sec, b"%PDF-1.7\x00\x01\x02", "通讯录.xlsx")
    assert pdf.status_code == 400
    assert "无法识别的文件：这不是 Excel 表格（.xlsx）或 CSV 文件" in pdf.data.decode()
    bad = _upload(sec, ds.csv_bytes([("王五", "财务股", "科员", "", "w@jyj.example.org")]))
    assert bad.status_code == 400
    assert "第2行“科室/股室”列：“财务股”不是县教育局的科室" in bad.data.decode()
    assert "确认导入" not in bad.data.decode()
    none = sec.post("/people/directory", data={}, content_type="multipart/form-data")
    assert none.status_code == 400 and "请选择要上传的通讯录文件" in none.data.decode()


def test_a_person_who_left_cannot_log_in_the_next_day(app: Flask) -> None:
    assert login(app, "xie_keyuan")                      # before the import
    token = app.extensions["calsync"].store.feeds.feed_token("xie_keyuan", "jiaoyuju", actor="test")
    assert app.test_client().get(f"/feeds/{token}/me.ics").status_code == 200
    sec = login(app, "liu_zhuren")
    html = _upload(sec, _sheet()).data.decode()
    sec.post("/people/directory/apply", data={"token": _hidden(html, "token"),
                                              "after": _hidden(html, "after")})
    core = app.extensions["calsync"]
    assert core.policies.organizations["jiaoyuju"].people["xie_keyuan"].left == \
        dt.date(2026, 3, 1)
    core.fixed_now = dt.datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    r = app.test_client().post("/login", data={"username": "xie_keyuan",
                                               "password": PASSWORD})
    assert r.status_code == 200 and "用户名或密码不正确。" in r.data.decode()
    assert app.test_client().get(f"/feeds/{token}/me.ics").status_code == 404
    assert login(app, "du_keyuan")                       # everyone else still can


def test_shipped_policies_show_the_diff_but_cannot_be_written(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path / "inst3",
                   shipped_policies(), ["liu_zhuren"])
    try:
        html = _upload(login(app, "liu_zhuren"), _sheet()).data.decode()
        assert "新增 1 人" in html and 'id="not-writable"' in html
        assert "确认导入" not in html
    finally:
        app.extensions["calsync"].close()
