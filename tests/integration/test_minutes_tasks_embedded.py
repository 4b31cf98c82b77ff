"""Decisions' tasks collections on the embedded Radicale (``calsync serve``): each person
discovers the tasks collections they may read from the server address, and a confidential
meeting's decision reaches nobody but its readers, by any request."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from calsync.app.service import publish_orgs
from calsync.caldav_server.process import EmbeddedCalDAV
from calsync.meetings.accounts import hash_password, sync_directory
from calsync.meetings.minutes import DecisionInput
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import open_store
from tests.support.servers import free_port
from tests.support.webapp import confidential_policies

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 7)   # both meetings, few events
PASSWORD = "caldav-pw-2"
PEOPLE = ("qian_keyuan", "wang_fuzhuren", "zhou_mishukezhang", "liu_zhuren")
SECRET = "拟定人事调整方案"
PUBLIC = "修订窗口服务考评办法"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base: Path = tmp_path_factory.mktemp("tasks-embedded")
    policies = load_policies(confidential_policies(base))
    instance = base / "instance"
    store = open_store(None, instance)
    sync_directory(store, policies, actor="test")
    for person in PEOPLE:
        store.users.set_password(person, hash_password(PASSWORD), actor="test")
    rid = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ).isoformat()        # 主任办公会: confidential
    store.minutes.add_action_item("guanliban", "zhurenbangong@guanliban.calsync",
                                  dt.datetime.fromisoformat(rid),
                                  DecisionInput(SECRET, "zonghe", dt.date(2026, 3, 20)),
                                  meeting="主任办公会", confidential=True,
                                  actor="zhou_mishukezhang")
    rid = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ).isoformat()       # 周例会: public
    store.minutes.add_action_item("guanliban", "zhoulihui@guanliban.calsync",
                                  dt.datetime.fromisoformat(rid),
                                  DecisionInput(PUBLIC, "zonghe", dt.date(2026, 3, 20)),
                                  meeting="周例会", confidential=False, actor="zhou_mishukezhang")
    orgs = ["guanliban"]   # 教育局 publishes nothing here: liu_zhuren is just another org's
    dav = EmbeddedCalDAV(instance, "127.0.0.1", free_port(),
                         store.engine.url.render_as_string(hide_password=False), orgs)
    dav.start()
    try:
        staff = {o.id: [p.id for p in o.staff] for o in policies.organizations.values()}
        _, result = publish_orgs(policies, store, dav.target(), orgs, START, END)
        result.raise_first_error()
        dav.grant(result.specs, orgs, staff)
        yield {"root": f"http://127.0.0.1:{dav.port}/", "result": result}
    finally:
        dav.stop()
        store.close()


def _request(method: str, url: str, person: str, body: str = "", depth: str = "1"):
    return requests.request(method, url, data=body.encode(), auth=(person, PASSWORD),
                            headers={"Depth": depth, "Content-Type": "application/xml"},
                            timeout=30)


def _home(env: dict[str, Any], person: str) -> dict[str, str]:
    """href → display name of the calendars in the person's home."""
    r = _request("PROPFIND", f"{env['root']}{person}/", person,
                 '<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>')
    assert r.status_code == 207, r.text
    out = {}
    for block in re.findall(r"<(?:\w+:)?response>(.*?)</(?:\w+:)?response>", r.text, re.S):
        href = re.search(r"<(?:\w+:)?href>([^<]+)<", block).group(1)  # type: ignore[union-attr]
        name = re.search(r"<(?:\w+:)?displayname>([^<]*)<", block)
        if name:
            out[href] = name.group(1)
    return out


def _everything(env: dict[str, Any], person: str) -> str:
    """All a person gets from every calendar in their home, and from every collection calsync
    published, asked for directly (under /calsync/ and as a link in their home)."""
    query = ('<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
             '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/>'
             '</C:filter></C:calendar-query>')
    urls = [env["root"].rstrip("/") + href for href in _home(env, person)]
    urls += [f"{env['root']}{base}/{spec.slug}/" for spec in env["result"].specs
             for base in ("calsync", person)]
    text = [_request("REPORT", url, person, query).text for url in urls]
    return requests.utils.unquote("\n".join(text)).replace("\r\n ", "")


def test_tasks_collections_in_each_home(env: dict[str, Any]) -> None:
    names = {p: set(_home(env, p).values()) for p in PEOPLE}
    for person in ("qian_keyuan", "wang_fuzhuren", "zhou_mishukezhang"):
        assert "管理办会议议定事项" in names[person]
    assert "管理办保密会议议定事项" in names["wang_fuzhuren"]      # invited to 主任办公会
    assert "管理办保密会议议定事项" in names["zhou_mishukezhang"]  # 秘书科
    assert "管理办保密会议议定事项" not in names["qian_keyuan"]    # not invited
    assert not any("议定事项" in n for n in names["liu_zhuren"])   # another organization


@pytest.mark.parametrize("person", ["qian_keyuan", "liu_zhuren"])
def test_a_confidential_decision_reaches_no_one_else(env: dict[str, Any], person: str) -> None:
    seen = _everything(env, person)
    assert SECRET not in seen
    assert (PUBLIC in seen) == (person == "qian_keyuan")


def test_the_invited_read_it(env: dict[str, Any]) -> None:
    seen = _everything(env, "wang_fuzhuren")
    assert SECRET in seen and PUBLIC in seen
