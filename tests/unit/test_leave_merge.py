"""Leave, merges and meeting requests in the pure core: approvers, what generation publishes,
and that regeneration keeps them (they are inputs, never edits of output)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from calsync.access import Viewer, sees_leave_reason
from calsync.ical.render import render_series
from calsync.meetings.decisions import Decision
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.meetings.leave import Leave, approvers, is_late
from calsync.meetings.merge import merged, rank_of
from calsync.meetings.requests import RequestForm, approver_for, series_uid, validate
from calsync.occurrence import TZ
from tests.support.gen_helpers import shipped

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
MON = dt.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)  # 周例会, a plain Monday


def _occ(gen, series_id: str, nominal: dt.datetime):
    s = next(s for s in gen.series if s.id == series_id)
    return next(o for o in s.occurrences if o.nominal_start == nominal)


def _march(**kw):
    return generate(shipped(), *MARCH, ["guanliban"], Inputs(**kw))


def test_staff_leave_goes_to_the_chair_and_a_unit_head_also_to_the_director() -> None:
    org = shipped().organizations["guanliban"]
    occ = _occ(_march(), "zhoulihui", MON)
    chair = occ.chair.person_id
    assert chair == "wang_fuzhuren"  # 2026-03 duty leader (directory: duty_roster.months)
    assert approvers(org, occ, "sun_keyuan") == (chair, None)
    # 主任 is a unit head: his leave needs the director too (the policy's director is himself
    # here, so only the chair step remains) ...
    assert approvers(org, occ, "zhang_zhuren") == (chair, None)
    # ... and the chair's own leave goes to the director.
    assert approvers(org, occ, chair) == ("zhang_zhuren", None)
    jyj = shipped().organizations["jiaoyuju"]
    req = SimpleNamespace(id=7, organization="jiaoyuju", section_id="jiaoyugu",
                          category="jiceng", title="秋季开学工作布置", audience=("school_1",),
                          start="2026-03-10T09:00:00+08:00", end="2026-03-10T11:00:00+08:00",
                          room=None, important=False)
    gen = generate(shipped(), *MARCH, ["jiaoyuju"], Inputs(requests=(req,)))
    meeting = gen.series[0].occurrences[0]
    vice = meeting.chair.person_id
    assert jyj.people[vice].roles[0] == "副局长"
    assert approvers(jyj, meeting, "school_1") == (vice, "huang_juzhang")


def test_approved_leave_is_declined_or_delegated_with_the_substitute_added() -> None:
    plain = _march(leave=[Leave("zhoulihui@guanliban.calsync", MON, "sun_keyuan")])
    sun = next(a for a in _occ(plain, "zhoulihui", MON).attendees if a.person_id == "sun_keyuan")
    assert sun.partstat == "DECLINED"
    sub = _march(leave=[Leave("zhoulihui@guanliban.calsync", MON, "sun_keyuan", "fu_mishuzhang")])
    occ = _occ(sub, "zhoulihui", MON)
    by_id = {a.person_id: a for a in occ.attendees}
    assert by_id["sun_keyuan"].partstat == "DELEGATED"
    assert by_id["sun_keyuan"].delegated_to == (by_id["fu_mishuzhang"].email,)
    assert by_id["fu_mishuzhang"].delegated_from == (by_id["sun_keyuan"].email,)
    ics = render_series(next(s for s in sub.series if s.id == "zhoulihui"),
                        dt.datetime(2026, 11, 1, tzinfo=TZ)).ics.decode()
    ics = ics.replace("\r\n ", "")   # unfolded: MEMBER= moves where the line folds
    assert "PARTSTAT=DELEGATED" in ics and "DELEGATED-FROM=" in ics
    # only that occurrence: the next Monday is untouched
    nxt = _occ(sub, "zhoulihui", MON + dt.timedelta(days=7))
    assert all(a.partstat == "NEEDS-ACTION" for a in nxt.attendees)


def test_leave_is_late_after_the_start_and_reasons_stay_private() -> None:
    occ = _occ(_march(), "zhoulihui", MON)
    assert not is_late(occ, MON - dt.timedelta(minutes=1)) and is_late(occ, MON)
    def reason_visible(who: str, role: str, person: str, approvers: list) -> bool:
        return sees_leave_reason(Viewer(who, "guanliban", role), "guanliban", person, approvers)
    assert reason_visible("sun_keyuan", "staff", "sun_keyuan", ["wang_fuzhuren"])
    assert reason_visible("wang_fuzhuren", "leader", "sun_keyuan", ["wang_fuzhuren", None])
    assert reason_visible("chen_mishu", "secretary", "sun_keyuan", ["wang_fuzhuren"])
    assert not reason_visible("qian_keyuan", "staff", "sun_keyuan", ["wang_fuzhuren"])


def test_merge_takes_the_higher_chair_both_audiences_and_agendas() -> None:
    org = shipped().organizations["guanliban"]
    gen = _march()
    tue = dt.datetime(2026, 3, 3, 9, 30, tzinfo=TZ)
    a = _occ(gen, "zhoulihui", MON)
    b = _occ(gen, "kewuhui-zonghe-fri", dt.datetime(2026, 3, 6, 9, 0, tzinfo=TZ))
    m = merged(a, b, org, tue)
    assert m.start == tue and m.end - m.start == max(a.end - a.start, b.end - b.start)
    assert m.summary == f"{a.summary}、{b.summary}（合并召开）"
    ranks = {c.person_id: rank_of(org, c.person_id) for c in (a.chair, b.chair)}
    assert m.chair.person_id == min(ranks, key=ranks.get)
    assert {x.email for x in m.attendees} == {x.email for x in (*a.attendees, *b.attendees)}
    assert sum(1 for x in m.attendees if x.role == "CHAIR") == 1
    assert a.summary in m.description and b.summary in m.description


def test_stored_merge_survives_regeneration_and_cancels_the_other() -> None:
    keep_uid, other_uid = "zhoulihui@guanliban.calsync", "kewuhui-zonghe-fri@guanliban.calsync"
    fri = dt.datetime(2026, 3, 6, 9, 0, tzinfo=TZ)
    decisions = [
        Decision(keep_uid, MON, "merge", MON, MON + dt.timedelta(hours=2),
                 other=(other_uid, fri)),
        Decision(other_uid, fri, "cancel", note="已并入周例会"),
    ]
    for _ in range(2):  # the same inputs give the same result every time
        gen = _march(decisions=decisions)
        keep = _occ(gen, "zhoulihui", MON)
        other = _occ(gen, "kewuhui-zonghe-fri", fri)
        assert keep.summary.endswith("（合并召开）") and keep.end == MON + dt.timedelta(hours=2)
        assert other.status == "CANCELLED" and "已并入周例会" in other.full_description()
        assert not gen.stale


def test_request_lead_time_and_approver() -> None:
    org = shipped().organizations["jiaoyuju"]
    now = dt.datetime(2026, 3, 9, 16, 0, tzinfo=TZ)
    form = RequestForm("jiaoyugu", "jiceng", "开学工作", ("school_1",),
                       dt.datetime(2026, 3, 9, 17, 0, tzinfo=TZ),
                       dt.datetime(2026, 3, 9, 18, 0, tzinfo=TZ))
    assert "start" in validate(org, form, now)  # same day: less than 1 day ahead
    ok = RequestForm("jiaoyugu", "jiceng", "开学工作", ("school_1",),
                     dt.datetime(2026, 3, 10, 9, 0, tzinfo=TZ),
                     dt.datetime(2026, 3, 10, 10, 0, tzinfo=TZ))
    assert validate(org, ok, now) == {}
    bad = RequestForm("nope", "dangwei-x", " ", (), form.end, form.start, room="none")
    assert set(validate(org, bad, now)) == {"section_id", "category", "title", "audience",
                                            "end", "room", "start"}
    supervisor = org.sections["jiaoyugu"].supervisor
    assert approver_for(org, "jiaoyugu", False) == supervisor != "huang_juzhang"
    assert approver_for(org, "jiaoyugu", True) == "huang_juzhang"
    assert series_uid(org, 3) == "request-3@jiaoyuju.calsync"


