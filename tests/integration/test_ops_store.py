"""Issue 14, bad store and public URL: a damaged SQLite file and a read-only one are one
clear line naming the file and the fix (exit 2, nothing changed, the service refuses to
start); a NUL in a form is cleaned with a message on SQLite and PostgreSQL (no 500); links
follow CALSYNC_PUBLIC_URL, never a Host header (nor X-Forwarded-Host, issue 20)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync.store import db as store_db
from calsync.store import open_store
from tests.support.servers import free_port
from tests.support.webapp import login, make_app

USERS = ("qian_keyuan", "tang_guzhang")
ZHOULIHUI = "zhoulihui@guanliban.calsync"


def _cli(args: list[str], instance: Path, **env: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-m", "calsync.cli", *args], capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "CALSYNC_INSTANCE": str(instance),
                               "CALSYNC_ADMIN_PASSWORD": "admin-secret-1", **env})
    out = (done.stdout + done.stderr).decode("utf-8", "replace")
    return done.returncode, [line for line in out.splitlines() if line.strip()]


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An instance folder whose database holds one user (then closed cleanly)."""
    inst = tmp_path / "inst"
    with open_store(None, inst) as store:
        store.users.set_user("qian_keyuan", organization="guanliban", display_name="钱丽",
                             role="staff", password_hash=None, actor="test")
    return inst


def _garbage(data: bytes) -> bytes:
    return random.Random(7).randbytes(len(data))


def _malformed(data: bytes) -> bytes:
    rng = random.Random(1)
    return data[:4096] + rng.randbytes(len(data) - 4096)


def _undecodable(data: bytes) -> bytes:
    head = store_db.head_revision().encode()   # alembic_version's text
    i = data.find(head)
    assert i > 0
    return data[:i] + b"\xff\xfe" + data[i + 2:]


@pytest.mark.parametrize("damage", [_garbage, _malformed, _undecodable])
def test_a_damaged_sqlite_file_is_one_line_exit_2_and_untouched(instance: Path, damage) -> None:
    db = instance / "calsync.sqlite3"
    db.write_bytes(damage(db.read_bytes()))
    before = db.read_bytes()
    for args in (["conflicts"], ["serve", "--port", str(free_port())]):
        code, lines = _cli(args, instance)
        assert code == 2, lines
        assert len(lines) == 1, lines
        assert "Traceback" not in lines[0] and "UnicodeDecodeError" not in lines[0]
        assert str(db) in lines[0] and "damaged" in lines[0] and "backup" in lines[0], lines
        assert db.read_bytes() == before  # nothing written, nothing lost


@pytest.fixture
def read_only_db(instance: Path) -> Iterator[Path]:
    """The database file made immutable (chattr +i): even root cannot write it."""
    db = instance / "calsync.sqlite3"
    subprocess.run(["chattr", "+i", str(db)], check=True)
    try:
        yield db
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_a_read_only_database_refuses_to_start(instance: Path, read_only_db: Path) -> None:
    before = read_only_db.read_bytes()
    code, lines = _cli(["serve", "--port", str(free_port())], instance)
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert str(read_only_db) in lines[0] and "read-only" in lines[0] and "chmod" in lines[0]
    assert "serving on" not in lines[0]
    code, lines = _cli(["conflicts"], instance)
    assert code == 2 and len(lines) == 1 and "read-only" in lines[0], lines
    assert read_only_db.read_bytes() == before


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    yield app
    app.extensions["calsync"].close()


def test_nul_in_a_reason_or_title_is_cleaned_with_a_message(app: Flask) -> None:
    client = login(app, "qian_keyuan")
    rid = "2026-03-02T09:30:00+08:00"
    r = client.post("/leave", data={"occurrence": f"{ZHOULIHUI}|{rid}", "category": "事假",
                                    "reason": "家中\x00有事", "substitute": ""})
    assert r.status_code == 302, r.data.decode()[:3000]
    page = client.get(r.headers["Location"]).data.decode()
    assert "空字符（NUL），已自动删除" in page
    [note] = app.extensions["calsync"].store.leave.leave_notes("guanliban")
    assert note.reason == "家中有事"

    section = login(app, "tang_guzhang")
    data = {"section": "jiaoyugu", "category": "jiceng", "title": "教学\x00检查", "room": "",
            "audience": ["du_keyuan"], "start": "2026-03-02T15:00", "end": "2026-03-02T16:00"}
    r = section.post("/requests", data=data)
    assert r.status_code == 302, r.data.decode()[:3000]
    [req] = app.extensions["calsync"].store.requests.meeting_requests("jiaoyuju")
    assert req.title == "教学检查"


def _login_at(app: Flask, base: str):
    from tests.support.webapp import PASSWORD

    client = app.test_client()
    r = client.post("/login", base_url=base,
                    data={"username": "qian_keyuan", "password": PASSWORD})
    assert r.status_code == 302
    return client


def _links(page: str) -> list[str]:
    return re.findall(r'(?:https?|webcal)://[^"<\s]+', page)


def test_public_url_from_the_environment_wins_over_the_host_header(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.feeds import _qr

    monkeypatch.setenv("CALSYNC_PUBLIC_URL", "https://cal.example.org/")
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    try:
        client = _login_at(app, "http://attacker.example")  # the Host header it sends
        page = client.get("/subscriptions", base_url="http://attacker.example",
                          headers={"X-Forwarded-Host": "evil.example"}).data.decode()
        links = _links(page)
        assert links and "attacker.example" not in page and "evil.example" not in page
        feed = [u for u in links if "/feeds/" in u]
        assert feed and all(u.split("://", 1)[1].startswith("cal.example.org/") for u in feed)
        webcal = next(u for u in feed if u.startswith("webcal://"))
        assert _qr(webcal) in page  # the QR code carries the public address too
    finally:
        app.extensions["calsync"].close()


def test_forwarded_host_never_reaches_links_even_behind_a_configured_proxy(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 20 item 10: a proxy passes the client's Host on as X-Forwarded-Host, so it is no
    # more vetted than Host itself; links use the configured address (web/links.py)
    monkeypatch.delenv("CALSYNC_PUBLIC_URL", raising=False)
    headers = {"X-Forwarded-Host": "cal.example.org", "X-Forwarded-Proto": "https"}
    for proxies in ("", "1"):
        monkeypatch.setenv("CALSYNC_TRUSTED_PROXIES", proxies)
        app = make_app(db_url, tmp_path / f"inst{proxies}", None, USERS)
        try:
            page = login(app, "qian_keyuan").get("/subscriptions", headers=headers)
            text = page.data.decode()
            assert "http://localhost/feeds/" in text, _links(text)
            assert "cal.example.org" not in text, _links(text)
        finally:
            app.extensions["calsync"].close()


def test_a_database_turned_read_only_under_the_service_is_a_503_not_a_form_error(
        postgres_databases, tmp_path: Path) -> None:
    """PostgreSQL switched to read-only while the app runs (a failover to a replica): the
    leave form answers 503 数据库暂时无法使用, not 此会议已有未完成的请假; nothing is stored; a
    restart is refused with one line."""
    import psycopg
    from sqlalchemy.engine import make_url

    from calsync.store.health import ReadOnlyStore

    url = postgres_databases()
    app = make_app(url, tmp_path / "inst", None, USERS)
    try:
        client = login(app, "qian_keyuan")
        name = make_url(url).database
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        r = client.post("/leave", data={"occurrence": f"{ZHOULIHUI}|2026-03-02T09:30:00+08:00",
                                        "category": "事假", "reason": "家中有事",
                                        "substitute": ""})
        text = r.data.decode()
        assert r.status_code == 503, text[:3000]
        assert "数据库暂时无法使用" in text and "未完成的请假" not in text
    finally:
        app.extensions["calsync"].close()
    with pytest.raises(ReadOnlyStore, match="read-only"):
        make_app(url, tmp_path / "inst", None, ())
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    with open_store(url) as store:
        assert store.leave.leave_notes("guanliban") == []  # nothing half-stored
