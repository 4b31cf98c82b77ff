"""A person who left (directory.toml ``left``) loses the embedded CalDAV server from the day
after their last day, as they lose the page and the feeds; the others keep it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from calsync.caldav_server.grants import has_left, leavers_of
from calsync.caldav_server.process import EmbeddedCalDAV
from calsync.cli.serve import _granter
from calsync.meetings.accounts import hash_password, sync_directory
from calsync.policy import load_policies
from calsync.store import open_store
from tests.support.servers import free_port

PASSWORD = "caldav-pw-1"
SHIPPED = Path(__file__).resolve().parents[2] / "policies"


def _policies_with(tmp: Path, left: dict[str, dt.date]) -> Path:
    root = tmp / "policies"
    shutil.copytree(SHIPPED, root)
    path = root / "guanliban" / "directory.toml"
    text = path.read_text(encoding="utf-8")
    for person, day in left.items():
        head = f"[people.{person}]\n"
        assert head in text
        text = text.replace(head, f"{head}left = {day.isoformat()}\n")
    path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EmbeddedCalDAV]]:
    base = tmp_path_factory.mktemp("leavers")
    today = dt.date.today()
    policies = load_policies(_policies_with(base, {
        "he_keyuan": today - dt.timedelta(days=3),       # left three days ago
        "qian_keyuan": today + dt.timedelta(days=30)}))  # leaves next month
    instance = base / "instance"
    store = open_store(None, instance)
    sync_directory(store, policies, actor="test")
    for person in ("he_keyuan", "qian_keyuan", "wang_fuzhuren"):
        store.users.set_password(person, hash_password(PASSWORD), actor="test")
    server = EmbeddedCalDAV(instance, "127.0.0.1", free_port(),
                            store.engine.url.render_as_string(hide_password=False),
                            sorted(policies.organizations))
    server.start()
    try:
        _granter(server, lambda: policies)   # what `calsync serve` does before its first publish
        yield f"http://127.0.0.1:{server.port}/", server
    finally:
        server.stop()
        store.close()


def _propfind(url: str, person: str) -> int:
    return requests.request("PROPFIND", url, auth=(person, PASSWORD), headers={"Depth": "0"},
                            timeout=30).status_code


def test_a_leaver_cannot_log_in_the_day_after(dav: tuple[str, EmbeddedCalDAV]) -> None:
    root, _ = dav
    assert _propfind(f"{root}he_keyuan/", "he_keyuan") == 401
    assert _propfind(f"{root}calsync/guanliban/", "he_keyuan") == 401


def test_people_still_in_office_keep_their_calendars(dav: tuple[str, EmbeddedCalDAV]) -> None:
    root, _ = dav
    for person in ("qian_keyuan", "wang_fuzhuren"):   # qian leaves later: still in office
        assert _propfind(f"{root}{person}/", person) == 207


def test_the_rule_itself() -> None:
    grants = {"left": {"a": "2026-12-01", "b": "not a date"}}
    assert not has_left(grants, "a", dt.date(2026, 12, 1))      # the last day still counts
    assert has_left(grants, "a", dt.date(2026, 12, 2))
    assert has_left(grants, "b", dt.date(2026, 1, 1))           # unreadable: refused
    assert not has_left(grants, "c", dt.date(2030, 1, 1))

    class P:
        def __init__(self, pid: str, left: dt.date | None) -> None:
            self.id, self.left = pid, left
    assert leavers_of([P("a", dt.date(2026, 12, 1)), P("b", None)]) == {"a": "2026-12-01"}
