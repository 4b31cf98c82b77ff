"""calsync's own leftovers are calsync's (issue 20, item 13).

The first released layout published every series of an organization, confidential ones in
full, into the organization's collection: one resource per series, named by its id, under the
series UID (``request-1.ics`` for an approved 党组会议). Its store keyed every row by the
collection's full URL, port included. These tests build that store and that collection in the
test (real Radicale, real SQLite/PostgreSQL), restart the server on another port as
``calsync serve`` does when its port is taken, and publish with today's code.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calsync.app.service import build
from calsync.cli import main
from calsync.ical.render import new_calendar, series_events
from calsync.meetings.accounts import sync_directory
from calsync.policy import load_policies
from calsync.store import Store, open_store
from calsync.sync.errors import SafetyValveError
from calsync.sync.layouts import retired
from calsync.sync.normalize import policy_key
from calsync.sync.plan import Desired, ServerItem, Stored, href_for, plan
from calsync.sync.publish import CollectionSpec
from tests.support.servers import ServerHandle, start_radicale
from tests.support.webapp import confidential_policies

ORG = "guanliban"
START, END = dt.date(2026, 2, 23), dt.date(2026, 3, 22)
DANGZU_TITLE = "研究干部任免事项"
REQUEST_UID = "request-1@guanliban.calsync"
WHOLE_WEEKLY = "zhoulihui@guanliban.calsync"  # today one resource per duty leader


def _old_object(uid: str, summary: str, org: str | None, klass: str = "PUBLIC") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//someone//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:20260201T000000Z",
             "DTSTART;TZID=Asia/Shanghai:20260305T100000", "DURATION:PT1H",
             f"SUMMARY:{summary}", f"CLASS:{klass}"]
    if org:
        lines.append(f"X-CALSYNC-ORG:{org}")
    return "\r\n".join([*lines, "END:VEVENT", "END:VCALENDAR", ""]).encode()


# Not ours, whatever they say: no marker; another organization's marker (not in the
# policies); our marker on a UID calsync never makes (an app's copy of one of our events).
FOREIGN = {
    "kaoqin.ics": _old_object("kaoqin-2026@example.org", "市局考勤检查", None, "CONFIDENTIAL"),
    "shiju.ics": _old_object("request-9@shiju.calsync", "市局党组会", "shiju", "CONFIDENTIAL"),
    "copy.ics": _old_object("5F1C0A2E-PHONE@iphone", "复制的会议", ORG, "CONFIDENTIAL"),
}


@dataclass
class Old:
    """The first released layout on a Radicale that now runs on another port."""

    server: ServerHandle
    home: str  # today's calendar home (new port)
    old_url: str  # the organization collection as the old store knew it (old port)
    url: str  # the same collection on the new port
    policies_dir: Path
    db_url: str
    instance: Path
    names: dict[str, str]  # uid -> old resource name
    confidential: set[str]  # uids the old layout wrote in full with CLASS:CONFIDENTIAL

    def get(self, name: str) -> tuple[int, bytes, str | None]:
        status, headers, body = self.server.request("GET", f"{self.url}{name}")
        return status, body, headers.get("etag") or headers.get("ETag")

    def listing(self) -> dict[str, bytes]:
        status, _, body = self.server.request("PROPFIND", self.url, b"", {"Depth": "1"})
        assert status == 207
        path = urlsplit(self.url).path
        out = {}
        for href in _hrefs(body):
            if href.endswith(".ics") and urlsplit(href).path.startswith(path):
                name = urlsplit(href).path[len(path):]
                out[name] = self.get(name)[1]
        return out


def _hrefs(body: bytes) -> list[str]:
    return [e.text or "" for e in ET.fromstring(body).iter("{DAV:}href")]


def _approved_dangzu(store: Store) -> None:
    req = store.requests.add_request(ORG, section_id="zonghe", category="dangzu",
                                     title=DANGZU_TITLE,
                                     audience=["wang_fuzhuren"], start="2026-03-10T14:00:00+08:00",
                                     end="2026-03-10T16:00:00+08:00", room="diyi", important=False,
                                     approver_id=None, actor="test")
    store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)


def _first_layout(policies_dir: Path, store: Store) -> dict[str, tuple[str, bytes]]:
    """name -> (uid, bytes): every series of the organization in full, one resource under
    its series UID (no parts, no busy blocks, every attendee listed)."""
    policies = load_policies(policies_dir)
    built = build(policies, store, START, END, [ORG])
    out = {}
    for s in built.generation.series:
        cal = new_calendar()
        for ev in series_events(s, built.stamps[s.uid], groups=False, whole=True):
            cal.add_component(ev)
        out[s.id] = (s.uid, cal.to_ical())
    return out


def _put(server: ServerHandle, url: str, body: bytes, etag: str | None = None) -> str:
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    headers["If-Match" if etag else "If-None-Match"] = etag or "*"
    status, answer, _ = server.request("PUT", url, body, headers)
    assert status in (201, 204), (status, url)
    got = answer.get("etag") or answer.get("ETag")
    assert got
    return got


@pytest.fixture
def old(tmp_path: Path, db_url: str) -> Iterator[Old]:
    policies_dir = confidential_policies(tmp_path)
    instance = tmp_path / "instance"
    with open_store(db_url) as store:
        sync_directory(store, load_policies(policies_dir), actor="test")
        _approved_dangzu(store)
        layout = _first_layout(policies_dir, store)
        first = start_radicale(base_dir=tmp_path / "dav")
        try:
            old_url = f"{first.calendar_home_url}{ORG}/"
            first.mkcalendar(old_url, "管理办")
            names, confidential = {}, set()
            for name, (uid, body) in sorted(layout.items()):
                href = urlsplit(old_url).path + f"{name}.ics"
                etag = _put(first, f"{old_url}{name}.ics", body)
                # the row the first version recorded after its PUT
                store.sync_state.upsert_resource(ORG, old_url, uid, written_ics=body.decode(),
                                                 content_hash=policy_key(body), sequence=0,
                                                 href=href,
                                                 etag=etag)
                names[uid] = name
                if b"CLASS:CONFIDENTIAL" in body:
                    confidential.add(uid)
            for name, body in FOREIGN.items():
                _put(first, f"{old_url}{name}", body)
        finally:
            first.stop(remove_data=False)
    server = start_radicale(base_dir=tmp_path / "dav")  # restarted: another port
    try:
        assert server.port != urlsplit(old_url).port
        home = server.calendar_home_url
        yield Old(server, home, old_url, f"{home}{ORG}/", policies_dir, db_url, instance,
                  names, confidential)
    finally:
        server.stop()


def _publish(capsys: pytest.CaptureFixture[str], o: Old, *extra: str) -> dict:
    code = main(["publish", "--caldav-url", o.home, "--username", o.server.username or "",
                 "--password", o.server.password or "", "--database-url", o.db_url,
                 "--instance", str(o.instance), "--policies", str(o.policies_dir),
                 "--org", ORG, "--start", str(START), "--end", str(END), "--format", "json",
                 *extra])
    out, err = capsys.readouterr()
    result = json.loads(out)
    result["code"], result["stderr"] = code, err
    return result


def _collection(result: dict, url: str) -> dict:
    [col] = [c for c in result["collections"] if c["url"] == url]
    return col


def _open_conflicts(o: Old) -> set[str]:
    with open_store(o.db_url) as store:
        return {c.uid for c in store.conflicts.open_conflicts(ORG)}


def test_an_upgrade_on_another_port_takes_back_the_old_layout(
        capsys: pytest.CaptureFixture[str], old: Old) -> None:
    assert REQUEST_UID in old.confidential and WHOLE_WEEKLY in old.names
    before = old.listing()
    assert DANGZU_TITLE.encode() in before["request-1.ics"]
    # a secretary moved the old whole 周例会 in her phone after the first version wrote it
    status, body, etag = old.get("zhoulihui.ics")
    assert status == 200
    edited = body.replace(b"SUMMARY:", b"SUMMARY:(\xe6\x94\xb9) ", 1)
    _put(old.server, f"{old.url}zhoulihui.ics", edited, etag)
    foreign_before = {n: old.get(n) for n in FOREIGN}

    result = _publish(capsys, old)
    assert result["ok"] and result["code"] == 0, result
    col = _collection(result, old.url)
    # calsync's own resources are no conflict: only the app-edited leftover waits
    assert _open_conflicts(old) == {WHOLE_WEEKLY}, col["actions"]
    assert col["counts"].get("conflict") == 1, col["counts"]
    assert col["counts"].get("foreign") == len(FOREIGN), col["counts"]
    after = old.listing()
    # no confidential meeting is left in full where every staff member reads
    assert "request-1.ics" not in after
    for uid in old.confidential:
        assert f"{old.names[uid]}.ics" not in after, uid
    assert not any(DANGZU_TITLE.encode() in b for b in after.values())
    # the 党组会议 lives on in its readers' collection
    assert any(c["url"].startswith(f"{old.home}{ORG}-c-") and
               any(a["uid"] == REQUEST_UID for a in c["actions"])
               for c in result["collections"]), result["collections"]
    # never touch what is not ours
    assert {n: old.get(n) for n in FOREIGN} == foreign_before
    assert after["zhoulihui.ics"] == edited  # kept: edited in the app

    forced = _publish(capsys, old, "--force")
    assert forced["ok"], forced
    after = old.listing()
    assert "zhoulihui.ics" not in after
    assert _open_conflicts(old) == set()
    assert {n: old.get(n) for n in FOREIGN} == foreign_before
    # and a plain publish afterwards has nothing left to do in the collection
    again = _collection(_publish(capsys, old, "--full"), old.url)
    assert set(again["counts"]) <= {"unchanged", "foreign"}, again["counts"]


def test_a_first_run_that_found_no_record_at_the_new_port_is_mended(
        capsys: pytest.CaptureFixture[str], old: Old) -> None:
    """What the previous release's first publish at the new port left: the resources it
    found as today's policy wants them adopted (rows at the new address), a conflict on each
    of calsync's own resources that it found different ("not a version calsync recorded")."""
    public = sorted(u for u in old.names if u not in old.confidential and u != WHOLE_WEEKLY)
    adopted, spurious = public[0], public[1]
    with open_store(old.db_url) as store:
        row = store.sync_state.get_resource(old.old_url, adopted)
        assert row is not None
        store.sync_state.upsert_resource(ORG, old.url, adopted, written_ics=row.written_ics,
                                         content_hash=row.content_hash, sequence=row.sequence,
                                         href=row.href, etag=row.etag)
        _, body, etag = old.get(f"{old.names[spurious]}.ics")
        store.conflicts.record_conflict(ORG, old.url, spurious, kind="edited",
                                        policy_ics="(policy)",
                                        server_ics=body.decode(), server_etag=etag,
                                        href=urlsplit(old.url).path + f"{old.names[spurious]}.ics")
    assert _open_conflicts(old) == {spurious}
    result = _publish(capsys, old)
    assert result["ok"], result
    assert _open_conflicts(old) == set()
    after = old.listing()
    assert "request-1.ics" not in after and "zhoulihui.ics" not in after
    with open_store(old.db_url) as store:
        assert store.sync_state.get_resources(old.old_url) == {}
        assert set(store.sync_state.get_resources(old.url)) >= set(public) - {WHOLE_WEEKLY}


def test_without_a_record_the_marker_takes_back_a_confidential_leftover(
        capsys: pytest.CaptureFixture[str], old: Old) -> None:
    with open_store(old.db_url) as store:  # the store lost what the first version wrote
        for uid in old.names:
            store.sync_state.delete_resource(old.old_url, uid)
    foreign_before = {n: old.get(n) for n in FOREIGN}
    result = _publish(capsys, old)
    col = _collection(result, old.url)
    after = old.listing()
    assert "request-1.ics" not in after and not any(
        DANGZU_TITLE.encode() in b for b in after.values())
    for uid in old.confidential:
        assert f"{old.names[uid]}.ics" not in after, uid
    # a public leftover with no record is kept (it may carry an app's edit) and said so:
    # counted as calsync's ("orphan": ours, no record), not as foreign
    assert "zhoulihui.ics" in after
    assert col["counts"].get("orphan") == 1 and col["counts"].get("foreign") == len(FOREIGN)
    assert any("zhoulihui.ics" in w and "--force" in w for w in col["warnings"]), col
    assert {n: old.get(n) for n in FOREIGN} == foreign_before

    forced = _publish(capsys, old, "--force")
    assert "zhoulihui.ics" not in old.listing(), forced
    assert {n: old.get(n) for n in FOREIGN} == foreign_before


def test_retired_collections_follow_the_calendar_home_to_its_new_port() -> None:
    old_home, new_home = "http://127.0.0.1:5232/calsync/", "http://127.0.0.1:6111/calsync/"
    wanted = [CollectionSpec(ORG, "管理办", (ORG,), ())]
    known = {ORG: {f"{old_home}{ORG}/", f"{old_home}{ORG}-c-0123456789/"}}
    [spec] = retired(wanted, known, new_home)
    assert spec.url == f"{new_home}{ORG}-c-0123456789/" and spec.retire


# -- the planner (pure): random listings of ours, our leftovers and foreign objects -------

COL = "/cal/guanliban/"


def _obj(uid: str, org: str | None, klass: str, summary: str) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//calsync//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             "DTSTART;TZID=Asia/Shanghai:20260105T090000", "DURATION:PT1H",
             f"SUMMARY:{summary}", f"CLASS:{klass}"]
    if org:
        lines.append(f"X-CALSYNC-ORG:{org}")
    return "\r\n".join([*lines, "END:VEVENT", "END:VCALENDAR", ""]).encode()


# kind of each object: current (a series wants it), leftover (no series does), foreign
_item = st.tuples(
    st.sampled_from(["current", "leftover", "foreign-plain", "foreign-org", "foreign-uid"]),
    st.sampled_from(["PUBLIC", "CONFIDENTIAL"]),
    st.sampled_from(["none", "as-written", "edited"]),  # the store's record of it
    st.booleans(),  # an open conflict on it
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_item, min_size=1, max_size=12), force=st.booleans(),
       staff_readable=st.booleans())
def test_plan_never_touches_foreign_nor_keeps_a_confidential_leftover(
        items: list[tuple[str, str, str, bool]], force: bool, staff_readable: bool) -> None:
    desired: dict[str, Desired] = {}
    stored: dict[str, Stored] = {}
    listing: dict[str, ServerItem] = {}
    conflicts: set[str] = set()
    foreign_hrefs, foreign_uids, leftovers = set(), set(), {}
    for i, (kind, klass, record, conflict) in enumerate(items):
        org, uid = ORG, f"s{i}@guanliban.calsync"
        if kind == "foreign-plain":
            org, uid = None, f"s{i}@example.org"
        elif kind == "foreign-org":
            org, uid = "shiju", f"s{i}@shiju.calsync"
        elif kind == "foreign-uid":
            uid = f"S{i}-APP@phone"
        href = href_for(COL, f"s{i}")
        written = _obj(uid, org, klass, "旧")
        on_server = _obj(uid, org, klass, "改过" if record == "edited" else "旧")
        listing[href] = ServerItem(href, f'"e{i}"', uid, on_server)
        if kind.startswith("foreign"):
            foreign_hrefs.add(href)
            foreign_uids.add(uid)
            continue
        if kind == "current":
            desired[uid] = Desired.of(uid, f"s{i}", _obj(uid, org, "PUBLIC", "新"))
        else:
            leftovers[uid] = klass
        if record != "none":
            etag = f'"e{i}"' if record == "as-written" else f'"w{i}"'
            stored[uid] = Stored(uid, href, etag, policy_key(written), written, 0)
            if conflict:
                conflicts.add(uid)
    try:
        p = plan(COL, ORG, desired, stored, listing, conflicts, force=force,
                 restore_missing=force, reclaim=force, staff_readable=staff_readable)
    except SafetyValveError:
        assert not force
        return
    for a in p.actions:
        assert a.uid not in foreign_uids and a.href not in foreign_hrefs, a
    deleted = {a.uid for a in p.actions if a.kind == "delete"}
    for uid, klass in leftovers.items():
        if klass == "CONFIDENTIAL" and staff_readable:
            assert uid in deleted, (uid, p.actions)
        if force:
            assert uid in deleted, (uid, p.actions)
