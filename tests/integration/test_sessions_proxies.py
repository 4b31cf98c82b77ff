"""Sessions, framing, proxies and links (issue 20, items 8 and 10), through the real app: the
session cookie's attributes as sent, the anti-framing headers on pages and error pages, links
built from the configured address whatever the Host header says, and ``calsync serve`` behind
a real reverse proxy process on loopback (tests/support/revproxy.py)."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path

import pytest
from calsync.web.feeds import _qr as feed_qr
from calsync.web.signin import _qr as signin_qr
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from calsync.store import open_store
from calsync.store.models import LoginThrottleRow
from tests.support.revproxy import client_from, start_proxy
from tests.support.serve_proc import Serve, csrf, run_cli, start_serve
from tests.support.servers import free_port
from tests.support.webapp import PASSWORD, make_app

SECRETARY, STAFF = "zhou_mishukezhang", "qian_keyuan"
USERS = (SECRETARY, STAFF)
ADMIN_PASSWORD = "admin-secret-1"
LISTEN = "http://calsync.lan:8080"
ATTACKER = "http://attacker.example"
SIGNIN_UID = "zhurenbangong@guanliban.calsync"
SIGNIN_RID = "2026-03-04T09:00:00+08:00"
CLIENT, PROXY_SOURCE, SPOOFED = "127.0.0.3", "127.0.0.2", "198.51.100.7"


@pytest.fixture(autouse=True)
def _no_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CALSYNC_PUBLIC_URL", "CALSYNC_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)


def _session_cookie(r: TestResponse) -> str:
    [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def _attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


# -- item 8: the session cookie and framing ---------------------------------------------------

def test_session_cookie_is_httponly_samesite_lax_and_not_secure_over_http(
        db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    try:
        r = app.test_client().post("/login", data={"username": STAFF, "password": PASSWORD})
        assert r.status_code == 302
        attrs = _attributes(_session_cookie(r))
        assert "samesite=lax" in attrs and "httponly" in attrs, attrs
        assert "secure" not in attrs, attrs   # plain http: a Secure cookie would never return
    finally:
        app.extensions["calsync"].close()


def test_session_cookie_is_secure_when_the_public_url_is_https(
        db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path / "inst", None, USERS,
                   CALSYNC_PUBLIC_URL="https://rili.example.org")
    try:
        r = app.test_client().post("/login", base_url="https://rili.example.org",
                                   data={"username": STAFF, "password": PASSWORD})
        assert r.status_code == 302
        attrs = _attributes(_session_cookie(r))
        assert {"secure", "samesite=lax", "httponly"} <= attrs, attrs
    finally:
        app.extensions["calsync"].close()


def _unframeable(r: TestResponse, what: str) -> None:
    assert r.mimetype == "text/html", (what, r.mimetype)
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, (what, r.status_code, dict(r.headers))
    assert r.headers.get("X-Frame-Options") == "DENY", (what, r.status_code)


def test_no_page_may_be_framed_including_error_pages(db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path / "inst", None, USERS, WTF_CSRF_ENABLED=True)
    try:
        anonymous = app.test_client()
        login_page = anonymous.get("/login")
        assert login_page.status_code == 200
        _unframeable(login_page, "login")
        bad = anonymous.post("/login", data={"username": STAFF, "password": "x"})  # no token
        assert bad.status_code == 400 and "CSRF" in bad.get_data(as_text=True)
        _unframeable(bad, "CSRF error page")
        staff = app.test_client()
        token = csrf(staff.get("/login").get_data(as_text=True))
        assert staff.post("/login", data={"username": STAFF, "password": PASSWORD,
                                          "csrf_token": token}).status_code == 302
        for path, code in (("/meetings", 200), ("/subscriptions", 200),
                           ("/notices", 403), ("/no-such-page", 404)):
            r = staff.get(path)
            assert r.status_code == code, (path, r.status_code)
            _unframeable(r, path)
    finally:
        app.extensions["calsync"].close()


# -- item 10: links follow the configured address, never the Host header ------------------------

def _login_at_attacker(app: Flask, name: str) -> FlaskClient:
    """Logged in through a forged Host (the test client keeps cookies per host)."""
    client = app.test_client()
    r = client.post("/login", base_url=ATTACKER, data={"username": name, "password": PASSWORD})
    assert r.status_code == 302
    return client


def _keeper_sheet(client: FlaskClient) -> str:
    page = client.get(f"/signin/{SIGNIN_UID}/{SIGNIN_RID}",
                      base_url=ATTACKER, headers={"X-Forwarded-Host": "evil.example"})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_links_use_the_listen_address_not_the_host_header(db_url: str, tmp_path: Path) -> None:
    app = make_app(db_url, tmp_path / "inst", None, USERS, CALSYNC_LISTEN_URL=LISTEN)
    try:
        client = _login_at_attacker(app, SECRETARY)
        forged = {"base_url": ATTACKER, "headers": {"X-Forwarded-Host": "evil.example"}}
        subs = client.get("/subscriptions", **forged).get_data(as_text=True)
        feeds = re.findall(r'(?:https?|webcal)://[^"<\s]+/feeds/[^"<\s]+', subs)
        assert len(feeds) >= 4, subs
        assert all(u.split("://", 1)[1].startswith("calsync.lan:8080/feeds/") for u in feeds)
        webcal = next(u for u in feeds if u.startswith("webcal://"))
        assert feed_qr(webcal) in subs    # the QR code carries the listen address too

        external = client.get("/subscriptions/external", **forged).get_data(as_text=True)
        assert "webcal://calsync.lan:8080/feeds/" in external

        sheet = _keeper_sheet(client)
        url = re.search(r"签到链接：<code>([^<]+)</code>", sheet).group(1)
        assert url.startswith(f"{LISTEN}/s/"), url
        assert signin_qr(url) in sheet
        poster = client.get(f"/signin/{SIGNIN_UID}/{SIGNIN_RID}/poster", **forged)
        assert signin_qr(url) in poster.get_data(as_text=True)

        assert client.post("/notices/send", **forged).status_code == 302
        mails = sorted((tmp_path / "inst" / "outbox").glob("*.eml"))
        assert mails
        texts = [_plain(p.read_bytes()) for p in mails]
        assert any(f"{LISTEN}/meetings?" in t for t in texts)
        for page in (subs, external, sheet, poster.get_data(as_text=True), *texts):
            assert "attacker.example" not in page and "evil.example" not in page
    finally:
        app.extensions["calsync"].close()


def _plain(raw: bytes) -> str:
    part = next(p for p in message_from_bytes(raw).walk()
                if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_links_without_a_configured_address_ignore_the_host_header(
        db_url: str, tmp_path: Path) -> None:
    """Neither CALSYNC_PUBLIC_URL nor a listen address (an app outside `calsync serve`):
    links use localhost rather than whatever Host a request names."""
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    try:
        client = _login_at_attacker(app, SECRETARY)
        subs = client.get("/subscriptions", base_url=ATTACKER).get_data(as_text=True)
        assert "http://localhost/feeds/" in subs and "attacker.example" not in subs
        sheet = _keeper_sheet(client)
        assert "http://localhost/s/" in sheet and "attacker.example" not in sheet
    finally:
        app.extensions["calsync"].close()


# -- item 10: `calsync serve` behind a real reverse proxy ---------------------------------------

def _serve(tmp_path: Path, extra_env: dict[str, str]) -> tuple[Serve, Path]:
    instance = tmp_path / "instance"
    env = {"CALSYNC_INSTANCE": str(instance), "CALSYNC_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "CALSYNC_PUBLISH_INTERVAL_SECONDS": "3600", **extra_env}
    run_cli(["user", "set-password", STAFF, "--password-stdin"], env, PASSWORD + "\n")
    serve = start_serve(["--caldav-port", str(free_port())], env, tmp_path / "serve.log",
                        free_port())
    serve.wait_page()
    return serve, instance


def _throttled_addresses(instance: Path) -> set[str]:
    """Every address in the failed-login counters: addresses are recorded literally."""
    with open_store(None, instance) as store, store.engine.connect() as conn:
        keys = list(conn.execute(select(LoginThrottleRow.key)).scalars())
    return {a for a in (CLIENT, PROXY_SOURCE, SPOOFED, "127.0.0.1")
            if any(a in k for k in keys)}


def _fail_logins(proxy_url: str, times: int) -> None:
    """Wrong passwords from CLIENT through the proxy, each claiming SPOOFED in its own
    X-Forwarded-For (a client may write that header; the proxy appends the real peer)."""
    s = client_from(CLIENT)
    # the page as a browser saw it through the TLS proxy: Flask-WTF compares an https
    # request's Referer with its host
    referer = "https://" + proxy_url.split("://", 1)[1] + "login"
    s.headers.update({"X-Forwarded-For": SPOOFED, "Referer": referer})
    for _ in range(times):
        token = csrf(s.get(proxy_url + "login", timeout=30).text)
        r = s.post(proxy_url + "login", data={"csrf_token": token, "username": STAFF,
                                              "password": "wrong-password"}, timeout=30)
        assert r.status_code == 200 and "/login" in r.url, (r.status_code, r.text[:800])


def test_failed_logins_behind_a_trusted_proxy_count_against_the_client_it_reports(
        tmp_path: Path) -> None:
    serve, instance = _serve(tmp_path, {"CALSYNC_TRUSTED_PROXIES": "1"})
    proxy = start_proxy(serve.port, tmp_path / "proxy.log", source=PROXY_SOURCE)
    try:
        _fail_logins(proxy.url, 3)
        assert _throttled_addresses(instance) == {CLIENT}, serve.log()[-3000:]

        # a forged Host through the proxy changes no link: the address serve listens on
        s = client_from(CLIENT)
        s.headers.update({"Host": "attacker.example", "Referer": "https://attacker.example/"})
        token = csrf(s.get(proxy.url + "login", timeout=30).text)
        r = s.post(proxy.url + "login", timeout=30, allow_redirects=False,
                   data={"csrf_token": token, "username": STAFF, "password": PASSWORD})
        assert r.status_code == 302, r.text[:800]
        subs = s.get(proxy.url + "subscriptions", timeout=30)
        assert subs.status_code == 200
        assert f"http://localhost:{serve.port}/feeds/" in subs.text
        assert "attacker.example" not in subs.text
    finally:
        proxy.stop()
        assert serve.stop() == 0, serve.log()


def test_forwarded_headers_are_ignored_without_trusted_proxies(tmp_path: Path) -> None:
    serve, instance = _serve(tmp_path, {})
    proxy = start_proxy(serve.port, tmp_path / "proxy.log", source=PROXY_SOURCE)
    try:
        _fail_logins(proxy.url, 3)
        # counted against the proxy, the only peer calsync can vouch for
        assert _throttled_addresses(instance) == {PROXY_SOURCE}, serve.log()[-3000:]
    finally:
        proxy.stop()
        assert serve.stop() == 0, serve.log()

