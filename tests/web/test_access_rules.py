"""Every route declares its access rule (web/rules.py), and the walk over ``app.url_map``
derives the probes from the rules: anonymous, an uninvited staff member, an invited member,
another organization's secretary and staff. A route added without a rule fails here."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from calsync.web.rules import PUBLIC, RULES, SECRETARY, SIGNED_IN, TOKEN
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule

from calsync import access
from tests.support.webapp import confidential_policies, login, make_app

TITLE = "研究干部任免事项（规则遍历）"
START, END = "2026-03-02T15:00:00+08:00", "2026-03-02T16:30:00+08:00"
USERS = ("zhou_mishukezhang", "qian_keyuan", "wang_fuzhuren", "liu_zhuren", "tang_guzhang")
# Who must never read the confidential meeting's title: nobody logged in, a 科员 of 管理办
# it does not invite, and 教育局's secretary and staff.
NON_READERS = (None, "qian_keyuan", "liu_zhuren", "tang_guzhang")
READERS = ("wang_fuzhuren", "zhou_mishukezhang")


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    root = tmp_path_factory.mktemp("rules")
    policies = confidential_policies(root)
    app = make_app(f"sqlite:///{root / 'store.sqlite3'}", root / "inst", policies, USERS)
    store = app.extensions["calsync"].store
    req = store.requests.add_request("guanliban", section_id="zonghe", category="dangzu",
                                     title=TITLE,
                                     audience=["wang_fuzhuren"], start=START, end=END, room="diyi",
                                     important=False, approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    uid = f"request-{req.id}@guanliban.calsync"
    note = store.leave.add_leave("guanliban", uid, dt.datetime.fromisoformat(START),
                                 "wang_fuzhuren", category="公出",
                                 reason="出差", substitute_id=None, late=False,
                                 needs_director=False,
                                 chair_id=None, director_id=None, actor="wang_fuzhuren")
    values = {"series_uid": uid, "rid": START, "request_id": str(req.id),
              "note_id": str(note.id), "token": "not-a-feed-token", "fmt": "csv",
              "org_id": "guanliban", "section_id": "zonghe", "username": "qian_keyuan",
              "person_id": "qian_keyuan", "clash_id": "no-such-clash", "action": "consent",
              "filename": "style.css"}
    yield app, values
    app.extensions["calsync"].close()


def _url(rule: UrlRule, values: dict[str, str]) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1).rpartition(":")[2]
        return values.get(name, "1")   # ids of objects that do not exist: 1
    return re.sub(r"<([^>]+)>", fill, rule.rule)


def _routes(app: Flask) -> list[tuple[UrlRule, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    return sorted(out, key=lambda rm: (rm[0].endpoint, rm[1]))


def _client(app: Flask, who: str | None) -> FlaskClient:
    return app.test_client() if who is None else login(app, who)


def _call(client: FlaskClient, method: str, url: str):
    return client.open(url, method=method, data={} if method == "POST" else None)


def test_every_route_declares_a_rule(walk) -> None:
    app, _ = walk
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - RULES.keys()) == [], "routes without a rule in web/rules.py"
    assert sorted(RULES.keys() - endpoints) == [], "rules for routes that no longer exist"


def test_every_declared_rule_names_a_rule_of_calsync_access() -> None:
    for endpoint, rule in RULES.items():
        assert rule.door in (PUBLIC, TOKEN, SIGNED_IN, SECRETARY), endpoint
        kind, _, arg = rule.decides.partition(":")
        if kind == "may_act":
            assert arg in access.ACTIONS, (endpoint, arg)
        elif kind == "nothing" or rule.decides.startswith("login limiter"):
            assert arg or rule.decides, endpoint
        else:
            assert callable(getattr(access, rule.decides, None)), (endpoint, rule.decides)


def test_an_undeclared_route_is_refused_not_served(tmp_path: Path) -> None:
    # A route registered with no rule: the door refuses it, even to a secretary (fail
    # closed), so a forgotten rule is never an open door.
    app = make_app(f"sqlite:///{tmp_path / 'store.sqlite3'}", tmp_path / "inst", None,
                   ("zhou_mishukezhang",))
    try:
        app.add_url_rule("/__undeclared__", "undeclared_probe", lambda: "served")
        r = login(app, "zhou_mishukezhang").get("/__undeclared__")
        assert r.status_code == 403
        assert b"served" not in r.data
    finally:
        app.extensions["calsync"].close()


def test_doors_for_someone_not_logged_in(walk) -> None:
    app, values = walk
    client = app.test_client()
    wrong = []
    for rule, method in _routes(app):
        door = RULES[rule.endpoint].door
        r = _call(client, method, _url(rule, values))
        to_login = r.status_code == 401 or (
            r.status_code == 302 and "/login" in r.headers.get("Location", ""))
        if door in (SIGNED_IN, SECRETARY) and not to_login:
            wrong.append((method, rule.rule, r.status_code, "should ask to log in"))
        if door == PUBLIC and to_login:
            wrong.append((method, rule.rule, r.status_code, "public, but asks to log in"))
        if door == TOKEN and r.status_code not in (403, 404):
            wrong.append((method, rule.rule, r.status_code, "a wrong token must not open it"))
    assert wrong == []


@pytest.mark.parametrize("who", ["qian_keyuan", "wang_fuzhuren", "tang_guzhang"])
def test_secretary_doors_refuse_everyone_else(walk, who: str) -> None:
    app, values = walk
    client = login(app, who)
    wrong = [(method, rule.rule, r.status_code)
             for rule, method in _routes(app) if RULES[rule.endpoint].door == SECRETARY
             for r in [_call(client, method, _url(rule, values))] if r.status_code != 403]
    assert wrong == []


@pytest.mark.parametrize("who", NON_READERS)
def test_no_route_shows_the_confidential_title_to_a_non_reader(walk, who: str | None) -> None:
    app, values = walk
    store = app.extensions["calsync"].store
    client = _client(app, who)
    leaks, wrote = [], []
    for rule, method in _routes(app):
        before = store.audit.latest_audit_id()
        r = _call(client, method, _url(rule, values))
        body = r.get_data()
        if TITLE.encode() in body or TITLE.encode("utf-8").hex().encode() in body:
            leaks.append((method, rule.rule, r.status_code))
        if method == "POST" and store.audit.latest_audit_id() != before:
            wrote.append((method, rule.rule, r.status_code))
    assert leaks == [], f"{who or 'anonymous'} read the confidential title"
    assert wrote == [], f"{who or 'anonymous'} changed something with an empty form"


@pytest.mark.parametrize("who", READERS)
def test_the_readers_do_see_it(walk, who: str) -> None:
    app, values = walk
    r = login(app, who).get(f"/meetings/{values['series_uid']}/{values['rid']}")
    assert r.status_code == 200
    assert TITLE in r.get_data(as_text=True)


def test_the_security_page_lists_every_endpoint_rule() -> None:
    from calsync.web.rules import markdown_table

    page = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    assert markdown_table() in page.read_text(encoding="utf-8")
