"""Merging never widens a confidential audience (issue 20, item 1; 篇二 四.5).

A public ad-hoc 系统工作会议 (with 钱丽, a 科员, and the county directors, external) and a
党组会议 share 张建国 at the same time. The secretary's 合并 is refused with the reason and
调整 offered; a merge already in the store (an old page, a script) is ignored with a warning.
Either way the 党组会议's title reaches neither 钱丽 nor an external director: page, week,
/weekly, feeds, the embedded Radicale, iMIP mail (aiosmtpd). On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import caldav
import pytest
from flask import Flask

from calsync import access
from calsync.app.notices_queue import queue
from calsync.app.service import clash_view, generation, publish_orgs
from calsync.caldav_server.process import EmbeddedCalDAV
from calsync.notices.deliver import deliver_due
from calsync.occurrence import TZ, Attendee, Occurrence, at
from tests.support import web_fixtures as wf
from tests.support.servers import free_port
from tests.support.smtp_fixtures import SmtpServer
from tests.support.webapp import PASSWORD, login, make_app

ORG = "guanliban"
WEEK = "2026-W11"
MONDAY, SUNDAY = dt.date(2026, 3, 9), dt.date(2026, 3, 15)
START, END = "2026-03-10T14:00:00+08:00", "2026-03-10T16:00:00+08:00"
NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)
DANGZU_TITLE = "研究干部任免事项"
PUBLIC_TITLE = "系统工作推进会"
STAFF = "qian_keyuan"                       # 钱丽, 科员: in the public meeting only
STAFF_MAIL = "qian.li@glb.example.org"
EXTERNAL = "county_a_director"              # 甲县…管理办主任, external: no login
EXTERNAL_MAIL = "director@county-a.example.org"
READER_MAIL = "zhang.jianguo@glb.example.org"   # 张建国: in both, reads the 党组会议
SECRETARY = "zhou_mishukezhang"
USERS = (SECRETARY, STAFF, "zhang_zhuren", "wang_fuzhuren")


@pytest.fixture
def app(db_url: str, tmp_path: Path, policies_dir: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", policies_dir, USERS)
    yield app
    app.extensions["calsync"].close()


def _core(app: Flask):
    return app.extensions["calsync"]


def _dangzu(app: Flask, audience: tuple[str, ...] = ("wang_fuzhuren",),
            title: str = DANGZU_TITLE) -> str:
    s = _core(app).store
    req = s.requests.add_request(ORG, section_id="zonghe", category="dangzu", title=title,
                                 audience=list(audience), start=START, end=END, room="diyi",
                                 important=False, approver_id=None, actor="test")
    s.requests.decide_request(req.id, True, actor="test", expected_version=req.version)
    return f"request-{req.id}@{ORG}.calsync"


def _public(app: Flask) -> str:
    a = _core(app).store.adhoc.add_adhoc(ORG, meeting_type="xitong", start=START,
                                         end="2026-03-10T17:00:00+08:00", actor=SECRETARY,
                                         title=PUBLIC_TITLE, extra=[STAFF])
    return f"adhoc-{a.id}@{ORG}.calsync"


def _clash(app: Flask, uids: set[str]):
    c = _core(app)
    clashes, occs = clash_view(c.policies, c.store, MONDAY, SUNDAY, [ORG])
    found = [x for x in clashes if {i.series_uid for i in x.items} == uids]
    assert found, [(x.kind, [i.series_uid for i in x.items]) for x in clashes]
    by_uid = {o.uid: o for o in occs}
    return found[0], by_uid


def _occurrences(app: Flask) -> dict[str, Occurrence]:
    c = _core(app)
    gen = generation(c.policies, c.store, MONDAY, SUNDAY, [ORG])
    return {o.uid: o for o in gen.occurrences()}


def _post_merge(app: Flask, clash_id: str):
    return login(app, SECRETARY).post(
        f"/clashes/{clash_id}/merge",
        data={"version_a": 0, "version_b": 0, "time": "a", "action": "merge", "org": ORG,
              "week": WEEK})


# -- what the outsiders get, door by door ------------------------------------------------------

def _mail(smtp: SmtpServer, rcpt: str) -> str:
    def text(msg: Message) -> str:
        body = str(msg["Subject"]) + "".join(p.get_content() for p in msg.iter_parts())
        return body.replace("\r\n ", "").replace("\n ", "")
    return "\n".join(text(d.message) for d in smtp.recorder.delivered if rcpt in d.rcpt_tos)


def _caldav(app: Flask, tmp_path: Path, db_url: str, person: str) -> str:
    """Publish to an embedded Radicale and read every calendar ``person`` finds there."""
    c = _core(app)
    orgs = sorted(c.policies.organizations)
    dav = EmbeddedCalDAV(tmp_path / "dav", "127.0.0.1", free_port(),
                         c.store.engine.url.render_as_string(hide_password=False), orgs)
    dav.start()
    try:
        _, result = publish_orgs(c.policies, c.store, dav.target(), orgs, MONDAY, SUNDAY)
        result.raise_first_error()
        dav.grant(result.specs, orgs,
                  {o.id: [p.id for p in o.staff] for o in c.policies.organizations.values()})
        client = caldav.DAVClient(url=f"http://127.0.0.1:{dav.port}/", username=person,
                                  password=PASSWORD)
        got = []
        for cal in client.principal().calendars():
            got.extend(e.data for e in cal.events())
        return "".join(got).replace("\r\n ", "")
    finally:
        dav.stop()


def _seen(app: Flask, tmp_path: Path, db_url: str, smtp: SmtpServer,
          adhoc_uid: str) -> dict[str, str]:
    """Door → everything 钱丽 or the external director got through it."""
    c = _core(app)
    occ = _occurrences(app)[adhoc_uid]
    staff = login(app, STAFF)
    store = c.store
    staff_token = store.feeds.feed_token(STAFF, ORG, actor="test")
    ext_token = store.feeds.feed_token(EXTERNAL, ORG, actor="test")
    queue(c.policies, store, [ORG], NOW)
    deliver_due(store, smtp.url(), tmp_path / "outbox", NOW)
    return {
        "meeting page": staff.get(f"/meetings/{adhoc_uid}/"
                                  f"{occ.nominal_start.isoformat()}").data.decode(),
        "week": staff.get(f"/meetings?week={WEEK}").data.decode(),
        "weekly": staff.get(f"/weekly?week={WEEK}").data.decode(),
        "staff feed": staff.get(f"/feeds/{staff_token}/me.ics?all=1").data.decode(),
        "staff org feed": staff.get(f"/feeds/{staff_token}/org/{ORG}.ics?all=1").data.decode(),
        "external feed": staff.get(f"/feeds/{ext_token}/me.ics?all=1").data.decode(),
        "staff caldav": _caldav(app, tmp_path, db_url, STAFF),
        "staff mail": _mail(smtp, STAFF_MAIL),
        "external mail": _mail(smtp, EXTERNAL_MAIL),
    }


def _leaks(seen: dict[str, str]) -> list[str]:
    return sorted(door for door, text in seen.items()
                  if DANGZU_TITLE in text or "党组会议" in text)


def _told_before(app: Flask, tmp_path: Path, smtp: SmtpServer) -> None:
    """Invitations go out before the secretary looks at the clash, as in real life."""
    c = _core(app)
    queue(c.policies, c.store, [ORG], NOW)
    deliver_due(c.store, smtp.url(), tmp_path / "outbox", NOW)
    assert PUBLIC_TITLE in _mail(smtp, EXTERNAL_MAIL)
    assert DANGZU_TITLE in _mail(smtp, READER_MAIL)


# -- the page --------------------------------------------------------------------------------

def test_the_secretarys_merge_is_refused_and_nothing_reaches_the_outsiders(
        app: Flask, tmp_path: Path, db_url: str, smtp_server: SmtpServer) -> None:
    dangzu, adhoc = _dangzu(app), _public(app)
    _told_before(app, tmp_path, smtp_server)
    clash, _ = _clash(app, {dangzu, adhoc})
    r = _post_merge(app, clash.id)
    page = r.data.decode()
    seen = _seen(app, tmp_path, db_url, smtp_server, adhoc)
    assert _leaks(seen) == []
    # the outsiders still get the public meeting: the doors were really looked through
    for door in ("meeting page", "week", "weekly", "staff feed", "external feed",
                 "staff caldav", "staff mail", "external mail"):
        assert PUBLIC_TITLE in seen[door], door
    assert r.status_code == 409, page
    assert "不能合并" in page and "保密会议" in page and "调整" in page
    assert "/clashes/move?" in page     # 调整 offered for each of the two meetings
    assert not [d for d in _core(app).store.decisions.active_decisions(ORG)]
    occs = _occurrences(app)
    assert occs[adhoc].status != "CANCELLED" and occs[dangzu].summary.startswith(DANGZU_TITLE)


def test_the_clash_page_offers_adjust_not_merge_and_says_why(app: Flask) -> None:
    dangzu, adhoc = _dangzu(app), _public(app)
    clash, _ = _clash(app, {dangzu, adhoc})
    page = login(app, SECRETARY).get(f"/clashes?week={WEEK}&org={ORG}").data.decode()
    card = re.search(rf'id="clash-{clash.id}".*?</article>', page, re.S)
    assert card, page
    html = card.group(0)
    assert f"/clashes/{clash.id}/merge" not in html
    assert "不能合并" in html and "保密会议" in html
    # 调整 is the primary action of the card
    assert re.search(r'class="button primary" href="/clashes/move\?', html), html
    # the merge page, reached by its address, says the same and offers 调整
    r = login(app, SECRETARY).get(f"/clashes/{clash.id}/merge?week={WEEK}&org={ORG}")
    assert r.status_code == 200 and "不能合并" in r.data.decode()
    assert 'value="merge"' not in r.data.decode()


def test_in_chromium_the_cards_first_choice_is_adjust_and_merge_cannot_be_clicked(
        tmp_path: Path, browser_pages: Callable[[], Any]) -> None:
    with wf.running(wf.shipped_app(tmp_path, (SECRETARY,), PASSWORD)) as live:
        dangzu, adhoc = _dangzu(live.app), _public(live.app)
        clash, _ = _clash(live.app, {dangzu, adhoc})
        page = wf.login(live, browser_pages(), SECRETARY, PASSWORD)
        page.goto(f"{live.url}/clashes?week={WEEK}&org={ORG}")
        card = page.locator(f"#clash-{clash.id}")
        merge = card.get_by_role("button", name="合并")
        assert merge.is_disabled() and "不能合并" in card.inner_text()
        assert card.get_by_role("link", name="合并").count() == 0
        live.shot(page, "merge-confidential-1-card")
        card.locator("a.button.primary").first.click()
        page.wait_for_url(re.compile(r"/clashes/move\?"))
        assert "调整" in page.content()
        live.shot(page, "merge-confidential-2-move")
        assert not _core(live.app).store.decisions.active_decisions(ORG)


# -- the core ------------------------------------------------------------------------------

def test_a_stored_widening_merge_is_ignored_with_a_warning(
        app: Flask, tmp_path: Path, db_url: str, smtp_server: SmtpServer) -> None:
    """As an older page or a script would have written it: both decisions in the store."""
    dangzu, adhoc = _dangzu(app), _public(app)
    _told_before(app, tmp_path, smtp_server)
    occs = _occurrences(app)
    keep, other = occs[dangzu], occs[adhoc]
    _core(app).store.decisions.add_merge(ORG, keep=(keep.uid, keep.nominal_start),
                                         other=(other.uid, other.nominal_start),
                                         new_start=keep.start,
                                         new_end=other.end, actor="script",
                                         source="cli")
    seen = _seen(app, tmp_path, db_url, smtp_server, adhoc)
    assert _leaks(seen) == []
    c = _core(app)
    gen = generation(c.policies, c.store, MONDAY, SUNDAY, [ORG])
    after = {o.uid: o for o in gen.occurrences()}
    assert "合并召开" not in after[dangzu].summary
    assert {a.email for a in after[dangzu].attendees} == {a.email for a in keep.attendees}
    # the public meeting is not silently lost: it stays as it was, and the clash is back
    assert after[adhoc].status == other.status and after[adhoc].summary == other.summary
    assert any("merge ignored" in w and dangzu in w for w in gen.warnings), gen.warnings
    assert all(DANGZU_TITLE not in w for w in gen.warnings)
    assert PUBLIC_TITLE in seen["external mail"] and PUBLIC_TITLE in seen["staff caldav"]


def test_the_clash_page_lists_an_ignored_merge_and_withdraws_both_its_decisions(
        app: Flask) -> None:
    dangzu, adhoc = _dangzu(app), _public(app)
    occs = _occurrences(app)
    keep, other = occs[dangzu], occs[adhoc]
    store = _core(app).store
    store.decisions.add_merge(ORG, keep=(keep.uid, keep.nominal_start),
                              other=(other.uid, other.nominal_start),
                              new_start=keep.start, new_end=other.end,
                              actor="script", source="cli")
    sec = login(app, SECRETARY)
    page = sec.get(f"/clashes?week={WEEK}&org={ORG}").data.decode()
    listed = re.search(r'id="refused-merges".*?</ul>', page, re.S)
    assert listed and "不能合并" in listed.group(0) and dangzu in listed.group(0)
    merge = store.decisions.active_decision(keep.uid, keep.nominal_start)
    r = sec.post("/clashes/withdraw", data={"series": merge.series_uid,
                                            "rid": merge.recurrence_id,
                                            "version": merge.version, "org": ORG,
                                            "week": WEEK})
    assert r.status_code == 302
    assert not store.decisions.active_decisions(ORG)   # the merge and its own cancel of the other
    page = sec.get(f"/clashes?week={WEEK}&org={ORG}").data.decode()
    assert 'id="refused-merges"' not in page and "已撤销该合并" in page


def test_two_confidential_meetings_with_the_same_readers_still_merge(app: Flask) -> None:
    first, second = _dangzu(app), _dangzu(app, title="研究年度预算")
    clash, _ = _clash(app, {first, second})
    r = _post_merge(app, clash.id)
    assert r.status_code == 302, r.data.decode()
    actions = sorted(d.action for d in _core(app).store.decisions.active_decisions(ORG))
    assert actions == ["cancel", "merge"]
    merged = [o for o in _occurrences(app).values() if "合并召开" in o.summary]
    assert len(merged) == 1 and merged[0].klass == "CONFIDENTIAL"


# -- the rule ------------------------------------------------------------------------------

def _occ(uid: str, klass: str, *people: tuple[str, str]) -> Occurrence:
    start = at(dt.date(2026, 3, 10), dt.time(14))
    return Occurrence(uid, f"{uid}@{ORG}.calsync", ORG, "meeting", (uid,), uid, start,
                      start + dt.timedelta(hours=1), start, klass=klass,
                      attendees=tuple(Attendee(n, f"{p}@x", "REQ-PARTICIPANT", person_id=p)
                                      for p, n in people))


def test_may_merge_rule() -> None:
    zhang, wang, qian = ("zhang", "张建国"), ("wang", "王立新"), ("qian", "钱丽")
    secret = _occ("dangzu", "CONFIDENTIAL", zhang, wang)
    assert access.may_merge(_occ("a", "PUBLIC", zhang, qian), _occ("b", "PUBLIC", qian)) is None
    # everyone of the public meeting already reads the confidential one: allowed
    assert access.may_merge(secret, _occ("a", "PUBLIC", zhang)) is None
    # a secretary of the organization reads it anyway
    assert access.may_merge(secret, _occ("a", "PUBLIC", zhang, ("zhou", "周晓燕")),
                     secretaries={"zhou"}) is None
    for a, b in ((secret, _occ("a", "PUBLIC", zhang, qian)),
                 (_occ("a", "PUBLIC", zhang, qian), secret)):
        why = access.may_merge(a, b)
        assert why is not None and "钱丽" in why and "王立新" not in why and "保密会议" in why
    # two confidential meetings with other readers: each would gain the other's people
    why = access.may_merge(secret, _occ("c", "CONFIDENTIAL", zhang, qian))
    assert why is not None and "钱丽" in why and "王立新" in why
    same = _occ("c", "CONFIDENTIAL", wang, zhang)
    assert access.may_merge(secret, same) is None and access.may_merge(same, secret) is None
