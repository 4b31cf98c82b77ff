"""Issue 10, item 3: the regulations' people. Each test quotes the clause it enforces."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given, settings

from calsync.app.service import policy_clashes
from calsync.ical.render import render_series
from calsync.meetings.decisions import Decision
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.meetings.leave import approvers
from calsync.meetings.requests import RequestForm, approver_for, validate
from calsync.meetings.series_decisions import SeriesDecision
from calsync.occurrence import TZ
from tests.properties.test_properties import cases
from tests.support.gen_helpers import series_by_id, shipped, year_2026

JAN1, DEC31 = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
NOW = dt.datetime(2026, 3, 9, 9, 0, tzinfo=TZ)
WANG = "wang.lixin@glb.example.org"


def _request(section: str, category: str, audience: tuple[str, ...] = ("school_1",),
             rid: int = 7) -> SimpleNamespace:
    return SimpleNamespace(id=rid, organization="jiaoyuju", section_id=section,
                           category=category, title="工作布置", audience=audience,
                           start="2026-03-10T09:00:00+08:00", end="2026-03-10T11:00:00+08:00",
                           room=None, important=False, requested_by="pan_keyuan")


def _requested(section: str, category: str, **kw: object):
    gen = generate(shipped(), dt.date(2026, 3, 9), dt.date(2026, 3, 15), ["jiaoyuju"],
                   Inputs(requests=(_request(section, category, **kw),)))  # type: ignore[arg-type]
    return gen.series[0].occurrences[0]


def _form(section: str, category: str) -> RequestForm:
    return RequestForm(section, category, "工作布置", ("school_1",),
                       dt.datetime(2026, 3, 11, 9, 0, tzinfo=TZ),
                       dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ))


def test_jiceng_is_chaired_by_the_holding_sections_deputy_or_its_chief() -> None:
    """篇二 三.2: "基层业务工作会一般由副局长或股室负责人主持"."""
    jyj = shipped().organizations["jiaoyuju"]
    # 人事股 is supervised by 副局长 曹明, not the directory's first 副局长 宋丽华.
    renshi = _requested("renshigu", "jiceng")
    assert renshi.chair is not None and renshi.chair.person_id == "cao_fujuzhang"
    # 办公室 is supervised by the 局长 (not a 副局长): its own chief chairs.
    office = _requested("bangongshi", "jiceng")
    assert office.chair is not None and office.chair.person_id == "liu_zhuren"
    # 篇二 四.3 "应事前向主持人请假": leave goes to that chair (a unit head's also to the 局长).
    assert approvers(jyj, renshi, "school_1") == ("cao_fujuzhang", "huang_juzhang")
    assert approvers(jyj, office, "school_1")[0] == "liu_zhuren"


def test_a_requested_party_committee_meeting_keeps_its_members() -> None:
    """篇二 三.1 "局党委会…由局主要领导召集主持": the policy's attendees (党委委员) stay."""
    occ = _requested("bangongshi", "dangwei", audience=("liu_zhuren",))
    ids = {a.person_id: a.role for a in occ.attendees}
    assert ids["huang_juzhang"] == "CHAIR"
    for member in ("song_fujuzhang", "cao_fujuzhang", "ye_jijian"):
        assert ids[member] == "REQ-PARTICIPANT"
    # The audience asked for, and the requester (办公室 notifies and records, 三.1).
    assert "liu_zhuren" in ids and occ.klass == "CONFIDENTIAL"
    assert next(a.note for a in occ.attendees if a.person_id == "pan_keyuan") == "申请人"


def test_requests_are_for_ones_own_section_and_categories_say_who_asks_and_approves() -> None:
    """篇二 二.3 "各股室站办需要召开会议，经分管局领导同意后（重要会议须报局长同意）";
    三.1 局党委会 etc. "由局主要领导召集主持，办公室负责通知"."""
    jyj = shipped().organizations["jiaoyuju"]
    p = jyj.people
    # A 科员 of 教育股 may not ask for a 局党委会, nor for another section.
    assert "category" in validate(jyj, _form("jiaoyugu", "dangwei"), NOW, p["du_keyuan"])
    assert "section_id" in validate(jyj, _form("renshigu", "jiceng"), NOW, p["du_keyuan"])
    assert validate(jyj, _form("jiaoyugu", "jiceng"), NOW, p["du_keyuan"]) == {}
    # The 办公室 (it notifies for the 局主要领导) and the 书记 may; the 书记 approves, not a 副局长.
    assert validate(jyj, _form("bangongshi", "dangwei"), NOW, p["pan_keyuan"]) == {}
    assert validate(jyj, _form("bangongshi", "dangwei"), NOW, p["huang_juzhang"]) == {}
    assert approver_for(jyj, "bangongshi", False, "dangwei") == "huang_juzhang"
    assert approver_for(jyj, "bangongshi", False, "juwu") == "huang_juzhang"
    # 基层业务工作会 stays with the section's 分管局领导, the 局长 when important.
    assert approver_for(jyj, "renshigu", False, "jiceng") == "cao_fujuzhang"
    assert approver_for(jyj, "renshigu", True, "jiceng") == "huang_juzhang"
    # 管理办's 党组会议 (篇一 一): 秘书科 or the 主任 asks, the 主任 approves.
    glb = shipped().organizations["guanliban"]
    form = dataclasses.replace(_form("zonghe", "dangzu"), audience=("wu_kezhang",))
    assert "category" in validate(glb, form, NOW, glb.people["wu_kezhang"])
    assert approver_for(glb, "mishuke", False, "dangzu") == "zhang_zhuren"


def test_each_organization_shows_its_own_regulations_words() -> None:
    """篇一 has no discipline clause: 管理办 events say the lines are 篇二 四.7、四.8's; its
    messages say 科室/秘书科 and cite 篇二 二.3 by reference, 教育局's 股室/办公室."""
    occ = series_by_id(year_2026(), "zhoulihui").occurrences[0]
    text = occ.full_description()
    assert "依据：局机关会议管理制度 篇一 三" in text
    assert "会议纪律（参照局机关会议管理制度 篇二 四.7、四.8）：" in text
    jyj_occ = _requested("jiaoyugu", "jiceng")
    assert "会议纪律：" in jyj_occ.full_description() and "参照" not in jyj_occ.full_description()
    glb, jyj = (shipped().organizations[o] for o in ("guanliban", "jiaoyuju"))
    late = dataclasses.replace(_form("zonghe", "dangzu"), start=NOW, end=NOW + dt.timedelta(1))
    assert "报告秘书科（参照篇二 二.3）" in validate(glb, late, NOW)["start"]
    bad = dataclasses.replace(_form("nope", "jiceng"), start=NOW, end=NOW + dt.timedelta(1))
    errors = validate(jyj, bad, NOW)
    assert "报告办公室（篇二 二.3）" in errors["start"] and "股室" in errors["section_id"]
    assert (glb.words.section, glb.words.director_title) == ("科室", "主任")
    assert (jyj.words.section, jyj.words.director_title) == ("股室", "局长")


def test_the_joint_year_end_meeting_keeps_the_director_as_chair_and_its_own_agenda() -> None:
    """篇一 五.1 "管理办主任主持"; 五.2 "年底结合总结表彰大会召开"; 五.3(4) is the half-year
    item "总结上半年系统工作情况，部署下半年工作任务"."""
    occ = series_by_id(year_2026(), "zongjie-2026").occurrences[0]
    chairs = {a.name for a in occ.attendees if a.role == "CHAIR"}
    assert chairs == {"市政府分管副秘书长", "张建国"}
    text = occ.full_description()
    assert "主持：市政府分管副秘书长（总结表彰大会）、张建国（系统工作会议）" in text
    assert "总结上半年系统工作情况" not in text
    assert "传达贯彻上级重要指示及会议精神" in text
    june = series_by_id(year_2026(), "xitong-2026").occurrences[0]
    assert "总结上半年系统工作情况，部署下半年工作任务" in june.full_description()


def test_system_and_year_end_meetings_are_tentative_until_a_secretary_confirms() -> None:
    """篇一 五.1 "系统工作会议，由管理办主任会议确定"; 六.1 "报市政府批准后召开"."""
    june = series_by_id(year_2026(), "xitong-2026")
    occ = june.occurrences[0]
    assert occ.status == "TENTATIVE" and "待定：由管理办主任会议确定" in occ.full_description()
    assert b"STATUS:TENTATIVE" in render_series(june, occ.start).ics
    assert series_by_id(year_2026(), "zongjie-2026").occurrences[0].status == "TENTATIVE"
    confirm = Decision(occ.uid, occ.nominal_start, "confirm", note="主任办公会2026-05-20确定")
    done = series_by_id(generate(shipped(), JAN1, DEC31, None, Inputs(decisions=(confirm,))),
                        "xitong-2026")
    after = done.occurrences[0]
    assert after.status == "CONFIRMED" and "待定" not in after.full_description()
    assert "已确定：主任办公会2026-05-20确定" in after.full_description()
    assert b"STATUS:CONFIRMED" in render_series(done, occ.start).ics


def test_a_holiday_move_avoids_the_organizations_own_meetings() -> None:
    """篇一 二.2 "主任办公会原则上每二周召开一次": 02-18 (春节) goes to the first working day
    that holds no other meeting of its people (02-24 has the moved 周例会 and 科务会)."""
    occs = series_by_id(year_2026(), "zhurenbangong").occurrences
    moved = next(o for o in occs if o.nominal_start.date() == dt.date(2026, 2, 18))
    assert moved.start.date() == dt.date(2026, 2, 25)
    assert any("2026-02-24已有周例会" in n and "调整至2026-02-25" in n for n in moved.notes)
    found = policy_clashes(shipped(), year_2026().occurrences())
    assert not [c for c in found if any(i.summary == "主任办公会" for i in c.items)]
    assert len(found) == 101 and {c.subject for c in found} == {WANG}


@settings(settings.get_profile("calsync-properties"), max_examples=120)
@given(cases())
def test_a_move_that_avoided_a_clash_lands_where_its_people_are_free(case) -> None:  # type: ignore[no-untyped-def]
    """Random schedules and holidays: an occurrence whose note says it avoided a clash
    overlaps no meeting of another type (or of its own, not moved by the holiday) that shares
    a due person, and lies in the range."""
    occs = [o for o in case.generate().occurrences()
            if o.kind == "meeting" and o.status != "CANCELLED"]
    due = {"CHAIR", "REQ-PARTICIPANT", "NON-PARTICIPANT"}

    def people(o):  # type: ignore[no-untyped-def]
        return {a.person_id for a in o.attendees if a.role in due}

    def clash_as_planned(o, x) -> bool:  # type: ignore[no-untyped-def]
        # The policy itself puts them at the same time (a drawn schedule may): a holiday move
        # that keeps them together made no new clash; calsync clashes reports that one.
        return (x.nominal_start < o.nominal_start + (o.end - o.start)
                and o.nominal_start < x.nominal_start + (x.end - x.start))

    for o in occs:
        if not any("为避免冲突" in n for n in o.notes):
            continue
        assert case.start <= o.start.date() <= case.end
        for x in occs:
            if x is o or not (x.start < o.end and o.start < x.end) or not people(o) & people(x):
                continue
            if clash_as_planned(o, x):
                continue
            assert set(x.meeting_types) & set(o.meeting_types) and x.moved, (o.summary, x.summary)


@pytest.mark.parametrize("decision", [
    SeriesDecision("kewuhui-ducha@guanliban.calsync", "offset", JAN1, 45, note="错开召开"),
    SeriesDecision("kewuhui-ducha@guanliban.calsync", "delegate", JAN1, 0,
                   "wang_fuzhuren", "feng_kezhang"),
])
def test_one_series_decision_ends_the_supervisors_101_clashes(decision: SeriesDecision) -> None:
    """篇一 四.1 "管理办分管领导参加所分管科室的科务会议": 王立新 supervises two sections
    whose 科务会 are at the same time; one decision covers Monday and Friday."""
    gen = generate(shipped(), JAN1, DEC31, None, Inputs(series_decisions=(decision,)))
    assert policy_clashes(shipped(), gen.occurrences()) == []
    assert not [w for w in gen.warnings if "series decision" in w]
    gone = dataclasses.replace(decision, series_uid="kewuhui-gone@guanliban.calsync")
    warned = generate(shipped(), JAN1, DEC31, ["guanliban"],
                      Inputs(series_decisions=(gone,)))
    assert any("kewuhui-gone@guanliban.calsync names no series" in w for w in warned.warnings)
    fri = series_by_id(gen, "kewuhui-ducha-fri").occurrences[0]
    if decision.action == "offset":
        assert fri.start.time() == dt.time(9, 45)
        assert "本系列自2026-01-01起每次推迟45分钟召开（错开召开）。" in fri.notes
    else:
        wang = next(a for a in fri.attendees if a.person_id == "wang_fuzhuren")
        assert wang.partstat == "DELEGATED"


def test_series_command_records_lists_and_refuses(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from calsync.cli import main

    db = ["--database-url", f"sqlite:///{tmp_path / 'c.sqlite3'}"]
    assert main(["series", "offset", "kewuhui-ducha@guanliban.calsync", "--minutes", "45",
                 "--since", "2026-01-01", *db]) == 0
    assert main(["series", "list", *db]) == 0
    assert "kewuhui-ducha@guanliban.calsync\toffset\t+45 min" in capsys.readouterr().out
    assert main(["clashes", "--start", "2026-01-01", "--end", "2026-12-31", "--format", "json",
                 *db]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert main(["series", "delegate", "kewuhui-ducha@guanliban.calsync", "--person", "nobody",
                 "--since", "2026-01-01", *db]) == 2
    assert "--person 'nobody' is not in guanliban's directory" in capsys.readouterr().err


def _edited_policies(tmp_path):  # type: ignore[no-untyped-def]
    import shutil
    from importlib import resources

    root = tmp_path / "policies"
    shutil.copytree(str(resources.files("calsync.policies")), root)
    org = root / "guanliban" / "organization.toml"
    org.write_text(org.read_text(encoding="utf-8").replace(
        "revised = 2026-11-01T09:00:00+08:00", "revised = 2027-01-05T09:00:00+08:00"),
        encoding="utf-8")
    return root
