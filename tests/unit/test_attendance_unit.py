"""Attendance arithmetic (pure): the sign-in window and late marks, every invited person in
exactly one status on a hand-made fixture (present + late + leave + absent = invited),
substitutes, names for code sign-in, attendance.toml errors naming file and key, and the
CSV/XLSX exports read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from calsync.errors import PolicyError
from calsync.meetings import attendance as att
from calsync.meetings import attendance_export as export
from calsync.meetings import attendance_policy as policy
from calsync.meetings.attendance_report import MonthReport, OccurrenceReport
from calsync.occurrence import TZ, Attendee, Occurrence
from calsync.policy import load_policies, shipped_policies

START = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)


def _occ(attendees: tuple[Attendee, ...], uid: str = "m@x", klass: str = "PUBLIC") -> Occurrence:
    return Occurrence("m", uid, "guanliban", "meeting", ("zhurenbangong",), "主任办公会",
                      START, START + dt.timedelta(hours=2), START, klass=klass,
                      attendees=attendees)


# A hand-made meeting of 7: chair, 4 participants, one 列席, one external; one absentee
# sends a substitute (added by calsync.meetings.leave.apply_leave as 代…参会).
PEOPLE = (
    Attendee("张建国", "zhang@x", "CHAIR", person_id="zhang"),
    Attendee("王立新", "wang@x", person_id="wang"),
    Attendee("李红梅", "li@x", person_id="li", partstat="DELEGATED", delegated_to=("sun@x",)),
    Attendee("赵志强", "zhao@x", person_id="zhao"),
    Attendee("冯涛", "feng@x", person_id="feng"),
    Attendee("周晓燕", "zhou@x", "NON-PARTICIPANT", person_id="zhou", note="列席，负责记录"),
    Attendee("第一中学校长", "school1@x", person_id=None),
    Attendee("孙磊", "sun@x", person_id="sun", note="代李红梅参会", delegated_from=("li@x",)),
)


def test_window_opens_before_marks_late_after_grace_and_closes_after_end() -> None:
    occ = _occ(PEOPLE)
    w = att.window(occ, 30, 5, 10)
    assert w.state(START - dt.timedelta(minutes=31)) == "early"
    assert w.state(START - dt.timedelta(minutes=30)) == "open"
    assert w.state(occ.end + dt.timedelta(minutes=10)) == "open"
    assert w.state(occ.end + dt.timedelta(minutes=11)) == "closed"
    assert w.status_at(START + dt.timedelta(minutes=5)) == att.PRESENT
    assert w.status_at(START + dt.timedelta(minutes=5, seconds=1)) == att.LATE
    assert att.window(occ, 30, 0, 0).status_at(START + dt.timedelta(seconds=1)) == att.LATE


def test_hand_made_fixture_counts_every_invited_person_once() -> None:
    occ = _occ(PEOPLE)
    marks = [
        att.MarkIn("zhang", "present", "self", START - dt.timedelta(minutes=10)),
        att.MarkIn("wang", "late", "self", START + dt.timedelta(minutes=7)),
        att.MarkIn("zhou", "present", "hand"),
        att.MarkIn("feng", "absent", "hand"),          # a keeper's correction: not there
        att.MarkIn("mailto:school1@x", "present", "code", START),
        att.MarkIn("sun", "present", "code", START),   # the substitute came
    ]
    leaves = [att.LeaveIn("li", "公出", "sun"), att.LeaveIn("zhao", "病假")]
    rows = att.rows(occ, marks, leaves, {"sun": "孙磊"})
    assert [r.name for r in rows] == ["张建国", "王立新", "李红梅", "赵志强", "冯涛", "周晓燕",
                                      "第一中学校长"]          # the substitute is not invited
    assert {r.name: r.status for r in rows} == {
        "张建国": "present", "王立新": "late", "李红梅": "leave", "赵志强": "leave",
        "冯涛": "absent", "周晓燕": "present", "第一中学校长": "present"}
    li = next(r for r in rows if r.name == "李红梅")
    assert (li.leave_category, li.substitute, li.substitute_signed) == ("公出", "孙磊", True)
    counts = att.tally(rows)
    assert counts == att.Attendance(invited=7, present=3, late=1, leave=2, absent=1)
    assert counts.present + counts.late + counts.leave + counts.absent == counts.invited
    assert counts.rate == pytest.approx(4 / 7)
    assert counts + counts == att.Attendance(14, 6, 2, 4, 2)
    assert att.Attendance(0, 0, 0, 0, 0).rate == 0.0


def test_a_sign_in_wins_over_leave_and_no_data_is_absent() -> None:
    occ = _occ(PEOPLE[:2])
    rows = att.rows(occ, [att.MarkIn("wang", "present", "self", START)],
                    [att.LeaveIn("wang", "事假")])
    assert [(r.name, r.status) for r in rows] == [("张建国", "absent"), ("王立新", "present")]


def test_names_for_code_sign_in() -> None:
    occ = _occ((*PEOPLE, Attendee("王立新", "wang2@x", person_id="wang2")))
    assert [a.person_id for a in att.match_name(occ, " 李 红梅 ")] == ["li"]
    assert len(att.match_name(occ, "王立新")) == 2               # ambiguous: a keeper decides
    assert att.match_name(occ, "路人甲") == [] and att.match_name(occ, "  ") == []
    assert att.person_key(PEOPLE[6]) == "mailto:school1@x"


def test_shipped_policy_names_keepers_and_the_director() -> None:
    policies = load_policies()
    org = policies.organizations["jiaoyuju"]
    ganbu = Occurrence("g", "g@x", "jiaoyuju", "meeting", ("ganbu",), "全局干部职工会", START,
                       START, START)
    juwu = Occurrence("j", "j@x", "jiaoyuju", "meeting", ("juwu",), "局务会", START, START,
                      START)
    assert policy.keepers(policies, ganbu) == {"deng_zhuren", "xie_keyuan"}   # 教育督导室
    assert policy.keepers(policies, juwu) == {"liu_zhuren", "pan_keyuan"}     # 办公室
    assert policy.report_to(policies, ganbu) == {"huang_juzhang"}             # 局长
    assert org.people["huang_juzhang"].roles[0] == "局长"
    assert policy.monthly_report_to(policies, "guanliban") == {"zhang_zhuren"}


def _copy(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "p"
    shutil.copytree(shipped_policies(), root, ignore=shutil.ignore_patterns("*.py"))
    (root / "jiaoyuju" / "attendance.toml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("text", "key", "says"), [
    ('[attendance]\nkeeper = "section:dudao"\n', "attendance.keeper", "no section 'dudao'"),
    ('[attendance]\nkeeper = "everyone"\n', "attendance.keeper", "does not name who"),
    ('[attendance]\nreport_to = "section:ducha"\n', "attendance.report_to",
     "does not name who"),
    ('[attendance]\nlate_after_minutes = -5\n', "attendance.late_after_minutes",
     "whole number from 0 to 120"),
    ('[attendance]\nkeper = "organizer"\n', "attendance.keper", "not a known key"),
    ('[attendance.meeting_types.ganbuu]\nkeeper = "organizer"\n',
     "attendance.meeting_types.ganbuu", "no meeting type 'ganbuu'"),
    ('[attendance.meeting_types.ganbu]\nkeeper = "person:nobody"\n',
     "attendance.meeting_types.ganbu.keeper", "no person 'nobody'"),
])
def test_bad_values_name_the_file_and_the_key(tmp_path: Path, text: str, key: str,
                                              says: str) -> None:
    with pytest.raises(PolicyError) as err:   # calsync.policy.load checks attendance.toml
        load_policies(_copy(tmp_path, text))
    (problem,) = err.value.problems
    assert problem.file == "jiaoyuju/attendance.toml" and problem.key == key
    assert says in problem.message and problem.fix


def _report() -> OccurrenceReport:
    occ = _occ(PEOPLE)
    rows = tuple(att.rows(occ, [att.MarkIn("wang", "late", "self", START
                                           + dt.timedelta(minutes=7))],
                          [att.LeaveIn("li", "公出", "sun")], {"sun": "孙磊"}))
    return OccurrenceReport(occ, START.isoformat(), rows, att.tally(rows),
                            att.window(occ, 30, 0, 0), True)


def test_exports_read_back_with_openpyxl_and_csv() -> None:
    one = _report()
    busy = OccurrenceReport(_occ((), uid="c@x", klass="CONFIDENTIAL"), START.isoformat(), (),
                            att.NONE, one.window, True, masked=True)
    month = MonthReport("guanliban", 2026, 3, (one, busy), totals=one.counts)
    wb = load_workbook(io.BytesIO(export.to_xlsx(month)))
    summary = [[c.value for c in r] for r in wb["汇总"].iter_rows()]
    assert summary[0] == list(export.SUMMARY_HEAD)
    assert summary[1] == ["主任办公会", "2026-03-04 09:00–11:00", 7, 0, 1, 1, 5,
                          pytest.approx(1 / 7, abs=0.005)]
    assert summary[2] == ["忙碌", "2026-03-04 09:00–11:00"] + [None] * 6   # masked
    assert summary[3][:3] == ["合计", "2026年3月", 7]
    detail = [[c.value for c in r] for r in wb["明细"].iter_rows(min_row=2)]
    assert len(detail) == 7 and all(d[0] == "主任办公会" for d in detail)
    li = next(d for d in detail if d[2] == "李红梅")
    assert li[4:] == ["请假", None, None, "公出", "孙磊"]
    wang = next(d for d in detail if d[2] == "王立新")
    assert wang[4:7] == ["迟到", "09:07", "本人签到"]
    lines = list(csv.reader(io.StringIO(export.to_csv(month).decode("utf-8-sig"))))
    assert wb["汇总"]["H2"].number_format == "0%"
    assert lines[1] == [*summary[1][:2], "7", "0", "1", "1", "5", "14%"]
    assert lines[2][0] == "忙碌" and all(v == "" for v in lines[2][2:])
    body = export.text(month, "管理办")
    assert "应到7人，出席0人，迟到1人，请假1人，缺席5人" in body
    assert "迟到：王立新（09:07）" in body and "李红梅（公出，代会：孙磊）" in body
    assert "忙碌" in body and body.count("主任办公会") == 1


def test_a_broken_attendance_toml_stops_the_web_start(tmp_path: Path) -> None:
    from calsync.web import create_app

    root = _copy(tmp_path, '[attendance.meeting_types.ganbu]\nkeeper = "section:dudao"\n')
    with pytest.raises(PolicyError) as err:
        create_app({"CALSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    "CALSYNC_INSTANCE": str(tmp_path / "inst"), "CALSYNC_POLICIES": str(root)})
    assert str(err.value) == (
        "jiaoyuju/attendance.toml: attendance.meeting_types.ganbu.keeper: there is no section "
        "'dudao' (use one of bangongshi, ducha, jiaoyugu, renshigu)")


def test_access_rules_for_sign_in_and_reports() -> None:
    from calsync import access

    secret = _occ(PEOPLE, klass="CONFIDENTIAL")
    wang = access.Viewer("wang", "guanliban", "leader", "王立新", "wang@x")
    feng = access.Viewer("feng_k", "guanliban", "staff", "冯涛", "fk@x", "ducha")
    other = access.Viewer("wang", "jiaoyuju", "leader", "王立新", "")
    secretary = access.Viewer("chen", "guanliban", "secretary", "陈静", "chen@x", "mishuke")
    school = access.Viewer("school1", "guanliban", access.EXTERNAL, "校长", "school1@x")
    assert access.may_sign_in(wang, secret) and not access.may_sign_in(feng, secret)
    assert not access.may_sign_in(other, secret) and not access.may_sign_in(school, secret)
    assert not access.may_sign_in(secretary, secret)        # not named: sees, does not sign
    # a keeper the policy names still keeps nothing they may not see
    assert not access.may_keep_attendance(feng, secret, {"feng_k"})
    assert access.may_keep_attendance(feng, _occ(PEOPLE), {"feng_k"})
    assert not access.may_keep_attendance(other, secret, {"wang"})
    assert access.may_read_attendance(secretary, secret, ())
    assert not access.may_read_attendance(feng, secret, {"feng_k"})
    assert access.may_read_monthly_attendance(feng, "guanliban", {"feng_k"})
    assert not access.may_read_monthly_attendance(feng, "jiaoyuju", {"feng_k"})
    assert not access.may_read_monthly_attendance(wang, "guanliban", {"feng_k"})
