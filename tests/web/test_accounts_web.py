"""Accounts on the page (issue 13 item 1), through Flask's test client on a real store
(SQLite and PostgreSQL): the login page tells nothing about which accounts exist, failures are
rate-limited, secretaries give temporary passwords to their own organization only, the first
login with one must change it, and a password change ends the person's other sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from calsync.app import login_limit
from tests.support.webapp import PASSWORD, login, make_app

# 管理办: a secretary (秘书科), a staff member; 教育局: its secretary (办公室).
USERS = ("zhou_mishukezhang", "qian_keyuan", "wu_kezhang", "liu_zhuren")
NO_PASSWORD = "he_keyuan"   # in the directory, never given a password


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    yield app
    app.extensions["calsync"].close()


def store(app: Flask):
    return app.extensions["calsync"].store


def _error(r) -> str:
    found = re.findall(r'<span class="error">([^<]*)</span>', r.data.decode())
    return " ".join(found)


def _try(app: Flask, name: str, password: str, client: FlaskClient | None = None,
         addr: str = "10.0.0.1"):
    return (client or app.test_client()).post(
        "/login", data={"username": name, "password": password},
        environ_base={"REMOTE_ADDR": addr})


def test_login_page_does_not_tell_which_accounts_exist(app: Flask) -> None:
    assert store(app).users.get_user(NO_PASSWORD).password_hash is None
    wrong = _try(app, "qian_keyuan", "wrong", addr="10.0.0.1")
    unset = _try(app, NO_PASSWORD, "anything", addr="10.0.0.2")
    absent = _try(app, "nobody_at_all", "anything", addr="10.0.0.3")
    assert _error(wrong) == _error(unset) == _error(absent) == "用户名或密码不正确。"
    assert wrong.status_code == unset.status_code == absent.status_code == 200
    assert "尚未设置密码" not in unset.data.decode()


def test_failures_lock_the_account_from_that_address_even_with_the_right_password(
        app: Flask) -> None:
    # (issue 20 item 9: counted per account and address; tests/integration/test_login_doors.py shows
    # that the person on another address is not locked out)
    for i in range(login_limit.PAIR.failures):
        assert _error(_try(app, "qian_keyuan", f"wrong-{i}", addr="10.1.0.1")) == \
            "用户名或密码不正确。"
    locked = _try(app, "qian_keyuan", PASSWORD, addr="10.1.0.1")
    assert locked.status_code == 429 and "失败次数过多" in locked.data.decode()
    # another account from the same address is not affected
    assert _try(app, "wu_kezhang", PASSWORD, addr="10.1.0.1").status_code == 302
    # an account that does not exist locks exactly the same way: the lock tells nothing
    for _ in range(login_limit.PAIR.failures):
        _try(app, "ghost", "x", addr="10.2.0.1")
    ghost = _try(app, "ghost", "x", addr="10.2.0.1")
    assert ghost.status_code == 429 and _error(ghost) == _error(locked)


def test_address_failures_lock_the_address_for_every_account(app: Flask) -> None:
    for i in range(login_limit.ADDRESS.failures):
        _try(app, f"guess_{i}", "x", addr="10.9.9.9")  # one failure per name: no account lock
    assert _try(app, "qian_keyuan", PASSWORD, addr="10.9.9.9").status_code == 429
    assert _try(app, "qian_keyuan", PASSWORD, addr="10.9.9.8").status_code == 302


def test_a_success_clears_the_account_count(app: Flask) -> None:
    for _ in range(login_limit.PAIR.failures - 1):
        _try(app, "qian_keyuan", "wrong", addr="10.3.0.1")
    assert _try(app, "qian_keyuan", PASSWORD, addr="10.3.0.1").status_code == 302
    for _ in range(login_limit.PAIR.failures - 1):
        _try(app, "qian_keyuan", "wrong", addr="10.3.0.1")
    assert _try(app, "qian_keyuan", PASSWORD, addr="10.3.0.1").status_code == 302


def _temporary(page: str) -> str:
    found = re.search(r'id="temporary-password" class="secret">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


def test_secretary_resets_a_password_and_the_first_login_must_change_it(app: Flask) -> None:
    sec = login(app, "zhou_mishukezhang")
    people = sec.get("/people").data.decode()
    assert "钱丽" in people and 'id="user-qian_keyuan"' in people
    assert "liu_zhuren" not in people  # another organization's people are not listed
    r = sec.post("/people/qian_keyuan/reset")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    temporary = _temporary(r.data.decode())
    assert temporary not in sec.get("/people").data.decode()  # shown once
    record = store(app).users.get_user("qian_keyuan")
    assert record.must_change_password
    # the old password is gone; the audit log names the secretary and holds no password
    assert _try(app, "qian_keyuan", PASSWORD).status_code == 200
    entry = store(app).audit.audit_log("user:qian_keyuan")[0]
    assert (entry.action, entry.actor) == ("user.password", "zhou_mishukezhang")
    assert temporary not in f"{entry.before}{entry.after}"

    client = app.test_client()
    r = _try(app, "qian_keyuan", temporary, client=client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    # every other page sends them to the change form first
    assert client.get("/meetings").headers["Location"].endswith("/account/password")
    page = client.get("/account/password").data.decode()
    assert 'id="temporary"' in page
    short = client.post("/account/password", data={
        "current": temporary, "new": "short", "confirm": "short"})
    assert "至少10位" in short.data.decode()
    same = client.post("/account/password", data={
        "current": temporary, "new": temporary + "x", "confirm": temporary + "y"})
    assert "不一致" in same.data.decode()
    done = client.post("/account/password", data={
        "current": temporary, "new": "my-own-password", "confirm": "my-own-password"})
    assert done.status_code == 302
    assert client.get("/meetings").status_code == 200
    assert not store(app).users.get_user("qian_keyuan").must_change_password
    assert _try(app, "qian_keyuan", "my-own-password").status_code == 302


def test_reset_is_for_a_secretary_of_the_persons_own_organization(app: Flask) -> None:
    before = store(app).users.get_user("qian_keyuan")
    staff = login(app, "wu_kezhang")
    assert staff.get("/people").status_code == 403
    assert staff.post("/people/qian_keyuan/reset").status_code == 403
    assert staff.post("/people/wu_kezhang/reset").status_code == 403  # not even their own
    other = login(app, "liu_zhuren")  # 教育局's secretary
    assert other.post("/people/qian_keyuan/reset").status_code == 403
    assert "钱丽" not in other.get("/people").data.decode()
    assert store(app).users.get_user("qian_keyuan") == before
    assert login(app, "zhou_mishukezhang").post("/people/nobody/reset").status_code == 404


def test_changing_a_password_ends_the_other_sessions(app: Flask) -> None:
    phone, desk = login(app, "qian_keyuan"), login(app, "qian_keyuan")
    wrong = desk.post("/account/password", data={
        "current": "not-it", "new": "new-password-1", "confirm": "new-password-1"})
    assert "当前密码不正确" in wrong.data.decode()
    r = desk.post("/account/password", data={
        "current": PASSWORD, "new": "new-password-1", "confirm": "new-password-1"})
    assert r.status_code == 302
    assert desk.get("/meetings").status_code == 200           # this session goes on
    assert phone.get("/meetings").status_code == 302          # the other one is over
    assert phone.get("/meetings").headers["Location"].startswith("/login")


def test_a_reset_ends_the_persons_sessions(app: Flask) -> None:
    staff = login(app, "qian_keyuan")
    login(app, "zhou_mishukezhang").post("/people/qian_keyuan/reset")
    assert staff.get("/meetings").status_code == 302


def test_passwords_use_werkzeugs_current_default(app: Flask) -> None:
    client = login(app, "qian_keyuan")
    client.post("/account/password", data={
        "current": PASSWORD, "new": "new-password-2", "confirm": "new-password-2"})
    method = store(app).users.get_user("qian_keyuan").password_hash.split("$", 1)[0]
    assert method == generate_password_hash("x").split("$", 1)[0]
    assert method.split(":")[0] in ("scrypt", "pbkdf2")
