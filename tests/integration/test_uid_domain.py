"""A policy's own UID domain (``uid_domain`` in organization.toml) end to end: generate →
publish to a real CalDAV server → the pages → the subscription feed. Every UID calsync writes
for the organization carries that domain (meetings, parts, deadlines, requests, busy blocks,
decisions' tasks), the other organization keeps ``<org>.calsync``, and every door that reads
a UID back finds the meeting's organization (issue 21: one UID codec)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import icalendar
import pytest

from calsync.app.service import generation, resolve_and_record
from calsync.cli import main
from calsync.meetings.minutes import DONE, DecisionInput
from calsync.occurrence import TZ
from calsync.policy import PolicySet, load_policies, shipped_policies
from calsync.store import Store, open_store
from tests.support.servers import ServerHandle
from tests.support.web_fixtures import empty_home, hrefs
from tests.support.webapp import login, make_app

ORG, OTHER = "guanliban", "jiaoyuju"
DOMAIN = "meetings.example.gov.cn"
HORIZON = ["--start", "2026-03-01", "--end", "2026-03-31"]
WEEKLY = f"zhoulihui@{DOMAIN}"                       # 周例会: public, one part per duty leader
OFFICE = f"zhurenbangong@{DOMAIN}"                   # 主任办公会: takes topics
OFFICE_RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
WEEKLY_RID = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
USERS = ("qian_keyuan",)


@pytest.fixture(scope="module")
def policies_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped policies with 管理办's uid_domain set."""
    target = tmp_path_factory.mktemp("uid-domain") / "p"
    shutil.copytree(shipped_policies(), target,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = target / ORG / "organization.toml"
    text = path.read_text(encoding="utf-8")
    marker = 'calendar_name = "管理办会议日历"\n'
    assert marker in text
    path.write_text(text.replace(marker, f'{marker}uid_domain = "{DOMAIN}"\n'),
                    encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def policies(policies_dir: Path) -> PolicySet:
    loaded = load_policies(policies_dir)
    assert loaded.organizations[ORG].uid_domain == DOMAIN
    return loaded


def _cli(capsys: pytest.CaptureFixture[str], policies_dir: Path, *args: str) -> tuple[int, str]:
    code = main([args[0], "--policies", str(policies_dir), *args[1:]])
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, out


def _ours(uid: str, org: str) -> bool:
    return uid.endswith(f"@{DOMAIN}" if org == ORG else f"@{org}.calsync")


def _add_requests(store: Store) -> None:
    """An approved 党组会议 (confidential; 钱丽 is not invited): a 忙碌 block in her feed; and
    a 局党委会 for 教育局, whose meetings are all on request."""
    for org, section, category, audience, start, room in (
            (ORG, "zonghe", "dangzu", "wang_fuzhuren", "2026-03-10T14:00:00+08:00", "diyi"),
            (OTHER, "bangongshi", "dangwei", "song_fujuzhang", "2026-03-11T09:00:00+08:00",
             None)):
        end = start.replace("T14:", "T16:").replace("T09:", "T11:")
        req = store.requests.add_request(org, section_id=section, category=category,
                                         title="研究人事", audience=[audience], start=start,
                                         end=end, room=room, important=False, approver_id=None,
                                         actor="test")
        store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)


def test_generate_writes_the_domain(capsys: pytest.CaptureFixture[str],
                                    policies_dir: Path) -> None:
    _, out = _cli(capsys, policies_dir, "occurrences", *HORIZON, "--format", "json")
    rows = json.loads(out)
    assert ORG in {r["organization"] for r in rows}    # 教育局's meetings are all on request
    for r in rows:
        assert _ours(r["uid"], r["organization"]), r["uid"]
        assert _ours(r["resource_uid"], r["organization"]), r["resource_uid"]
        if r["related_to"]:     # a deadline's meeting
            assert _ours(r["related_to"], r["organization"]), r["related_to"]
    parts = {r["resource_uid"] for r in rows if r["uid"] == WEEKLY}
    assert f"zhoulihui--wang_fuzhuren@{DOMAIN}" in parts     # March is 王立新's


def test_series_decision_on_the_shell(capsys: pytest.CaptureFixture[str], policies_dir: Path,
                                      policies: PolicySet, tmp_path: Path) -> None:
    """`calsync series` reads the organization out of a custom-domain UID; the generation
    applies it, and warns about a decision whose series is gone."""
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    _cli(capsys, policies_dir, "series", "offset", WEEKLY, "--minutes", "30",
         "--since", "2026-03-01", "--database-url", db)
    with open_store(db) as store:
        [d] = store.series_decisions.active_series_decisions(ORG)
        assert d.series_uid == WEEKLY
        store.series_decisions.add_series_decision(ORG, f"nosuch@{DOMAIN}", "offset",
                                                   since="2026-03-01",
                                                   actor="test", offset_minutes=15)
        # a cancellation of a 周例会 that is not (Tuesday): stale, and said so
        store.decisions.add_decision(ORG, WEEKLY, dt.datetime(2026, 3, 3, 9, 30, tzinfo=TZ),
                                     "cancel",
                                            actor="test", source="cli")
        gen = generation(policies, store, dt.date(2026, 3, 1), dt.date(2026, 3, 31), [ORG])
    weekly = [o for o in gen.occurrences() if o.uid == WEEKLY]
    assert weekly and all(o.start - o.nominal_start == dt.timedelta(minutes=30)
                          for o in weekly)
    assert [(d.series_uid, d.recurrence_id, d.action) for d in gen.stale] == [
        (WEEKLY, dt.datetime(2026, 3, 3, 9, 30, tzinfo=TZ), "cancel")]
    assert any(f"nosuch@{DOMAIN} names no series" in w for w in gen.warnings), gen.warnings


def _objects(server: ServerHandle, collection: str, component: str) -> dict[str, Any]:
    """UID → (body, etag, URL) of every object in a collection, by plain GETs."""
    status, _, body = server.request("PROPFIND", collection, b"", {"Depth": "1"})
    assert status == 207
    out = {}
    for href in hrefs(body):
        if href.endswith(".ics"):
            url = urljoin(collection, href)
            st, headers, data = server.request("GET", url)
            assert st == 200
            uids = {str(c["UID"]) for c in icalendar.Calendar.from_ical(data).walk(component)}
            assert len(uids) == 1, uids
            etag = headers.get("ETag") or headers.get("Etag") or ""
            out[uids.pop()] = (data, etag, url)
    return out


def _publish(capsys: pytest.CaptureFixture[str], policies_dir: Path, server: ServerHandle,
             home: str, db: str) -> dict[str, Any]:
    creds = ["--username", server.username, "--password", server.password or ""] \
        if server.username else []
    _, out = _cli(capsys, policies_dir, "publish", *creds, "--caldav-url", home, *HORIZON,
                  "--database-url", db, "--format", "json")
    return json.loads(out)


def test_publish_page_and_feed(capsys: pytest.CaptureFixture[str], caldav_server: ServerHandle,
                               policies_dir: Path, policies: PolicySet,
                               tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    home = empty_home(caldav_server)
    with open_store(db) as store:
        _add_requests(store)
        item = store.minutes.add_action_item(ORG, WEEKLY, WEEKLY_RID,
                                             DecisionInput("修订窗口服务考评办法", "zonghe",
                                                   dt.date(2026, 3, 20)),
                                             meeting="周例会", confidential=False,
                                             actor="zhou_mishukezhang",
                                             at=dt.datetime(2026, 3, 2, 12, 0, tzinfo=TZ))

    # -- publish: the objects on the server and the rows that remember them
    first = _publish(capsys, policies_dir, caldav_server, home, db)
    assert first["ok"], first
    events = _objects(caldav_server, urljoin(home, f"{ORG}/"), "VEVENT")
    assert events and all(uid.endswith(f"@{DOMAIN}") for uid in events), sorted(events)
    assert f"zhoulihui--wang_fuzhuren@{DOMAIN}" in events
    others = _objects(caldav_server, urljoin(home, f"{OTHER}/"), "VEVENT")
    assert others and all(uid.endswith(f"@{OTHER}.calsync") for uid in others)
    tasks = _objects(caldav_server, urljoin(home, f"{ORG}-tasks/"), "VTODO")
    task = f"decision-{item.id}@{DOMAIN}"
    assert set(tasks) == {task}
    with open_store(db) as store:
        for url, org in ((urljoin(home, f"{ORG}/"), ORG), (urljoin(home, f"{OTHER}/"), OTHER)):
            rows = store.sync_state.get_resources(url)
            assert rows and {r.organization for r in rows.values()} == {org}
    # the plan knows them for its own: the second run changes nothing
    again = _publish(capsys, policies_dir, caldav_server, home, db)
    assert set(again["counts"]) == {"unchanged"}, again["counts"]

    # -- a task marked done in a client: a conflict on the task's UID, and keeping the
    # client's copy takes its status into the decision (the UID leads back to it)
    body, etag, url = tasks[task]
    edited = body.replace(b"STATUS:NEEDS-ACTION", b"STATUS:COMPLETED\r\nCOMPLETED:20260306T"
                          b"020000Z\r\nPERCENT-COMPLETE:100")
    status, _, _ = caldav_server.request("PUT", url, edited, {"Content-Type": "text/calendar",
                                                              "If-Match": etag})
    assert status in (201, 204)
    with open_store(db) as store:
        store.minutes.report_progress(item.id, status="progress", note="正在办理",
                                      actor="wu_kezhang",
                                      expected_version=1, at=dt.datetime(2026, 3, 7, tzinfo=TZ))
    third = _publish(capsys, policies_dir, caldav_server, home, db)
    assert third["counts"].get("conflict") == 1, third["counts"]
    with open_store(db) as store:
        [c] = store.conflicts.open_conflicts(ORG)
        assert c.uid == task
        _, recorded = resolve_and_record(policies, store, c.id, "server", "zhou",
                                         dt.date(2026, 3, 1), dt.date(2026, 3, 31))
        assert recorded == 1 and store.minutes.action_item(item.id).status == DONE

    # -- the pages: the meeting by its UID, in its organization only
    app = make_app(db, tmp_path / "inst", policies_dir, USERS)
    try:
        qian = login(app, "qian_keyuan")
        office_rid = OFFICE_RID.isoformat()
        page = qian.get(f"/meetings/{OFFICE}/{office_rid}")
        assert page.status_code == 200 and "主任办公会" in page.get_data(as_text=True)
        assert qian.get(f"/meetings/zhurenbangong@{ORG}.calsync/{office_rid}").status_code \
            == 404
        r = qian.post(f"/agenda/{OFFICE}/{OFFICE_RID.isoformat()}/topics",
                      data={"title": "审议窗口考评办法", "presenter": "", "minutes": "20",
                            "link": ""}, content_type="multipart/form-data")
        assert r.status_code == 302
        store = app.extensions["calsync"].store
        [topic] = store.agenda.topics(OFFICE, OFFICE_RID)
        assert topic.organization == ORG

        # -- the feeds: every UID in the domain, the 忙碌 block too
        token = store.feeds.feed_token("qian_keyuan", ORG, actor="test")
        data = app.test_client().get(f"/feeds/{token}/org/{ORG}.ics").data
        uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
        assert uids and all(u.endswith(f"@{DOMAIN}") for u in uids), sorted(uids)
        assert f"busy-20260310T1400-20260310T1600@{DOMAIN}" in uids
        assert f"request-1@{DOMAIN}" not in uids
        data = app.test_client().get(f"/feeds/{token}/me.ics").data
        mine = {str(e["UID"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
        assert mine and all(u.endswith(f"@{DOMAIN}") for u in mine), sorted(mine)
    finally:
        app.extensions["calsync"].close()


def test_other_organization_is_refused_by_the_domain(policies_dir: Path,
                                                     tmp_path: Path) -> None:
    """A 教育局 user posting to a 管理办 meeting is refused before any lookup (403): the
    agenda door reads the organization out of the custom domain."""
    app = make_app(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "inst", policies_dir,
                   ("song_fujuzhang",))
    try:
        song = login(app, "song_fujuzhang")
        r = song.post(f"/agenda/{OFFICE}/{OFFICE_RID.isoformat()}/topics", data={"title": "x"})
        assert r.status_code == 403
        assert song.get(f"/meetings/{OFFICE}/{OFFICE_RID.isoformat()}").status_code == 404
    finally:
        app.extensions["calsync"].close()
