"""The holiday table belongs to the instance (issue 20 item 6): one table serves every
organization, so 教育局's secretary previewing a (made-up) notice sees 管理办's meetings it
moves — as 忙碌 with their time, never their titles — and cannot apply it alone: it waits
until a secretary of 管理办 confirms (calsync.access.may_apply_holiday_table). A secretary
whose notice moves only her own organization's meetings applies it at once, as before."""

from __future__ import annotations

import datetime as dt
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from calsync import access
from calsync.app.holiday_overlay import notice_changes
from calsync.calendar.notice import parse_notice
from tests.support.holiday_notices import NOTICE_2027
from tests.support.webapp import confidential_policies, login, make_app

JIAOYUJU_SECRETARY = "liu_zhuren"        # 教育局 办公室主任
GUANLIBAN_SECRETARY = "zhou_mishukezhang"
GUANLIBAN_STAFF = "qian_keyuan"
USERS = (JIAOYUJU_SECRETARY, GUANLIBAN_SECRETARY, GUANLIBAN_STAFF)
# Made up: 元旦 runs to Wednesday 1月6日, over 管理办's 周例会 and 科务会 on Monday 1月4日 and
# its confidential 主任办公会 on the Wednesday.
MADE_UP = NOTICE_2027.replace("一、元旦：1月1日（周五）至3日（周日）放假，共3天。",
                              "一、元旦：1月1日（周五）至6日（周三）放假，共6天。")
JAN_4 = dt.date(2027, 1, 4)


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(db_url, tmp_path / "inst", confidential_policies(tmp_path), USERS)
    yield app
    app.extensions["calsync"].close()


def _table(app: Flask) -> Path:
    return Path(app.config["CALSYNC_INSTANCE"]) / "holidays" / "2027.toml"


def _held_jan_4(app: Flask) -> bool:
    return app.extensions["calsync"].policies.calendar.is_working_day(JAN_4)


def _guanliban_changes(app: Flask) -> list:
    core = app.extensions["calsync"]
    changes, _ = notice_changes(core.policies, core.store, parse_notice(MADE_UP),
                                sorted(core.policies.organizations))
    assert {(c.before or c.after).organization for c in changes} == {"guanliban"}
    return changes


def test_the_preview_shows_every_organizations_changes_and_others_only_as_busy(
        app: Flask) -> None:
    changes = _guanliban_changes(app)
    confidential = [c for c in changes if (c.before or c.after).klass == "CONFIDENTIAL"]
    assert confidential   # 主任办公会 moves too
    page = login(app, JIAOYUJU_SECRETARY).post(
        "/holidays", data={"text": MADE_UP, "preview": "1"}).data.decode()
    section = page[page.index('id="notice-changes"'):]
    assert f"{len(changes)} 项会议或截止时间将变动" in section
    rows = re.findall(r'<tr class="change[^"]*">(.*?)</tr>', section, re.S)
    assert len(rows) == len(changes)
    assert all("管理办" in r and "忙碌" in r for r in rows), rows[:2]
    for title in ("周例会", "科务会", "主任办公会"):
        assert title not in section
    assert "需管理办秘书确认" in section
    # 管理办's own secretary sees her organization's meetings in full, 主任办公会 included.
    own = login(app, GUANLIBAN_SECRETARY).post(
        "/holidays", data={"text": MADE_UP, "preview": "1"}).data.decode()
    assert "主任办公会" in own[own.index('id="notice-changes"'):]
    assert "需管理办秘书确认" not in own


def test_another_organizations_secretary_cannot_apply_it_alone(app: Flask) -> None:
    r = login(app, JIAOYUJU_SECRETARY).post("/holidays", data={"text": MADE_UP, "apply": "1"})
    assert r.status_code == 302
    assert not _table(app).exists()
    assert _held_jan_4(app)                        # 管理办's 1月4日 is still a working day
    page = login(app, GUANLIBAN_SECRETARY).get("/holidays").data.decode()
    pending = page[page.index('id="pending"'):]
    assert "2027" in pending and "刘" in pending and "待管理办确认" in pending
    audit = app.extensions["calsync"].store.audit.audit_log(target="holidays:2027")
    assert [a.action for a in audit] == ["holidays.propose"]


def test_the_affected_organizations_secretary_confirms_and_then_it_applies(
        app: Flask) -> None:
    login(app, JIAOYUJU_SECRETARY).post("/holidays", data={"text": MADE_UP, "apply": "1"})
    assert login(app, GUANLIBAN_STAFF).post("/holidays/pending/2027/confirm").status_code == 403
    # 教育局's secretary asked; 教育局's meetings do not move: she does not confirm for 管理办.
    assert login(app, JIAOYUJU_SECRETARY).post(
        "/holidays/pending/2027/confirm").status_code == 403
    assert not _table(app).exists()
    r = login(app, GUANLIBAN_SECRETARY).post("/holidays/pending/2027/confirm")
    assert r.status_code == 302
    assert _table(app).is_file() and stat.S_IMODE(_table(app).stat().st_mode) == 0o600
    assert not _held_jan_4(app)
    week = login(app, GUANLIBAN_SECRETARY).get("/meetings?week=2027-W01").data.decode()
    assert "休·元旦" in week
    audit = app.extensions["calsync"].store.audit.audit_log(target="holidays:2027")
    assert sorted(a.action for a in audit) == ["holidays.apply", "holidays.confirm",
                                               "holidays.propose"]
    assert "id=\"pending\"" not in login(app, GUANLIBAN_SECRETARY).get("/holidays").data.decode()


def test_a_pending_table_can_be_withdrawn_or_turned_down(app: Flask) -> None:
    login(app, JIAOYUJU_SECRETARY).post("/holidays", data={"text": MADE_UP, "apply": "1"})
    assert login(app, GUANLIBAN_STAFF).post("/holidays/pending/2027/withdraw").status_code == 403
    assert login(app, GUANLIBAN_SECRETARY).post(
        "/holidays/pending/2027/withdraw").status_code == 302   # 管理办 turns it down
    assert login(app, GUANLIBAN_SECRETARY).post(
        "/holidays/pending/2027/confirm").status_code == 404    # nothing left to confirm
    assert not _table(app).exists() and _held_jan_4(app)


def test_a_secretary_applies_alone_what_moves_only_her_organizations_meetings(
        app: Flask) -> None:
    r = login(app, GUANLIBAN_SECRETARY).post("/holidays", data={"text": MADE_UP, "apply": "1"})
    assert r.status_code == 302
    assert _table(app).is_file() and not _held_jan_4(app)


def test_the_rule_is_one_pure_function_in_calsync_access() -> None:
    jyj = access.Viewer("liu_zhuren", "jiaoyuju", "secretary")
    glb = access.Viewer("zhou_mishukezhang", "guanliban", "secretary")
    staff = access.Viewer("qian_keyuan", "guanliban", "staff")
    assert access.may_apply_holiday_table(glb, {"guanliban"})
    assert access.may_apply_holiday_table(jyj, set())
    assert not access.may_apply_holiday_table(jyj, {"guanliban"})
    assert not access.may_apply_holiday_table(jyj, {"guanliban", "jiaoyuju"}, {"jiaoyuju"})
    assert access.may_apply_holiday_table(jyj, {"guanliban", "jiaoyuju"}, {"guanliban"})
    assert not access.may_apply_holiday_table(staff, {"guanliban"})
    assert access.holiday_orgs_to_confirm(jyj, {"guanliban", "jiaoyuju"}) == {"guanliban"}
    assert access.may_confirm_holiday_table(glb, {"guanliban"})
    assert not access.may_confirm_holiday_table(jyj, {"guanliban"})
    assert not access.may_confirm_holiday_table(staff, {"guanliban"})
    assert access.may_withdraw_holiday_table(jyj, "liu_zhuren", {"guanliban"})
    assert not access.may_withdraw_holiday_table(staff, "liu_zhuren", {"guanliban"})
