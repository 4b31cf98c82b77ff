"""The pages for ad-hoc meetings, 列席 and external attendees' feed links (issue 11, items 1
and 4): Flask's test client on a real store (SQLite and PostgreSQL); who may do what, hostile
input, the clash warning, and what the feeds then show — to whom."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from flask import Flask
from flask.testing import FlaskClient

from calsync.occurrence import TZ
from calsync.store import Store
from tests.support.webapp import login, make_app

USERS = ("zhou_mishukezhang", "chen_mishu", "qian_keyuan", "zhang_zhuren", "wang_fuzhuren",
         "pan_keyuan")
ZRB = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
FREE = {"meeting_type": "zhurenbangong", "start": "2026-03-05T15:00", "end": "2026-03-05T17:00",
        "title": "研究重大事项"}
CLASH = {"meeting_type": "xitong", "start": "2026-03-04T10:00", "end": "2026-03-04T12:00",
         "title": "临时系统会"}
SECRET = "研究干部任免"


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", None, USERS)
    yield app
    app.extensions["calsync"].close()


def _store(app: Flask) -> Store:
    return app.extensions["calsync"].store


def _events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def _feed(client: FlaskClient, token: str, scope: str = "me.ics") -> bytes:
    r = client.get(f"/feeds/{token}/{scope}")
    assert r.status_code == 200, r.status_code
    return r.data


def _create(client: FlaskClient, data: dict) -> str:
    r = client.post("/adhoc", data=data)
    assert r.status_code == 302, r.data.decode()
    return r.headers["Location"]


def test_staff_and_another_units_secretary_are_refused(app: Flask) -> None:
    store = _store(app)
    staff = login(app, "qian_keyuan")
    assert staff.get("/adhoc").status_code == 403
    assert staff.post("/adhoc", data=FREE).status_code == 403
    assert staff.get("/subscriptions/external").status_code == 403
    assert staff.post("/subscriptions/external/county_a_director/rotate").status_code == 403
    # An attendee who is not the chair may not choose 列席 people either.
    for who in (staff, login(app, "wang_fuzhuren")):
        r = who.post(f"/meetings/{ZRB}/{RID.isoformat()}/sitting-in",
                     data={"person": "feng_kezhang"})
        assert r.status_code == 403
    row = store.adhoc.add_adhoc("guanliban", meeting_type="zhurenbangong",
                                start="2026-03-05T15:00:00+08:00", end="2026-03-05T17:00:00+08:00",
                                actor="zhou_mishukezhang")
    si = store.adhoc.add_sitting_in("guanliban", ZRB, RID, "feng_kezhang", actor="zhang_zhuren")
    other = login(app, "pan_keyuan")         # 教育局's 办公室
    assert other.post(f"/adhoc/{row.id}/withdraw", data={"version": 1}).status_code == 403
    r = other.post(f"/meetings/{ZRB}/{RID.isoformat()}/sitting-in", data={"person": "feng_kezhang"})
    assert r.status_code == 403
    assert other.post(f"/sitting-in/{si.id}/withdraw", data={"version": 1}).status_code == 403
    before = store.feeds.get_feed_token("county_a_director")
    r = other.post("/subscriptions/external/county_a_director/rotate")
    assert r.status_code == 404 and store.feeds.get_feed_token("county_a_director") == before
    page = other.get("/subscriptions/external").data.decode()
    assert "县第一中学校长" in page and "甲县行政服务中心管理办主任" not in page
    assert store.adhoc.get_adhoc(row.id).status == "active"
    assert [s.id for s in store.adhoc.sitting_in("guanliban")] == [si.id]


def test_hostile_input_is_refused_and_escaped(app: Flask) -> None:
    client = login(app, "zhou_mishukezhang")
    for data in ({**FREE, "meeting_type": "<script>alert(1)</script>"},
                 {**FREE, "start": "'; DROP TABLE adhoc_meeting; --"},
                 {**FREE, "end": "2026-03-05T14:00"},
                 {**FREE, "title": "长" * 500},
                 {**FREE, "extra": ["../../etc/passwd", "<b>x</b>"]},
                 {**FREE, "room": "<img src=x onerror=alert(1)>"},
                 {**FREE, "meeting_type": "kewuhui"},          # per section: needs one
                 {**FREE, "section_id": "jiaoyugu"}):          # another unit's section
        r = client.post("/adhoc", data=data)
        assert r.status_code == 400, data
        page = r.data.decode()
        assert 'class="error"' in page
        assert "<script>alert" not in page and "<img src=x" not in page
    assert _store(app).adhoc.adhoc_meetings("guanliban") == []
    assert client.post("/adhoc/999/withdraw", data={"version": 1}).status_code == 404
    assert client.post(f"/meetings/{ZRB}/{RID.isoformat()}/sitting-in",
                       data={"person": "<x>"}).status_code == 302
    assert _store(app).adhoc.sitting_in("guanliban") == []


def test_clash_is_shown_then_saved_with_a_note(app: Flask) -> None:
    store = _store(app)
    client = login(app, "zhou_mishukezhang")
    page = client.post("/adhoc", data=CLASH).data.decode()
    assert 'id="adhoc-clashes"' in page and "张建国" in page and "主任办公会" in page
    assert store.adhoc.adhoc_meetings("guanliban") == []           # nothing saved yet
    r = client.post("/adhoc", data={**CLASH, "confirm": "1"})
    assert r.status_code == 400 and 'id="error-note"' in r.data.decode()
    assert store.adhoc.adhoc_meetings("guanliban") == []
    where = _create(client, {**CLASH, "confirm": "1", "note": "主任同意提前结束办公会"})
    [row] = store.adhoc.adhoc_meetings("guanliban")
    assert row.note == "主任同意提前结束办公会"
    uid = f"adhoc-{row.id}@guanliban.calsync"
    assert uid in where
    page = client.get(where).data.decode()
    assert "临时系统会（系统工作会议）" in page and "时间冲突说明：主任同意提前结束办公会" in page
    # Without a clash: saved at once, no note.
    _create(client, FREE)
    notes = [r.note for r in store.adhoc.adhoc_meetings("guanliban")]
    assert notes == ["主任同意提前结束办公会", ""]
    # Withdrawn with a stale version: refused; with the current one: CANCELLED.
    client.post(f"/adhoc/{row.id}/withdraw", data={"version": 0})
    assert store.adhoc.get_adhoc(row.id).status == "active"
    client.post(f"/adhoc/{row.id}/withdraw", data={"version": 1})
    assert store.adhoc.get_adhoc(row.id).status == "withdrawn"


def test_adhoc_and_sitting_in_appear_in_the_feeds(app: Flask) -> None:
    store = _store(app)
    secretary = login(app, "zhou_mishukezhang")
    _create(secretary, {**FREE, "extra": ["qian_keyuan"]})
    [row] = store.adhoc.adhoc_meetings("guanliban")
    uid = f"adhoc-{row.id}@guanliban.calsync"
    chair = login(app, "zhang_zhuren")
    page = chair.get(f"/meetings/{ZRB}/{RID.isoformat()}").data.decode()
    assert 'id="sitting-in-form"' in page
    r = chair.post(f"/meetings/{ZRB}/{RID.isoformat()}/sitting-in", data={"person": "feng_kezhang"})
    assert r.status_code == 302
    page = chair.get(f"/meetings/{ZRB}/{RID.isoformat()}").data.decode()
    assert re.search(r"冯涛 <small>列席", page)
    # qian_keyuan: the ad-hoc meeting in their own feed (an extra attendee).
    qian = store.feeds.feed_token("qian_keyuan", "guanliban", actor="t")
    [ev] = [e for e in _events(_feed(secretary, qian)) if str(e["UID"]) == uid]
    assert str(ev["SUMMARY"]) == "研究重大事项（主任办公会）"
    # 冯涛's own feed: the one 主任办公会 he sits in, as NON-PARTICIPANT.
    feng = store.feeds.feed_token("feng_kezhang", "guanliban", actor="t")
    evs = [e for e in _events(_feed(secretary, feng)) if str(e["UID"]) == ZRB]
    att = [a for e in evs for a in e.get("ATTENDEE", []) if "feng" in str(a).lower()]
    assert att and all(a.params["ROLE"] == "NON-PARTICIPANT" for a in att)
    body = _feed(secretary, feng)
    starts = [e["DTSTART"].dt for e in recurring_ical_events.of(
        icalendar.Calendar.from_ical(body)).between((2026, 1, 1), (2028, 1, 1))
        if str(e["UID"]) == ZRB]
    assert starts == [RID]     # that occurrence only
    # The chair withdraws it again.
    [si] = store.adhoc.sitting_in("guanliban")
    chair.post(f"/sitting-in/{si.id}/withdraw", data={"version": si.version})
    assert store.adhoc.sitting_in("guanliban") == []
    # The cached feed follows at once (the withdrawal is a stored input change).
    after = icalendar.Calendar.from_ical(_feed(secretary, feng))
    assert not any(str(e["UID"]) == ZRB for e in after.walk("VEVENT"))


def test_confidential_adhoc_is_busy_for_uninvited_staff(app: Flask) -> None:
    store = _store(app)
    secretary = login(app, "zhou_mishukezhang")
    where = _create(secretary, {**FREE, "meeting_type": "dangzu", "title": SECRET})
    [row] = store.adhoc.adhoc_meetings("guanliban")
    uid = f"adhoc-{row.id}@guanliban.calsync"
    staff = login(app, "qian_keyuan")
    # its page answers like an unknown meeting (issue 20); the week shows 忙碌 (below: feed)
    r = staff.get(where)
    page = r.data.decode()
    assert r.status_code == 404 and SECRET not in page and "第一会议室" not in page
    org_feed = _feed(staff, store.feeds.feed_token("qian_keyuan", "guanliban", actor="t"),
                     "org/guanliban.ics")
    assert SECRET.encode() not in org_feed and uid.encode() not in org_feed
    assert "忙碌" in org_feed.decode()
    # A member of the 党组 sees it in full.
    wang = _feed(staff, store.feeds.feed_token("wang_fuzhuren", "guanliban", actor="t"))
    assert SECRET in wang.decode()


def test_external_attendees_get_a_feed_link_the_secretary_can_rotate(app: Flask) -> None:
    store = _store(app)
    secretary = login(app, "zhou_mishukezhang")
    assert 'id="external-feeds-link"' in secretary.get("/subscriptions").data.decode()
    _create(secretary, {**FREE, "meeting_type": "dangzu", "title": SECRET})
    _create(secretary, {**FREE, "meeting_type": "xitong", "start": "2026-03-12T14:00",
                        "end": "2026-03-12T17:00", "title": "半年工作推进"})
    page = secretary.get("/subscriptions/external").data.decode()
    assert "甲县行政服务中心管理办主任" in page
    token = store.feeds.get_feed_token("county_a_director").token
    assert f"/feeds/{token}/me.ics" in page and f"webcal://localhost/feeds/{token}/me.ics" in page
    body = _feed(secretary, token).decode()
    assert "半年工作推进（系统工作会议）" in body
    assert SECRET not in body and "党组会议" not in body and "忙碌" not in body
    assert "周例会" not in body                # staff meetings do not name them
    # Only their own feed: not the organization's.
    assert secretary.get(f"/feeds/{token}/org/guanliban.ics").status_code == 404
    # Rotate: the old link is gone at once.
    r = secretary.post("/subscriptions/external/county_a_director/rotate")
    assert r.status_code == 302
    assert secretary.get(f"/feeds/{token}/me.ics").status_code == 404
    new = store.feeds.get_feed_token("county_a_director").token
    assert new != token and "半年工作推进" in _feed(secretary, new).decode()
    assert secretary.post("/subscriptions/external/qian_keyuan/rotate").status_code == 404
