"""签到 by the short code, as an anonymous visitor of the QR code's page would use it, on the
real app over SQLite and PostgreSQL (issue 20, item 7): a typed name is not a person
recognised, so a confidential meeting stays 忙碌 and its time; a typed name signs in only an
attendee who cannot log in (account holders log in), and every refusal reads the same so the
list of names cannot be probed; wrong codes and refused names go through the login limiter;
the keeper sees which sign-ins rest on a typed name only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from calsync import access
from calsync.app.login_limit import LoginLimiter
from calsync.meetings.attendance import match_name
from calsync.occurrence import TZ, Attendee, Occurrence
from tests.support.webapp import confidential_policies, login, make_app

UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
PAGE = f"/signin/{UID}/{RID.isoformat()}"
# 王立新 (wang_fuzhuren) is invited and has an account; 陈静 (chen_mishu) is invited and has
# none; 钱丽 (qian_keyuan) has an account and is not invited.
USERS = ("zhou_mishukezhang", "wang_fuzhuren", "qian_keyuan")
TITLE, ROOM = "主任办公会", "第一会议室"
GUESSES = 60   # far above any limit the login limiter has had; a lock must come before


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    """The shipped policies with 主任办公会 confidential, at 08:50 on the meeting's day."""
    app = make_app(db_url, tmp_path / "instance", confidential_policies(tmp_path),
                   users=USERS)
    app.extensions["calsync"].fixed_now = dt.datetime(2026, 3, 4, 8, 50, tzinfo=TZ)
    yield app
    app.extensions["calsync"].close()


def _text(r) -> str:
    return r.get_data(as_text=True)


def _section(r) -> str:
    """The sign-in card alone (what the visitor reads), without the per-session CSRF token."""
    m = re.search(r'<section class="card narrow" id="public-signin">.*?</section>', _text(r),
                  re.S)
    assert m is not None, _text(r)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', m.group(0))


def _sheet(app: Flask):
    assert login(app, "zhou_mishukezhang").get(PAGE).status_code == 200   # makes the sheet
    return app.extensions["calsync"].store.attendance.get_signin_sheet(UID, RID)


def _marks(app: Flask) -> dict[str, tuple[str, str]]:
    return {m.person_key: (m.status, m.method)
            for m in app.extensions["calsync"].store.attendance.attendance_marks(UID, RID)}


def _visitor(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_code_sign_in_shows_a_confidential_meeting_only_as_busy_and_its_time(
        app: Flask) -> None:
    sheet = _sheet(app)
    anon = _visitor(app, "10.0.0.1")
    before = _section(anon.get(f"/s/{sheet.token}"))
    assert TITLE not in before and ROOM not in before
    r = anon.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "陈静"})
    assert r.status_code == 200 and "签到成功：陈静，08:50。" in _text(r)
    assert _marks(app) == {"chen_mishu": ("present", "code")}
    body = _text(r)
    assert TITLE not in body and ROOM not in body
    shown = _section(r)
    assert "忙碌" in shown and "2026-03-04 周三 09:00–11:00" in shown
    # the same meeting for the invited account holder who logs in: everything
    wang = login(app, "wang_fuzhuren")
    mine = _section(wang.post(f"/s/{sheet.token}"))
    assert TITLE in mine and ROOM in mine and "签到成功：王立新" in mine


def test_a_typed_name_does_not_sign_in_an_account_holder(app: Flask) -> None:
    sheet = _sheet(app)
    anon = _visitor(app, "10.0.0.2")
    r = anon.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "王立新"})
    assert r.status_code == 400 and "签到成功" not in _text(r)
    assert "wang_fuzhuren" not in _marks(app)
    # he signs in by logging in
    wang = login(app, "wang_fuzhuren")
    assert "签到成功：王立新" in _text(wang.post(f"/s/{sheet.token}"))
    assert _marks(app) == {"wang_fuzhuren": ("present", "self")}


def test_refused_names_get_one_neutral_answer(app: Flask) -> None:
    sheet = _sheet(app)
    answers = set()
    for i, name in enumerate(("王立新", "钱丽", "路人甲")):   # account holder, not invited, nobody
        r = _visitor(app, f"10.0.1.{i}").post(f"/s/{sheet.token}",
                                              data={"code": sheet.code, "name": name})
        answers.add((r.status_code, _section(r)))
    assert len(answers) == 1, answers
    status, shown = answers.pop()
    assert status == 400 and TITLE not in shown and "签到成功" not in shown
    assert _marks(app) == {}


def test_wrong_codes_go_through_the_login_limiter(app: Flask) -> None:
    sheet = _sheet(app)
    guesser = _visitor(app, "10.0.0.9")
    wrong = [c for c in (f"{i:06d}" for i in range(GUESSES + 1)) if c != sheet.code]
    for code in wrong[:GUESSES]:
        r = guesser.post(f"/s/{sheet.token}", data={"code": code, "name": "陈静"})
        if r.status_code == 429:
            break
        assert r.status_code == 400 and "签到码不正确" in _text(r)
    assert r.status_code == 429 and "错误次数过多" in _text(r)
    at = app.extensions["calsync"].fixed_now
    limiter = LoginLimiter(app.extensions["calsync"].store)
    assert limiter.blocked(f"signin:{sheet.id}", "10.0.0.9", at, kind="code") is not None
    right = guesser.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": "陈静"})
    assert right.status_code == 429 and _marks(app) == {}


def test_refused_names_go_through_the_login_limiter(app: Flask) -> None:
    sheet = _sheet(app)
    prober = _visitor(app, "10.0.0.8")
    for i in range(GUESSES):
        r = prober.post(f"/s/{sheet.token}", data={"code": sheet.code, "name": f"路人{i}"})
        if r.status_code == 429:
            break
        assert r.status_code == 400
    assert r.status_code == 429
    at = app.extensions["calsync"].fixed_now
    limiter = LoginLimiter(app.extensions["calsync"].store)
    assert limiter.blocked(f"signin:{sheet.id}", "10.0.0.8", at, kind="code") is not None
    assert prober.post(f"/s/{sheet.token}",
                       data={"code": sheet.code, "name": "陈静"}).status_code == 429
    assert _marks(app) == {}


def test_typed_name_sign_ins_are_marked_for_the_keeper(app: Flask) -> None:
    sheet = _sheet(app)
    _visitor(app, "10.0.0.3").post(f"/s/{sheet.token}",
                                   data={"code": sheet.code, "name": "陈静"})
    login(app, "wang_fuzhuren").post(f"/s/{sheet.token}")
    assert _marks(app) == {"chen_mishu": ("present", "code"),
                           "wang_fuzhuren": ("present", "self")}
    zhou = login(app, "zhou_mishukezhang")
    page = _text(zhou.get(PAGE))
    rows = dict(re.findall(r'<tr class="row-\w+" data-key="(\w+)">(.*?)</tr>', page, re.S))
    assert 'class="tag pending typed-name"' in rows["chen_mishu"]
    assert "姓名签到·未核验" in rows["chen_mishu"]
    assert "typed-name" not in rows["wang_fuzhuren"]
    assert "本人签到" in rows["wang_fuzhuren"]
    export = zhou.get(f"{PAGE}/report.csv")
    assert export.status_code == 200
    table = list(csv.reader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    head = next(row for row in table if "签到方式" in row)
    how = {row[head.index("姓名")]: row[head.index("签到方式")]
           for row in table[table.index(head) + 1:] if len(row) == len(head)}
    assert how["陈静"] == "输入姓名（未核验）" and how["王立新"] == "本人签到"


# -- the two rules of calsync.access, pure ----------------------------------------------------

START = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
PEOPLE = (Attendee("王立新", "wang@x", person_id="wang"),
          Attendee("陈静", "chen@x", "NON-PARTICIPANT", person_id="chen"),
          Attendee("校长", "school@x"),
          Attendee("李明", "li1@x", person_id="li1"), Attendee("李 明", "li2@x", person_id="li2"))


def _occ(klass: str) -> Occurrence:
    return Occurrence("m", "m@x", "guanliban", "meeting", ("zhurenbangong",), TITLE, START,
                      START + dt.timedelta(hours=2), START, klass=klass, attendees=PEOPLE)


def test_the_code_page_shows_in_full_only_to_a_logged_in_attendee() -> None:
    wang = access.Viewer("wang", "guanliban", "leader", "王立新", "wang@x")
    secretary = access.Viewer("zhou", "guanliban", "secretary", "周", "zhou@x")
    for klass, by_name in (("CONFIDENTIAL", access.BUSY_ONLY), ("PUBLIC", access.FULL)):
        occ = _occ(klass)
        assert access.signin_code_view(wang, occ) == access.FULL
        assert access.signin_code_view(secretary, occ, signed_by_name=True) == access.NONE
        assert access.signin_code_view(None, occ) == access.NONE
        assert access.signin_code_view(None, occ, signed_by_name=True) == by_name


def test_a_typed_name_signs_in_one_attendee_who_cannot_log_in() -> None:
    occ = _occ("CONFIDENTIAL")

    def may(name: str, holders: set[str]) -> bool:
        return access.may_sign_in_by_name(occ, match_name(occ, name), holders)

    assert may("陈静", set()) and may("校长", set())
    assert not may("王立新", {"wang"})                  # an account holder logs in
    assert not may("校长", {"school@x"})                # known by e-mail as an account holder
    assert not may("李明", set())                       # two of that name: it says not who
    assert not may("路人甲", set()) and not may("", set())
    stranger = Attendee("陈静", "other@x", person_id="chen2")   # not an attendee of occ
    assert not access.may_sign_in_by_name(occ, [stranger], set())
