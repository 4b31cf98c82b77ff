"""Topics and agenda versions in the store, on SQLite and PostgreSQL: the whole path, late
topics kept, optimistic locking, the newest approved agenda as generation input, audit rows,
and the approved agenda in the rendered calendar."""

from __future__ import annotations

import datetime as dt
import threading

import icalendar
import pytest
import recurring_ical_events

from calsync.app.inputs import read_inputs
from calsync.app.service import build
from calsync.errors import ConcurrentChange
from calsync.meetings.agenda import APPROVED, CONSENTED, DECLINED, DRAFT, AgendaError, TopicInput
from calsync.occurrence import TZ
from calsync.policy import load_policies
from calsync.store import Store

UID = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
LATE = "逾期：晚于议题材料截止（2026-03-02 17:00，篇一 二.4）提交"


def _submit(store: Store, title: str, section: str = "zonghe", late: str = "") -> int:
    return store.agenda.submit_topic("guanliban", UID, RID, section=section,
                                     topic=TopicInput(title, "钱丽", 15), actor="qian_keyuan",
                                     late_note=late).id


def test_topic_to_approved_agenda(store: Store) -> None:
    a = _submit(store, "审议窗口考评办法")
    b = _submit(store, "研究年度预算", section="jiaoyi", late=LATE)
    c = _submit(store, "临时动议")
    assert [t.state for t in store.agenda.topics(UID, RID)] == ["submitted"] * 3
    assert store.agenda.topic(b).late_note == LATE            # late, marked, not lost
    store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren", expected_version=1)
    store.agenda.decide_topic(b, "consent", actor="li_fuzhuren")
    declined = store.agenda.decide_topic(c, "decline", actor="wang_fuzhuren")
    assert declined.state == DECLINED and declined.version == 2
    with pytest.raises(AgendaError, match="未获分管领导同意"):
        store.agenda.order_agenda("guanliban", UID, RID, [b, c], actor="zhou_mishukezhang")
    draft = store.agenda.order_agenda("guanliban", UID, RID, [b, a], actor="zhou_mishukezhang")
    assert draft.status == DRAFT and draft.items == [b, a]
    assert draft.text.splitlines() == ["议程：", "1. 研究年度预算（汇报：钱丽，约15分钟）",
                                       "2. 审议窗口考评办法（汇报：钱丽，约15分钟）"]
    assert store.agenda.approved_agendas("guanliban") == []
    approved = store.agenda.approve_agenda(UID, RID, draft.id, actor="zhang_zhuren")
    assert approved.status == APPROVED and approved.approved_by == "zhang_zhuren"
    assert [x.text for x in store.agenda.approved_agendas("guanliban")] == [draft.text]
    with pytest.raises(AgendaError, match="已审定"):
        store.agenda.approve_agenda(UID, RID, draft.id, actor="zhang_zhuren")
    actions = [e.action for e in store.audit.audit_log(target=f"agenda:{UID}@{RID.isoformat()}")]
    assert sorted(actions) == sorted(["agenda.submit"] * 3 + ["agenda.consent"] * 2 + [
        "agenda.decline", "agenda.order", "agenda.approve"])


def test_reordering_keeps_the_approved_agenda_until_approved_again(store: Store) -> None:
    a, b = _submit(store, "议题一"), _submit(store, "议题二")
    for t in (a, b):
        store.agenda.decide_topic(t, "consent", actor="wang_fuzhuren")
    first = store.agenda.order_agenda("guanliban", UID, RID, [a], actor="zhou_mishukezhang")
    store.agenda.approve_agenda(UID, RID, first.id, actor="zhang_zhuren")
    second = store.agenda.order_agenda("guanliban", UID, RID, [a, b], actor="zhou_mishukezhang",
                                       expected_agenda=first.id)
    assert [x.id for x in store.agenda.approved_agendas("guanliban")] == [first.id]
    store.agenda.approve_agenda(UID, RID, second.id, actor="zhang_zhuren")
    assert [x.id for x in store.agenda.approved_agendas("guanliban")] == [second.id]
    assert [v.id for v in store.agenda.agendas(UID, RID)] == [second.id, first.id]


def test_stale_pages_are_refused(store: Store) -> None:
    a = _submit(store, "议题一")
    with pytest.raises(ConcurrentChange):
        store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren", expected_version=7)
    store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren", expected_version=1)
    with pytest.raises(AgendaError, match="不能再"):
        store.agenda.decide_topic(a, "decline", actor="wang_fuzhuren", expected_version=2)
    first = store.agenda.order_agenda("guanliban", UID, RID, [a], actor="zhou_mishukezhang")
    with pytest.raises(ConcurrentChange):   # a second secretary ordering from an old page
        store.agenda.order_agenda("guanliban", UID, RID, [a], actor="sun_keyuan", expected_agenda=0)
    second = store.agenda.order_agenda("guanliban", UID, RID, [a], actor="sun_keyuan",
                                       expected_agenda=first.id)
    with pytest.raises(ConcurrentChange):   # the chair approving the version he no longer sees
        store.agenda.approve_agenda(UID, RID, first.id, actor="zhang_zhuren")
    assert store.agenda.approve_agenda(UID, RID, second.id, actor="zhang_zhuren").status == APPROVED
    with pytest.raises(AgendaError, match="没有编号"):
        store.agenda.decide_topic(9999, "consent", actor="wang_fuzhuren")


def test_approved_agenda_is_in_the_rendered_calendar(store: Store) -> None:
    a = _submit(store, "审议窗口考评办法")
    store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren")
    draft = store.agenda.order_agenda("guanliban", UID, RID, [a], actor="zhou_mishukezhang")
    policies = load_policies(None)
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)

    def description() -> str:
        res = next(r for r in build(policies, store, start, end, ["guanliban"]).resources
                   if r.uid == UID)
        cal = icalendar.Calendar.from_ical(res.ics)
        (ev,) = recurring_ical_events.of(cal).at((2026, 3, 4))
        assert ev["DTSTART"].dt == RID
        return str(ev["DESCRIPTION"])

    before = description()
    assert "议程" not in before                      # a draft is not published
    store.agenda.approve_agenda(UID, RID, draft.id, actor="zhang_zhuren",
                                at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ))
    after = description()
    assert after.startswith("议程：\n1. 审议窗口考评办法（汇报：钱丽，约15分钟）\n【主任办公会】")
    inputs = read_inputs(store, policies, ["guanliban"])
    assert inputs.newest[UID] == dt.datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # DTSTAMP moves
    assert {k[0] for k in inputs.inputs.agendas} == {UID}
    assert store.agenda.topic(a).state == CONSENTED


def test_two_secretaries_ordering_the_first_agenda_at_once(store: Store) -> None:
    """Both saw no agenda (expected 0): exactly one version is made, the other is told."""
    a = _submit(store, "议题一")
    store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren")
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = store.agenda.order_agenda("guanliban", UID, RID, [a],
                                                   actor=("zhou_mishukezhang", "sun_keyuan")[i])
        except ConcurrentChange as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(r).__name__ for r in results) == ["AgendaRecord", "ConcurrentChange"]
    assert len(store.agenda.agendas(UID, RID)) == 1


def test_approved_agenda_sends_an_update_to_the_attendees(store: Store) -> None:
    """The iMIP notices (calsync.notices) see the new DESCRIPTION: one update per attendee
    of 主任办公会, carrying the agenda; nobody else is written to."""
    from calsync.app.notices_queue import plan_notices, queue
    from calsync.notices.imip import build as build_mail

    policies = load_policies(None)
    now = dt.datetime(2026, 3, 1, 8, 0, tzinfo=TZ)
    queue(policies, store, ["guanliban"], now)
    assert plan_notices(policies, store, ["guanliban"], now) == []
    a = _submit(store, "审议窗口考评办法")
    store.agenda.decide_topic(a, "consent", actor="wang_fuzhuren")
    draft = store.agenda.order_agenda("guanliban", UID, RID, [a], actor="zhou_mishukezhang")
    store.agenda.approve_agenda(UID, RID, draft.id, actor="zhang_zhuren", at=now)
    found = plan_notices(policies, store, ["guanliban"], now)
    assert found and {(n.uid, n.kind) for n in found} == {(UID, "update")}
    assert "zhang.jianguo@glb.example.org" in {n.recipient for n in found}
    mail = build_mail(found[0], ("秘书科", "mishuke@glb.example.org"), now)
    ics = next(p for p in mail.walk() if p.get_content_type() == "text/calendar")
    assert "议程：" in ics.get_content()
