"""Issue 20 items 2, 3, 8 (logout) and 9: one login limiter for every door.

The page (Flask's test client) and a real embedded Radicale share one real store (SQLite and
PostgreSQL): wrong passwords count per account *and* address, so a stranger never locks a
person out from another address; CalDAV logins are throttled like the page's; a temporary
password opens nothing but the change form; a verified CalDAV login is cached (never the
password itself) until its TTL or a password change; logout and a password change end every
session of the person.

Client addresses: the embedded server listens on 127.0.0.1 and the tests connect from other
loopback addresses (127.0.0.2, …), which Linux routes to it; the page's address is the test
client's REMOTE_ADDR."""

from __future__ import annotations

import base64
import http.client
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from radicale import config as radicale_config
from radicale.auth import AuthContext
from werkzeug.routing import AnyConverter, IntegerConverter

from calsync.app import login_limit
from calsync.caldav_server import auth as radicale_auth
from calsync.caldav_server.process import EmbeddedCalDAV, service_password
from calsync.store import Store
from tests.support.servers import free_port
from tests.support.webapp import PASSWORD, login, make_app

SECRETARY, STAFF, OTHER = "zhou_mishukezhang", "qian_keyuan", "wu_kezhang"
USERS = (SECRETARY, STAFF, OTHER)
FAILURES = login_limit.PAIR.failures


@dataclass
class Doors:
    app: Flask
    dav: EmbeddedCalDAV

    @property
    def store(self) -> Store:
        return self.app.extensions["calsync"].store


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    # The page on the real clock: the CalDAV door counts at the real time too.
    app = make_app(db_url, tmp_path / "inst", None, USERS, CALSYNC_NOW=None)
    yield app
    app.extensions["calsync"].close()


@pytest.fixture
def doors(app: Flask) -> Iterator[Doors]:
    """The page and a real embedded Radicale on the same store."""
    policies = app.extensions["calsync"].policies
    orgs = sorted(policies.organizations)
    dav = EmbeddedCalDAV(Path(app.config["CALSYNC_INSTANCE"]), "127.0.0.1", free_port(),
                         app.config["CALSYNC_DATABASE_URL"], orgs)
    dav.start()
    try:
        dav.grant([], orgs, {o.id: [p.id for p in o.staff]
                             for o in policies.organizations.values()})
        yield Doors(app, dav)
    finally:
        dav.stop()


def store_of(app: Flask) -> Store:
    return app.extensions["calsync"].store


def propfind(dav: EmbeddedCalDAV, user: str, password: str, source: str = "127.0.0.2") -> int:
    """The status of a phone's PROPFIND of its home, sent from ``source``."""
    conn = http.client.HTTPConnection("127.0.0.1", dav.port, timeout=30,
                                      source_address=(source, 0))
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        conn.request("PROPFIND", f"/{user}/", headers={
            "Depth": "0", "Authorization": f"Basic {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def page_login(app: Flask, name: str, password: str, addr: str,
               client: FlaskClient | None = None):
    return (client or app.test_client()).post(
        "/login", data={"username": name, "password": password},
        environ_base={"REMOTE_ADDR": addr})


def _pair_failures(store: Store, user: str, addr: str) -> int:
    state = store.login_throttle.throttle_state(login_limit.pair_key(user, addr))
    return state.failures if state is not None else 0


# -- item 2: CalDAV logins are throttled by the page's limiter ------------------------------

def test_caldav_wrong_passwords_lock_that_address_out_of_that_account(doors: Doors) -> None:
    # parallel guesses, as the attacker sent them
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: propfind(doors.dav, STAFF, f"guess-{i}", "127.0.0.2"),
                              range(2 * FAILURES)))
    assert set(codes) == {401}
    assert _pair_failures(doors.store, STAFF, "127.0.0.2") >= FAILURES  # recorded in the store
    # the right password from the guessing address is refused now ...
    assert propfind(doors.dav, STAFF, PASSWORD, "127.0.0.2") == 401
    # ... but the person on another address is not locked out
    assert propfind(doors.dav, STAFF, PASSWORD, "127.0.0.3") == 207


def test_one_limiter_counts_page_and_caldav_failures_together(doors: Doors) -> None:
    for i in range(FAILURES):
        assert page_login(doors.app, STAFF, f"wrong-{i}", "127.0.0.4").status_code == 200
    assert propfind(doors.dav, STAFF, PASSWORD, "127.0.0.4") == 401
    # and the other way round: CalDAV failures close the page to that address
    with ThreadPoolExecutor(FAILURES) as pool:
        assert set(pool.map(lambda i: propfind(doors.dav, OTHER, f"x{i}", "127.0.0.5"),
                            range(FAILURES))) == {401}
    assert page_login(doors.app, OTHER, PASSWORD, "127.0.0.5").status_code == 429
    assert page_login(doors.app, OTHER, PASSWORD, "127.0.0.6").status_code == 302


def _temporary(page: str) -> str:
    found = re.search(r'id="temporary-password" class="secret">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


def test_a_temporary_password_opens_no_caldav_until_changed_on_the_page(doors: Doors) -> None:
    assert propfind(doors.dav, STAFF, PASSWORD) == 207      # cached now, if anything caches
    temporary = _temporary(login(doors.app, SECRETARY).post(f"/people/{STAFF}/reset")
                           .data.decode())
    assert propfind(doors.dav, STAFF, PASSWORD) == 401      # the reset ended the old one
    assert propfind(doors.dav, STAFF, temporary) == 401
    assert _pair_failures(doors.store, STAFF, "127.0.0.2") == 1  # the old one, not the temporary
    client = doors.app.test_client()
    assert page_login(doors.app, STAFF, temporary, "127.0.0.2", client).status_code == 302
    r = client.post("/account/password", data={
        "current": temporary, "new": "my-own-password", "confirm": "my-own-password"})
    assert r.status_code == 302
    assert propfind(doors.dav, STAFF, temporary) == 401
    assert propfind(doors.dav, STAFF, "my-own-password") == 207


def _probe_url(rule) -> str:
    """The rule's path with made-up values its converters accept."""
    def value(converter) -> str:
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)[0]
        return "1" if isinstance(converter, IntegerConverter) else "x"
    built = rule.build({arg: value(conv) for arg, conv in rule._converters.items()})
    assert built is not None, rule.rule
    return built[1]


def test_a_temporary_password_opens_only_the_change_form_and_logout(app: Flask) -> None:
    temporary = _temporary(login(app, SECRETARY).post(f"/people/{STAFF}/reset")
                           .data.decode())
    client = app.test_client()
    assert page_login(app, STAFF, temporary, "127.0.0.7", client).status_code == 302
    open_ = {"accounts.password", "auth.logout", "static"}
    probed = 0
    for rule in app.url_map.iter_rules():
        # feeds answer to their own token, never to the session (web/accounts.py)
        if rule.endpoint in open_ or rule.endpoint.startswith("feeds."):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        r = client.open(_probe_url(rule), method=method)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password"), \
            (rule.rule, method, r.status_code)
        probed += 1
    assert probed > 50
    assert client.get("/account/password").status_code == 200
    assert client.post("/logout").status_code == 302


# -- item 9: a stranger locks nobody out -----------------------------------------------------

def test_a_strangers_wrong_passwords_do_not_lock_the_person_on_their_own_address(
        app: Flask) -> None:
    for i in range(FAILURES):
        page_login(app, STAFF, f"wrong-{i}", "203.0.113.66")
    stranger = page_login(app, STAFF, PASSWORD, "203.0.113.66")
    assert stranger.status_code == 429 and "失败次数过多" in stranger.data.decode()
    assert page_login(app, STAFF, PASSWORD, "10.0.0.1").status_code == 302


def test_many_addresses_slow_an_account_down_but_never_lock_it(app: Flask) -> None:
    slow = login_limit.ACCOUNT
    # strangers on many addresses, each below the pair limit
    for i in range(slow.free + 3):
        page_login(app, STAFF, f"wrong-{i}", f"198.51.100.{i}")
    limiter = login_limit.LoginLimiter(store_of(app))
    now = app.extensions["calsync"].now()
    until = limiter.blocked(STAFF, "10.0.0.1", now)
    assert until is not None and until - now <= slow.longest   # a delay, not a lock
    assert limiter.blocked(STAFF, "10.0.0.1", until) is None
    assert limiter.blocked(OTHER, "10.0.0.1", now) is None


# -- item 3: verified CalDAV logins are cached, never the password ---------------------------

@pytest.fixture
def auth(app: Flask, monkeypatch: pytest.MonkeyPatch) -> radicale_auth.Auth:
    """calsync's Radicale auth plugin in this process, on the page's store."""
    instance = Path(app.config["CALSYNC_INSTANCE"])
    monkeypatch.setenv("CALSYNC_INSTANCE", str(instance))
    monkeypatch.setenv("CALSYNC_DATABASE_URL", app.config["CALSYNC_DATABASE_URL"])
    service_password(instance / "caldav")
    return radicale_auth.Auth(radicale_config.load())


def _context(addr: str = "127.0.0.9") -> AuthContext:
    context = AuthContext()
    context.remote_addr = addr
    return context


def _broken_hash(*_: object) -> bool:
    raise RuntimeError("the password hash cannot be verified")


def test_a_warm_caldav_login_verifies_no_hash(auth: radicale_auth.Auth,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert auth.login(STAFF, PASSWORD, _context())[0] == STAFF
    # fault: hashing is broken from now on (and denies the login); the warm login still
    # answers from the cache, so it verified no hash
    monkeypatch.setattr(radicale_auth, "password_ok", _broken_hash)
    assert auth.login(STAFF, PASSWORD, _context())[0] == STAFF
    assert auth.login(OTHER, PASSWORD, _context())[0] == ""          # a cold login hashes
    assert auth.login(STAFF, PASSWORD + "x", _context())[0] == ""    # so does another password


def test_the_cache_holds_no_password_and_drops_a_changed_one(app: Flask,
                                                             auth: radicale_auth.Auth) -> None:
    assert auth.login(STAFF, PASSWORD, _context())[0] == STAFF
    cache = auth.credentials
    assert len(cache) == 1
    assert PASSWORD not in repr(cache.__dict__)
    assert PASSWORD.encode() not in repr(cache.__dict__).encode()
    # a password change made by the page (another process, same store) takes effect at once
    client = login(app, STAFF)
    client.post("/account/password", data={
        "current": PASSWORD, "new": "changed-password", "confirm": "changed-password"})
    assert auth.login(STAFF, PASSWORD, _context())[0] == ""
    assert len(cache) == 0
    assert auth.login(STAFF, "changed-password", _context())[0] == STAFF


def test_a_guesser_on_a_locked_address_never_meets_a_warm_login(
        auth: radicale_auth.Auth) -> None:
    owner, stranger = "127.0.0.9", "203.0.113.66"
    assert auth.login(STAFF, PASSWORD, _context(owner))[0] == STAFF     # the phone, warm
    for i in range(FAILURES):
        assert auth.login(STAFF, f"guess-{i}", _context(stranger))[0] == ""
    # the right password, guessed now from the locked address, opens nothing
    assert auth.login(STAFF, PASSWORD, _context(stranger))[0] == ""
    assert auth.login(STAFF, PASSWORD, _context(owner))[0] == STAFF


def test_an_account_slowed_by_many_addresses_answers_no_guess_but_keeps_the_phone(
        auth: radicale_auth.Auth) -> None:
    owner = "127.0.0.9"
    assert auth.login(STAFF, PASSWORD, _context(owner))[0] == STAFF
    # a wait of 2 s doubled four times: far longer than this test takes
    for i in range(login_limit.ACCOUNT.free + 4):
        assert auth.login(STAFF, f"guess-{i}", _context(f"198.51.100.{i}"))[0] == ""
    assert auth.login(STAFF, PASSWORD, _context("198.51.100.200"))[0] == ""
    assert auth.login(STAFF, PASSWORD, _context(owner))[0] == STAFF


def test_cached_logins_expire_and_belong_to_one_address() -> None:
    clock = [1000.0]
    cache = radicale_auth.CredentialCache(ttl=300, clock=lambda: clock[0])
    cache.put("qian_keyuan", "pw-1", radicale_auth.Verified("qian_keyuan", {"g"}, 3, "h"),
              "10.0.0.1")
    assert cache.get("qian_keyuan", "pw-1", "10.0.0.1").session_version == 3
    assert cache.get("qian_keyuan", "pw-2", "10.0.0.1") is None
    assert cache.get("wang", "pw-1", "10.0.0.1") is None
    assert cache.get("qian_keyuan", "pw-1", "10.0.0.2") is None   # another address
    clock[0] += 301
    assert cache.get("qian_keyuan", "pw-1", "10.0.0.1") is None
    assert len(cache) == 0


def test_the_cache_stays_bounded() -> None:
    cache = radicale_auth.CredentialCache(ttl=300, size=10, clock=lambda: 0.0)
    for i in range(25):
        cache.put(f"u{i}", "pw", radicale_auth.Verified(f"u{i}", set(), 0, "h"))
    assert len(cache) == 10
    assert cache.get("u24", "pw") is not None and cache.get("u0", "pw") is None


def test_warm_caldav_logins_over_a_real_server_follow_a_password_change(doors: Doors) -> None:
    for _ in range(3):
        assert propfind(doors.dav, STAFF, PASSWORD) == 207
    client = login(doors.app, STAFF)
    client.post("/account/password", data={
        "current": PASSWORD, "new": "changed-password", "confirm": "changed-password"})
    assert propfind(doors.dav, STAFF, PASSWORD) == 401
    assert propfind(doors.dav, STAFF, "changed-password") == 207


# -- item 8: logout and a password change end every session ----------------------------------

def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_logout_ends_every_session_and_a_copied_cookie_fails(app: Flask) -> None:
    desk, phone = login(app, STAFF), login(app, STAFF)
    thief = _copy(app, desk)
    assert thief.get("/meetings").status_code == 200
    assert desk.post("/logout").status_code == 302
    for client in (thief, phone):
        r = client.get("/meetings")
        assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert login(app, STAFF).get("/meetings").status_code == 200   # a new login works


def test_a_password_change_ends_every_other_session_and_copied_cookies(app: Flask) -> None:
    desk, phone = login(app, STAFF), login(app, STAFF)
    thief = _copy(app, phone)
    r = desk.post("/account/password", data={
        "current": PASSWORD, "new": "new-password-9", "confirm": "new-password-9"})
    assert r.status_code == 302
    assert desk.get("/meetings").status_code == 200
    for client in (thief, phone):
        assert client.get("/meetings").headers["Location"].startswith("/login")

