"""Minutes and decisions: the pure rules (formatting escapes everything, decision input,
overdue, who may act and see) and the store on SQLite and PostgreSQL (versions, history,
completed_at, migration 0013 down and up)."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import inspect

from calsync import access
from calsync.errors import ConcurrentChange
from calsync.ical.tasks import render_task
from calsync.meetings import minutes as rules
from calsync.occurrence import TZ
from calsync.store import Store, open_store
from calsync.store import db as store_db
from calsync.sync.normalize import semantic_key, with_sequence

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
UID, RID = "zhoulihui@guanliban.calsync", datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
SEC = access.Viewer("zhou", "guanliban", "secretary", section="mishuke")
WU = access.Viewer("wu", "guanliban", "staff", section="zonghe")
LIN = access.Viewer("lin", "guanliban", "staff", section="jiaoyi")
OTHER = access.Viewer("liu", "jiaoyuju", "secretary", section="bangongshi")


def test_minutes_text_is_escaped_then_formatted() -> None:
    html = str(rules.render_minutes(
        '# 一、<b>议题</b>\n**通过** <img src=x onerror=alert(1)>\n第二行\n\n- 甲 "引号"\n- 乙'))
    assert html == ("<h3>一、&lt;b&gt;议题&lt;/b&gt;</h3>\n"
                    "<p><strong>通过</strong> &lt;img src=x onerror=alert(1)&gt;<br>第二行</p>\n"
                    "<ul><li>甲 &quot;引号&quot;</li><li>乙</li></ul>")
    assert str(rules.render_minutes("")) == ""


def test_decision_input_and_overdue() -> None:
    d = rules.check_decision(" 修订办法\x00 ", "zonghe", "2026-03-20", ["zonghe", "mishuke"])
    assert d == rules.DecisionInput("修订办法", "zonghe", dt.date(2026, 3, 20))
    for title, section, due, msg in (("", "zonghe", "2026-03-20", "请填写议定事项"),
                                     ("x", "nowhere", "2026-03-20", "请选择承办科室"),
                                     ("x", "zonghe", "下周", "请填写完成时限"),
                                     ("x" * 301, "zonghe", "2026-03-20", "过长")):
        with pytest.raises(rules.MinutesError, match=msg):
            rules.check_decision(title, section, due, ["zonghe"])
    today = dt.date(2026, 3, 10)
    assert rules.overdue("open", dt.date(2026, 3, 9), today)
    assert rules.overdue("progress", dt.date(2026, 3, 9), today)
    assert not rules.overdue("done", dt.date(2026, 3, 9), today)
    assert not rules.overdue("open", today, today)


def test_who_may_record_and_report() -> None:
    assert access.may_act(SEC, "guanliban", "minutes")
    assert not access.may_act(WU, "guanliban", "minutes")
    assert not access.may_act(OTHER, "guanliban", "minutes")
    assert access.may_act(WU, "guanliban", "decision-progress", owner="zonghe")
    assert not access.may_act(LIN, "guanliban", "decision-progress", owner="zonghe")
    assert not access.may_act(WU, "guanliban", "decision-progress")
    assert access.may_act(SEC, "guanliban", "decision-progress", owner="zonghe")
    assert not access.may_act(OTHER, "guanliban", "decision-progress", owner="zonghe")
    # a decision whose meeting is gone keeps its class: confidential → secretaries only
    assert access.sees_decision(WU, "guanliban", None, confidential=False)
    assert not access.sees_decision(WU, "guanliban", None, confidential=True)
    assert access.sees_decision(SEC, "guanliban", None, confidential=True)
    assert not access.sees_decision(OTHER, "guanliban", None, confidential=False)
    assert access.follows_up(access.Viewer("li", "guanliban", "leader"), "guanliban", ())
    assert not access.follows_up(WU, "guanliban", ())
    assert access.follows_up(WU, "guanliban", ("wu",))


def test_store_minutes_and_decisions(store: Store) -> None:
    m = store.minutes.save_minutes("guanliban", UID, RID, text="纪要", confidential=False,
                                   actor="zhou", expected_version=0, file_name="a.pdf",
                                   file_label="纪要.pdf", at=T0)
    assert (m.version, m.file_label) == (1, "纪要.pdf")
    with pytest.raises(ConcurrentChange):
        store.minutes.save_minutes("guanliban", UID, RID, text="x", confidential=False,
                                   actor="chen",
                                   expected_version=0)
    m = store.minutes.save_minutes("guanliban", UID, RID, text="纪要二", confidential=False,
                                   actor="zhou", expected_version=1)
    assert (m.version, m.text, m.file_name) == (2, "纪要二", "a.pdf")   # the file stays
    assert store.minutes.get_minutes(UID, RID + dt.timedelta(days=7)) is None

    item = store.minutes.add_action_item("guanliban", UID, RID,
                                         rules.DecisionInput("修订办法", "zonghe",
                                                             dt.date(2026, 3, 20)),
                                         meeting="周例会", confidential=False, actor="zhou", at=T0)
    assert store.minutes.action_organizations() == ["guanliban"]
    done_at = T0 + dt.timedelta(days=3)
    item = store.minutes.report_progress(item.id, status="done", note="已印发", actor="wu",
                                         expected_version=1, at=done_at)
    assert (item.status, item.completed_at, item.updated_at) == ("done", done_at, done_at)
    item = store.minutes.report_progress(item.id, status="progress", note="需补充", actor="zhou",
                                         expected_version=2)
    assert item.completed_at is None                          # reopened
    assert store.minutes.action_items("guanliban", open_only=True) == [item]
    assert [n.note for n in store.minutes.action_notes([item.id])[item.id]] == ["已印发", "需补充"]
    with pytest.raises(ConcurrentChange):
        store.minutes.report_progress(item.id, status="done", note="x", actor="wu",
                                      expected_version=1)


def test_vtodo_bytes_are_deterministic_and_take_a_sequence(store: Store) -> None:
    item = store.minutes.add_action_item("guanliban", UID, RID,
                                         rules.DecisionInput("修订办法", "zonghe",
                                                             dt.date(2026, 3, 20)),
                                         meeting="周例会", confidential=False, actor="zhou", at=T0)
    a, b = render_task(item, "综合业务科", None), render_task(item, "综合业务科", None)
    assert a.ics == b.ics and a.uid == f"decision-{item.id}@guanliban.calsync"
    stamped = with_sequence(a.ics, 3)
    assert b"SEQUENCE:3" in stamped and b"SEQUENCE:0" not in stamped
    assert semantic_key(stamped) == semantic_key(a.ics)       # SEQUENCE is churn


def test_migration_0013_down_and_up(fresh_db_url: str) -> None:
    with open_store(fresh_db_url) as store:
        store.minutes.add_action_item("guanliban", UID, RID,
                                      rules.DecisionInput("修订办法", "zonghe",
                                                          dt.date(2026, 3, 20)),
                                      meeting="周例会", confidential=False, actor="zhou")
        with store.engine.begin() as conn:
            command.downgrade(store_db.alembic_config(conn), "0012")
        tables = set(inspect(store.engine).get_table_names())
        assert not tables & {"minutes", "action_item", "action_note"}
    with open_store(fresh_db_url) as again:
        assert again.minutes.action_items() == []
        assert {"minutes", "action_item", "action_note"} <= set(
            inspect(again.engine).get_table_names())
