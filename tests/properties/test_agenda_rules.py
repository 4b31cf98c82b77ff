"""Topics and agenda, the pure rules (calsync.meetings.agenda): which meetings take topics, when
they are due (the calendar's own deadline events), the late mark, the state machine, input checks,
who may act, and the approved agenda as the DESCRIPTION's opening."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calsync.access import Viewer, may_act
from calsync.meetings import agenda
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.occurrence import TZ
from calsync.policy import PolicySet, load_policies

ZHUREN = "zhurenbangong@guanliban.calsync"
ZHOULIHUI = "zhoulihui@guanliban.calsync"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return load_policies(None)


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def _occs(policies: PolicySet, start: dt.date, end: dt.date, **kw):
    return generate(policies, start, end, ["guanliban"], Inputs(**kw)).occurrences()


def test_topic_meetings_are_the_policys_agenda_deadlines(policies: PolicySet) -> None:
    specs = agenda.specs(policies.organizations["guanliban"])
    # 篇一 二.4 (议题材料截止 before each 主任办公会) and 三.4/三.5 (周例会 via 周工作报表)
    assert {k: v.deadline.name for k, v in specs.items()} == {
        "zhurenbangong": "议题材料截止", "zhoulihui": "周工作报表报送截止"}
    assert specs["zhoulihui"].approver == "值班领导"         # 三.4 "报值班领导审定"
    assert specs["zhurenbangong"].approver.startswith("主要领导")  # 二.4 "报主要领导审定"
    # 篇二 has no topic clause and its policy no agenda deadline: nothing takes topics there
    assert agenda.specs(policies.organizations["jiaoyuju"]) == {}


def test_deadline_is_the_calendars_deadline_event(policies: PolicySet) -> None:
    """For every 主任办公会 and 周例会 of 2026 (holiday moves included), the topics are due when
    the generated deadline event ends: one instant, not two."""
    org = policies.organizations["guanliban"]
    occs = _occs(policies, dt.date(2025, 12, 1), dt.date(2026, 12, 31))
    weekly = [o.end for o in occs if o.series == "deadline-zhoubao"]
    before = [o.end for o in occs if o.series.startswith("deadline-yiti-")]
    checked = 0
    for o in occs:
        spec = agenda.spec_for(org, o)
        if spec is None or o.start.year != 2026:
            continue
        due = agenda.deadline(spec, o, policies.calendar)
        ends = weekly if spec.meeting_type == "zhoulihui" else before
        assert due == max(e for e in ends if e <= o.start), o.start
        checked += 1
    assert checked > 70


def test_late_topic_is_marked_quoting_the_clause(policies: PolicySet) -> None:
    org = policies.organizations["guanliban"]
    occ = next(o for o in _occs(policies, dt.date(2026, 3, 1), dt.date(2026, 3, 8))
               if o.uid == ZHUREN)
    spec = agenda.spec_for(org, occ)
    assert spec is not None
    due = agenda.deadline(spec, occ, policies.calendar)
    # 篇一 二.4 "在会议召开前两天将议题和有关材料送交秘书科": Monday 17:00 for Wednesday 09:00
    assert due == _at("2026-03-02T17:00")
    assert agenda.late_note(spec, due, due) == ""
    mark = agenda.late_note(spec, due, due + dt.timedelta(minutes=1))
    assert mark == "逾期：晚于议题材料截止（2026-03-02 17:00，篇一 二.4）提交"


def test_weekly_deadline_for_zhoulihui(policies: PolicySet) -> None:
    org = policies.organizations["guanliban"]
    occs = {o.start.date(): o for o in _occs(policies, dt.date(2026, 2, 20),
                                             dt.date(2026, 3, 10)) if o.uid == ZHOULIHUI}
    spec = agenda.specs(org)["zhoulihui"]
    # 三.5: the week's report by Friday 15:00 closes the next Monday's 周例会
    assert agenda.deadline(spec, occs[dt.date(2026, 3, 9)], policies.calendar) == \
        _at("2026-03-06T15:00")
    # after the Spring Festival (2026-02-16…20 all off) the last Friday held is 02-13
    assert agenda.deadline(spec, occs[dt.date(2026, 2, 24)], policies.calendar) == \
        _at("2026-02-13T15:00")
    assert "篇一 三.5" in agenda.late_note(spec, _at("2026-03-06T15:00"),
                                          _at("2026-03-06T15:01"))


def test_kewuhui_and_deadlines_take_no_topics(policies: PolicySet) -> None:
    org = policies.organizations["guanliban"]
    for o in _occs(policies, dt.date(2026, 3, 2), dt.date(2026, 3, 8)):
        taken = agenda.spec_for(org, o) is not None
        assert taken == (o.kind == "meeting" and o.uid in (ZHUREN, ZHOULIHUI)), o.uid


# -- the state machine ---------------------------------------------------------------------

def test_topic_moves() -> None:
    assert agenda.next_state(agenda.SUBMITTED, "consent") == agenda.CONSENTED
    assert agenda.next_state(agenda.SUBMITTED, "decline") == agenda.DECLINED
    with pytest.raises(agenda.AgendaError, match="已分管领导已同意"):
        agenda.next_state(agenda.CONSENTED, "decline")
    with pytest.raises(agenda.AgendaError):
        agenda.next_state(agenda.SUBMITTED, "approve")


@given(st.lists(st.sampled_from(["consent", "decline", "approve", "order"]), max_size=6))
def test_a_decided_topic_stays_decided(actions: list[str]) -> None:
    state, decided = agenda.SUBMITTED, 0
    for action in actions:
        try:
            state = agenda.next_state(state, action)
            decided += 1
        except agenda.AgendaError:
            pass
    assert decided <= 1
    assert state in agenda.TOPIC_STATES


def test_order_takes_consented_topics_once() -> None:
    states = {1: agenda.CONSENTED, 2: agenda.SUBMITTED, 3: agenda.DECLINED, 4: agenda.CONSENTED}
    assert agenda.check_order([4, 1], states) == [4, 1]
    for bad, says in (([], "至少"), ([1, 1], "两次"), ([2], "未获分管领导同意"),
                      ([3], "未获"), ([9], "未获")):
        with pytest.raises(agenda.AgendaError, match=says):
            agenda.check_order(bad, states)


def test_approve_needs_a_draft() -> None:
    agenda.check_approve(agenda.DRAFT)
    with pytest.raises(agenda.AgendaError, match="尚无议程"):
        agenda.check_approve(None)
    with pytest.raises(agenda.AgendaError, match="已审定"):
        agenda.check_approve(agenda.APPROVED)


# -- hostile input -------------------------------------------------------------------------

@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x",
    "file:///etc/passwd", "vbscript:x", "//evil.example/x", "https://", "http://a b.example/",
    'https://x.example/"onmouseover="alert(1)', "https://x.example/\nSet-Cookie:x",
    "https://x.example/" + "a" * 600])
def test_bad_links_are_refused(link: str) -> None:
    with pytest.raises(agenda.AgendaError, match="http"):
        agenda.check_link(link)


@given(st.text(max_size=60))
def test_an_accepted_link_is_http_or_https(text: str) -> None:
    try:
        out = agenda.check_link(text)
    except agenda.AgendaError:
        return
    assert out == "" or out.lower().startswith(("http://", "https://"))


def test_topic_fields_are_checked() -> None:
    ok = agenda.clean_topic("  关于窗口服务考评办法的议题 ", "钱丽", "20", "https://a.example/x")
    assert ok == agenda.TopicInput("关于窗口服务考评办法的议题", "钱丽", 20, "https://a.example/x")
    for args, says in ((("", "钱丽", 10, ""), "议题名称"),
                       (("x" * 101, "钱丽", 10, ""), "议题名称"),
                       (("a\nb", "钱丽", 10, ""), "单行"), (("t", "", 10, ""), "汇报人"),
                       (("t", "钱丽", "abc", ""), "分钟"), (("t", "钱丽", 0, ""), "1–240"),
                       (("t", "钱丽", 999, ""), "1–240")):
        with pytest.raises(agenda.AgendaError, match=says):
            agenda.clean_topic(*args)


@pytest.mark.parametrize("name", ["a.html", "a.svg", "a.exe", "a", "a.pdf.js", ".htaccess"])
def test_only_office_documents_are_stored(name: str) -> None:
    with pytest.raises(agenda.AgendaError, match="材料文件"):
        agenda.file_type(name)


def test_office_documents_are_taken() -> None:
    assert agenda.file_type("关于议题的说明.DOCX") == "docx"
    assert agenda.file_type("材料.pdf") == "pdf"


# -- who may act (calsync.access) ----------------------------------------------------------

def _v(pid: str, role: str, section: str | None, org: str = "guanliban") -> Viewer:
    return Viewer(pid, org, role, section=section)


def test_each_step_is_one_persons() -> None:
    qian = _v("qian_keyuan", "staff", "zonghe")
    lin = _v("lin_keyuan", "staff", "jiaoyi")
    zhou = _v("zhou_mishukezhang", "secretary", "mishuke")
    wang = _v("wang_fuzhuren", "leader", None)
    liu = _v("liu_zhuren", "secretary", "bangongshi", org="jiaoyuju")
    g = "guanliban"
    assert may_act(qian, g, "agenda-submit", owner="zonghe")
    assert not may_act(qian, g, "agenda-submit", owner="jiaoyi")
    assert not may_act(wang, g, "agenda-submit", owner=None)       # no section of his own
    assert may_act(wang, g, "agenda-consent", owner="wang_fuzhuren")
    assert not may_act(zhou, g, "agenda-consent", owner="wang_fuzhuren")  # not the 分管领导's
    assert not may_act(lin, g, "agenda-consent", owner="wang_fuzhuren")
    assert may_act(zhou, g, "agenda-order")
    assert not may_act(qian, g, "agenda-order")
    assert not may_act(liu, g, "agenda-order")                     # another organization
    assert may_act(wang, g, "agenda-approve", owner="wang_fuzhuren")
    assert not may_act(zhou, g, "agenda-approve", owner="wang_fuzhuren")
    assert not may_act(wang, g, "agenda-approve", owner=None)


# -- the generation input ------------------------------------------------------------------

def test_approved_agenda_opens_the_description(policies: PolicySet) -> None:
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 8)
    text = agenda.agenda_text([agenda.Item("审议窗口考评办法", "钱丽", 20),
                               agenda.Item("研究年度预算", "林芳", 30)])
    assert text == ("议程：\n1. 审议窗口考评办法（汇报：钱丽，约20分钟）\n"
                    "2. 研究年度预算（汇报：林芳，约30分钟）")
    key = (ZHUREN, _at("2026-03-04T09:00"))
    plain = {(o.uid, o.nominal_start): o for o in _occs(policies, start, end)}
    with_agenda = {(o.uid, o.nominal_start): o
                   for o in _occs(policies, start, end, agendas={key: text})}
    assert with_agenda[key].description == f"{text}\n{plain[key].description}"
    assert with_agenda[key].full_description().startswith("议程：\n1. 审议窗口考评办法")
    changed = [k for k in plain if plain[k] != with_agenda[k]]
    assert changed == [key]
