"""Subscription feeds: contents per person and scope, confidentiality, HTTP caching, tokens and
the page 我的日历订阅 — Flask's test client against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from flask import Flask
from ical.calendar_stream import IcsCalendarStream

from calsync.access import may_read_feed as may_see
from calsync.app.service import build
from calsync.cli import main as cli_main
from calsync.ical.feeds import BUSY, Viewer, render_feed, viewer_for
from calsync.meetings.accounts import role_for
from calsync.occurrence import TZ, Occurrence
from calsync.policy import PolicySet, load_policies
from calsync.store import Store
from tests.support.webapp import PASSWORD, login, make_app

START, END = dt.date(2026, 1, 1), dt.date(2027, 12, 31)     # default_horizon(NOW)
ZHURENBANGONG = "zhurenbangong@guanliban.calsync"
RID_0304 = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
DANGZU_TITLE = "研究干部任免事项"
DANGWEI_TITLE = "研究年度人事调整方案"


@pytest.fixture(scope="module")
def policies(policies_dir: Path) -> PolicySet:
    return load_policies(policies_dir)


def _app(db_url: str, tmp_path: Path, policies_dir: Path, **extra: object) -> Flask:
    return make_app(db_url, tmp_path / "inst", policies_dir,
                    ("qian_keyuan", "zhou_mishukezhang"), **extra)


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = _app(db_url, tmp_path, policies_dir)
    yield app
    app.extensions["calsync"].close()


def _store(app: Flask) -> Store:
    return app.extensions["calsync"].store


def _token(app: Flask, person: str, org: str = "guanliban") -> str:
    return _store(app).feeds.feed_token(person, org, actor="test")


def _add_secrets(store: Store) -> None:
    """An approved 党组会议 and 局党委会 request, and 王立新 on leave from a (confidential)
    主任办公会 with 钱丽 (staff) as his substitute."""
    for org, section, category, title, audience, start, room in (
            ("guanliban", "zonghe", "dangzu", DANGZU_TITLE, ["wang_fuzhuren"],
             "2026-03-10T14:00:00+08:00", "diyi"),
            ("jiaoyuju", "bangongshi", "dangwei", DANGWEI_TITLE, ["song_fujuzhang"],
             "2026-03-11T09:00:00+08:00", None)):
        req = store.requests.add_request(org, section_id=section, category=category, title=title,
                                         audience=audience, start=start,
                                         end=start.replace("T14:", "T16:").replace("T09:", "T11:"),
                                         room=room, important=False, approver_id=None, actor="test")
        store.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    note = store.leave.add_leave("guanliban", ZHURENBANGONG, RID_0304, "wang_fuzhuren",
                                 category="公出", reason="市里开会", substitute_id="qian_keyuan",
                                 late=False, needs_director=False, chair_id="zhang_zhuren",
                                 director_id=None, actor="wang_fuzhuren")
    store.leave.decide_leave(note.id, "chair", True, actor="zhang_zhuren",
                             expected_version=note.version)


# -- reading feeds with two engines -----------------------------------------------------------

Key = tuple[str, dt.datetime]


def _rie(ics: bytes) -> dict[Key, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(ics)
    out = {}
    for ev in recurring_ical_events.of(cal).between(START, END + dt.timedelta(days=1)):
        out[(str(ev["UID"]), ev["DTSTART"].dt.astimezone(TZ))] = ev
    return out


def _ical(ics: bytes) -> set[Key]:
    cal = IcsCalendarStream.calendar_from_ics(ics.decode())
    return {(e.uid, e.dtstart.astimezone(TZ)) for e in cal.timeline_tz(TZ)}


def _names(viewer_id: str, org: str, occ: Occurrence, email: str) -> bool:
    return any((a.person_id == viewer_id and occ.organization == org)
               or a.email.lower() == email for a in occ.attendees)


def _cli_rows(policies_dir: Path, capsys: pytest.CaptureFixture[str],
              person: str | None = None) -> list[dict]:
    """`calsync occurrences` as ``person`` sees them (the operator's view without one)."""
    capsys.readouterr()
    assert cli_main(["occurrences", "--policies", str(policies_dir), "--start", str(START),
                     "--end", str(END), "--format", "json",
                     *(["--as", person] if person else [])]) == 0
    return json.loads(capsys.readouterr().out)


# -- contents ---------------------------------------------------------------------------------

@pytest.mark.parametrize("person", ["qian_keyuan", "zhou_mishukezhang"])
def test_me_feed_is_exactly_my_occurrences(app: Flask, policies_dir: Path, person: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rows = _cli_rows(policies_dir, capsys, person)
    # per calendar object (周例会: its duty leader's part), as CalDAV and the feed carry it
    expected = {(r["resource_uid"], dt.datetime.fromisoformat(r["start"]).astimezone(TZ))
                for r in rows if any(a.get("person") == person for a in r["attendees"])}
    deadlines = {k for k in expected if k[0].startswith("deadline-")}
    assert expected and len(expected) < len(rows)
    r = app.test_client().get(f"/feeds/{_token(app, person)}/me.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert set(_rie(r.data)) == expected
    assert _ical(r.data) == expected
    if person == "zhou_mishukezhang":     # 秘书科 receives the reports: her deadlines are in
        assert deadlines
    cal = icalendar.Calendar.from_ical(r.data)
    name = "钱丽的会议（管理办）" if person == "qian_keyuan" else "周晓燕的会议（管理办）"
    assert str(cal["NAME"]) == str(cal["X-WR-CALNAME"]) == name
    text = r.data.decode()
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    # Same input, same bytes; the UIDs are the CalDAV copy's.
    assert app.test_client().get(f"/feeds/{_token(app, person)}/me.ics").data == r.data
    assert {u for u, _ in expected} <= {r["resource_uid"] for r in rows}


def test_me_feed_shows_leave_and_substitution(app: Flask, policies: PolicySet) -> None:
    store = _store(app)
    _add_secrets(store)
    gen = build(policies, store, START, END, sorted(policies.organizations)).generation
    client = app.test_client()
    for person in ("qian_keyuan", "wang_fuzhuren"):
        p = policies.organizations["guanliban"].people[person]
        expected = {(o.published_uid, o.start) for o in gen.occurrences()
                    if _names(person, "guanliban", o, p.email.lower())}
        data = client.get(f"/feeds/{_token(app, person)}/me.ics").data
        events = _rie(data)
        assert set(events) == expected == _ical(data)
        meeting = events[(ZHURENBANGONG, RID_0304)]
        assert str(meeting["SUMMARY"]) == "主任办公会"     # invited: the substitute sees it all
        mine = [a for a in meeting.get("ATTENDEE") if str(a) == f"mailto:{p.email}"]
        assert len(mine) == 1
        if person == "wang_fuzhuren":
            assert mine[0].params["PARTSTAT"] == "DELEGATED"
        else:
            assert "wang.lixin@glb.example.org" in mine[0].params["DELEGATED-FROM"]
    # a section feed: 综合业务科's 科务会 and its 党组会议 request (asked for by 综合业务科)
    data = client.get(f"/feeds/{_token(app, 'he_keyuan')}/section/zonghe.ics").data
    uids = {u for u, _ in _rie(data)}
    assert {"kewuhui-zonghe-mon@guanliban.calsync", "kewuhui-zonghe-fri@guanliban.calsync",
            "busy-20260310T1400-20260310T1600@guanliban.calsync"} <= uids
    # the 党组会议 he is not invited to: a busy block whose UID is its time, not request-1
    assert "request-1@guanliban.calsync" not in uids
    assert not any(u.startswith("kewuhui-ducha") for u in uids)


def _unfold(ics: bytes) -> str:
    text = ics.decode().replace("\r\n ", "")
    return (text.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
            .replace("\\\\", "\\"))


def _occ_texts(occ: Occurrence) -> list[str]:
    return [occ.summary, *occ.full_description().split("\n"), occ.location, occ.organizer[0],
            *(a.name for a in occ.attendees)]


def test_no_confidential_detail_reaches_a_non_invitee(store: Store, policies: PolicySet) -> None:
    _add_secrets(store)
    orgs = sorted(policies.organizations)
    start, end = dt.date(2026, 2, 23), dt.date(2026, 3, 15)
    gen = build(policies, store, start, end, orgs).generation
    occs = gen.occurrences()
    secret_occs = [o for o in occs if o.klass == "CONFIDENTIAL"]
    assert {o.uid.split("@")[0] for o in secret_occs} >= {"zhurenbangong", "request-1",
                                                           "request-2"}
    viewers = [viewer_for(policies, p.id, org.id, role_for(org, p))
               for org in policies.organizations.values() for p in org.staff]
    names = [f"{v.name}的会议" for v in viewers if v]
    public = "\n".join(t for o in occs if o.klass != "CONFIDENTIAL" for t in _occ_texts(o))
    public += "\n".join(names) + "".join(
        f"{s.name}会议{org.calendar_name}{org.short_name}"
        for org in policies.organizations.values() for s in org.sections.values())
    secrets = {t for o in secret_occs for t in _occ_texts(o) if t and t not in public}
    assert DANGZU_TITLE + "（党组会议）" in secrets and DANGWEI_TITLE + "（局党委会）" in secrets
    assert any(t.startswith("保密：") for t in secrets)
    stamps = {s.uid: policies.organizations[s.organization].revised for s in gen.series}
    checked = invitee_feeds = 0
    for v in viewers:
        assert v is not None
        org = policies.organizations[v.organization]
        scopes = ["me", ("org", org.id), *(("section", s) for s in org.sections)]
        assert not may_see(policies, v, ("org", next(o for o in orgs if o != org.id)))
        invited = [o for o in secret_occs if _invited(v, o)]
        for scope in scopes:
            assert may_see(policies, v, scope)
            data = render_feed(policies, gen, v, scope, stamps)
            checked += 1
            text = _unfold(data)
            allowed = {t for o in invited for t in _occ_texts(o)}
            leaked = {t for t in secrets - allowed if t in text}
            assert not leaked, (v.person_id, scope, leaked)
            _check_instances(data, v, {(o.published_uid, o.start): o for o in occs}, scope)
            if scope == ("org", org.id) and invited:
                invitee_feeds += 1
                for o in invited:
                    assert o.summary in text and o.description.split("\n")[0] in text
    assert checked == sum(len(policies.organizations[v.organization].sections) + 2
                          for v in viewers if v)
    assert invitee_feeds >= 5


def _invited(v: Viewer, o: Occurrence) -> bool:
    if v.role == "secretary" and v.organization == o.organization:
        return True
    return _names(v.person_id, v.organization, o, v.email)


def _check_instances(data: bytes, v: Viewer, by_key: dict[Key, Occurrence], scope) -> None:
    cal = icalendar.Calendar.from_ical(data)
    by_time: dict[tuple[dt.datetime, dt.datetime], list[Occurrence]] = {}
    for occ in by_key.values():
        by_time.setdefault((occ.start, occ.end), []).append(occ)
    for ev in recurring_ical_events.of(cal).all():
        start = ev["DTSTART"].dt.astimezone(TZ)
        occ = by_key.get((str(ev["UID"]), start))
        if occ is not None:
            assert occ.klass != "CONFIDENTIAL" or _invited(v, occ), (v.person_id, occ.uid)
            assert str(ev["SUMMARY"]) == occ.summary, (v.person_id, scope, occ.uid)
            continue
        # a busy block: some confidential occurrence at that time the viewer is not invited to
        end = ev["DTEND"].dt.astimezone(TZ)
        hidden = [o for o in by_time[(start, end)]
                  if o.klass == "CONFIDENTIAL" and not _invited(v, o)]
        assert hidden, (v.person_id, scope, str(ev["UID"]))
        assert str(ev["SUMMARY"]) == BUSY and str(ev["CLASS"]) == "CONFIDENTIAL"
        assert str(ev["UID"]) == (f"busy-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}@"
                                  f"{hidden[0].uid.partition('@')[2]}")
        raw = [e for e in cal.walk("VEVENT") if e["UID"] == ev["UID"]]
        assert len(raw) == 1  # one standalone event: no series, no override
        for prop in ("DESCRIPTION", "LOCATION", "ATTENDEE", "ORGANIZER", "RRULE",
                     "RECURRENCE-ID", "X-CALSYNC-MEETING-TYPES", "X-CALSYNC-CLAUSE",
                     "RELATED-TO"):
            assert prop not in raw[0], (v.person_id, scope, prop)
        assert str(ev.get("X-CALSYNC-SERIES")) == str(ev["UID"]).partition("@")[0]
        assert not ev.walk("VALARM")


# -- HTTP -------------------------------------------------------------------------------------

def test_conditional_requests_and_last_modified(app: Flask) -> None:
    client = app.test_client()
    url = f"/feeds/{_token(app, 'qian_keyuan')}/org/guanliban.ics"
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag)
    assert first.headers["Cache-Control"] == "private, max-age=3600"
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.data == b"" and r.headers["ETag"] == etag
    r = client.get(url, headers={"If-None-Match": '"other", ' + etag})
    assert r.status_code == 304
    r = client.get(url, headers={"If-Modified-Since": modified})
    assert r.status_code == 304
    # an unrelated store change (another person's token) changes neither ETag nor date
    _token(app, "he_keyuan")
    again = client.get(url)
    assert (again.headers["ETag"], again.headers["Last-Modified"]) == (etag, modified)
    assert again.data == first.data
    # a decision changes the feed: new bytes, new ETag, a later Last-Modified
    _store(app).decisions.add_decision("guanliban", "zhoulihui@guanliban.calsync",
                                       dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ), "cancel",
                                       actor="zhou_mishukezhang",
                                       source="web", note="停会一次")
    after = client.get(url, headers={"If-None-Match": etag, "If-Modified-Since": modified})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    newer = after.headers["Last-Modified"]
    assert _http_date(newer) > _http_date(modified)
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": newer}).status_code == 304


def _http_date(text: str) -> dt.datetime:
    from email.utils import parsedate_to_datetime
    return parsedate_to_datetime(text)


def test_feed_hit_does_not_regenerate(app: Flask) -> None:
    client = app.test_client()
    url = f"/feeds/{_token(app, 'qian_keyuan')}/me.ics"
    assert client.get(url).status_code == 200
    feeds = app.extensions["calsync_feeds"]
    renders = feeds.renders
    for _ in range(3):
        assert client.get(url).status_code == 200
    _token(app, "he_keyuan")               # an audit row, but no input of the feed changed
    assert client.get(url).status_code == 200
    assert feeds.renders == renders


def test_gzip_round_trip(app: Flask) -> None:
    client = app.test_client()
    url = f"/feeds/{_token(app, 'qian_keyuan')}/me.ics"
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert all("Accept-Encoding" in r.headers["Vary"] for r in (plain, packed))
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) // 3
    # each representation has its own strong ETag; either one revalidates
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    r = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]})
    assert r.status_code == 304 and r.headers["ETag"] == packed.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": packed.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"Accept-Encoding": "gzip;q=0"}).data == plain.data


def test_rotated_or_unknown_token_is_404(app: Flask) -> None:
    client = app.test_client()
    old = _token(app, "qian_keyuan")
    assert client.get(f"/feeds/{old}/me.ics").status_code == 200
    new = _store(app).feeds.rotate_feed_token("qian_keyuan", actor="qian_keyuan")
    assert new != old and _token(app, "qian_keyuan") == new
    gone = client.get(f"/feeds/{old}/me.ics")
    assert gone.status_code == 404
    assert client.get(f"/feeds/{new}/me.ics").status_code == 200
    # unknown token, another organization, an unknown section: the same bare answer
    for url in (f"/feeds/{'x' * 32}/me.ics", f"/feeds/{new}/org/jiaoyuju.ics",
                f"/feeds/{new}/section/nosuch.ics", f"/feeds/{old}/org/guanliban.ics"):
        r = client.get(url)
        assert (r.status_code, r.data, r.mimetype) == (404, gone.data, "text/plain"), url
    assert gone.data == b"Not Found\n"
    # the audit trail names the person, never the token
    log = _store(app).audit.audit_log("feed:qian_keyuan")
    assert {e.action for e in log} == {"feed.token.create", "feed.token.rotate"}
    assert not any(t in (e.before or "") + (e.after or "") for e in log for t in (old, new))


def test_feed_state_never_goes_backwards(store: Store) -> None:
    t0 = dt.datetime(2026, 3, 1, 8, 0, 0, 500000, tzinfo=dt.UTC)
    first = store.feeds.feed_state("k", "a", t0)
    assert first == t0.replace(microsecond=0)
    assert store.feeds.feed_state("k", "a", t0 + dt.timedelta(hours=1)) == first
    # a changed ETag moves it forward even when the clock went back
    second = store.feeds.feed_state("k", "b", t0 - dt.timedelta(days=1))
    assert second == first + dt.timedelta(seconds=1)
    third = store.feeds.feed_state("k", "c", t0 + dt.timedelta(hours=2))
    assert third == (t0 + dt.timedelta(hours=2)).replace(microsecond=0)
    assert store.feeds.person_for_token("") is None and store.feeds.person_for_token("nope") is None
    token = store.feeds.feed_token("qian_keyuan", "guanliban", actor="t")
    assert store.feeds.person_for_token(token) == ("qian_keyuan", "guanliban")
    audit = store.audit.latest_audit_id()
    store.feeds.rotate_feed_token("qian_keyuan", actor="t")
    assert store.feeds.person_for_token(token) is None and store.audit.latest_audit_id() > audit


# -- the page ---------------------------------------------------------------------------------

def test_subscription_page_links_qr_and_rotate(app: Flask) -> None:
    client = login(app, "qian_keyuan")
    page = client.get("/subscriptions").data.decode()
    token = _token(app, "qian_keyuan")
    assert "我的日历订阅" in page and 'href="/subscriptions"' in page
    for path in ("me.ics", "section/zonghe.ics", "org/guanliban.ics"):
        assert f"http://localhost/feeds/{token}/{path}" in page
        assert f"webcal://localhost/feeds/{token}/{path}" in page
    assert page.count('src="data:image/svg+xml') == 6
    for steps in ("iPhone", "Android", "Outlook", "Google"):
        assert steps in page
    r = client.post("/subscriptions/rotate")
    assert r.status_code == 302
    new = _token(app, "qian_keyuan")
    assert new != token
    page = client.get("/subscriptions").data.decode()
    assert "订阅地址已更换" in page and token not in page and new in page
    assert app.test_client().get(f"/feeds/{token}/me.ics").status_code == 404


def test_rotate_needs_csrf(db_url: str, tmp_path: Path, policies_dir: Path) -> None:
    app = _app(db_url, tmp_path, policies_dir, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        page = client.get("/login").data.decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post("/login", data={"username": "qian_keyuan", "password": PASSWORD,
                                        "csrf_token": csrf})
        assert r.status_code == 302
        token = _token(app, "qian_keyuan")
        assert client.post("/subscriptions/rotate").status_code == 400
        assert _token(app, "qian_keyuan") == token
        page = client.get("/subscriptions").data.decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/subscriptions/rotate", data={"csrf_token": csrf}).status_code == 302
        assert _token(app, "qian_keyuan") != token
    finally:
        app.extensions["calsync"].close()
