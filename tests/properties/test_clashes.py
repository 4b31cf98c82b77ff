"""Clash detection and free-slot suggestions: hand-built occurrences, the shipped 2026
policies (facts checked by hand against policies/guanliban/*.toml), the CLI, and a property
against a brute-force all-pairs reference."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.app.service import policy_clashes
from calsync.meetings.clashes import (
    Busy,
    busy_from_ics,
    due_attendees,
    find_clashes,
    is_active,
    overlaps,
)
from calsync.meetings.slots import suggest_slots
from calsync.occurrence import TZ, Attendee, Occurrence
from tests.support.gen_helpers import shipped, year_2026

CAL = shipped().calendar
ORG = "guanliban"
SHARES = {ORG: 0.8, "jiaoyuju": 0.8}


def at(day: str, hm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=TZ)


def person(key: str, role: str = "REQ-PARTICIPANT", partstat: str = "NEEDS-ACTION",
           **kw: object) -> Attendee:
    return Attendee(name=key.upper(), email=f"{key}@x.example.org", role=role,
                    partstat=partstat, person_id=key, **kw)


def meeting(series: str, day: str, hm: str, minutes: int = 60, *, people: str = "",
            location: str = "", nominal: dt.datetime | None = None, org: str = ORG,
            attendees: tuple[Attendee, ...] = (), **kw: object) -> Occurrence:
    start = at(day, hm)
    people_t = attendees or tuple(person(p) for p in people.split())
    return Occurrence(series=series, uid=f"{series}@{org}.calsync", organization=org,
                      kind=kw.pop("kind", "meeting"), meeting_types=(series,), summary=series,
                      start=start, end=start + dt.timedelta(minutes=minutes),
                      nominal_start=nominal or start, location=location, attendees=people_t,
                      **kw)


def clashes(*occs: Occurrence, busy: tuple[Busy, ...] = (), **kw: object):
    return find_clashes(occs, busy, calendar=CAL, merge_share=kw.pop("shares", SHARES), **kw)


def kinds(found) -> Counter:
    return Counter(c.kind for c in found)


# --- persons and rooms -------------------------------------------------------------------

def test_person_double_booked() -> None:
    a = meeting("a", "2026-03-03", "09:00", 60, people="zhang li")
    b = meeting("b", "2026-03-03", "09:30", 60, people="Zhang wang")
    (c,) = clashes(a, b, shares={ORG: 1.0})   # 1 of 2 shared: no audience clash at 100 %
    assert c.kind == "person"
    assert c.subject == "zhang@x.example.org" and c.subject_name == "ZHANG"
    assert [i.series_uid for i in c.items] == [a.uid, b.uid]
    assert (c.start, c.end) == (at("2026-03-03", "09:30"), at("2026-03-03", "10:00"))
    assert c.items[0].recurrence_id == "2026-03-03T09:00:00+08:00"
    assert c.suggestion == "ZHANG同时需参加两个会议，建议调整其中一个或请假"


def test_back_to_back_is_no_clash() -> None:
    a = meeting("a", "2026-03-03", "09:00", 60, people="zhang")
    b = meeting("b", "2026-03-03", "10:00", 60, people="zhang")
    assert kinds(clashes(a, b, shares={ORG: 1.01})) == Counter()


def test_substitute_counts_and_absentees_do_not() -> None:
    a = meeting("a", "2026-03-03", "09:00", attendees=(
        person("zhang", partstat="DELEGATED", delegated_to=("li@x.example.org",)),
        person("li", delegated_from=("zhang@x.example.org",)),
        person("wang", partstat="DECLINED"),
        person("zhao", role="OPT-PARTICIPANT"),
        person("sun", role="NON-PARTICIPANT")))
    b = meeting("b", "2026-03-03", "09:30", people="zhang li wang zhao sun")
    found = clashes(a, b, shares={ORG: 1.01})
    assert sorted(c.subject_name for c in found if c.kind == "person") == ["LI", "SUN"]
    assert set(due_attendees(a)) == {"li@x.example.org", "sun@x.example.org"}


def test_room_clash_needs_the_same_location() -> None:
    a = meeting("a", "2026-03-03", "09:00", people="zhang", location="第一会议室")
    b = meeting("b", "2026-03-03", "09:30", people="li", location="第一会议室")
    c = meeting("c", "2026-03-03", "09:30", people="wang", location="大会议室")
    d = meeting("d", "2026-03-03", "09:30", people="zhao")
    (room,) = clashes(a, b, c, d)
    assert (room.kind, room.subject, room.subject_name) == ("room", "第一会议室", "第一会议室")
    assert room.suggestion == "会场冲突，建议更换会场或调整时间"


def test_cancelled_deadlines_and_free_time_are_ignored() -> None:
    base = meeting("a", "2026-03-03", "09:00", people="zhang", location="R")
    for other in (
        meeting("b", "2026-03-03", "09:00", people="zhang", location="R", status="CANCELLED"),
        meeting("b", "2026-03-03", "09:00", people="zhang", location="R", kind="deadline"),
        meeting("b", "2026-03-03", "09:00", people="zhang", location="R", transparent=True),
    ):
        assert clashes(base, other) == []
    assert kinds(clashes(base, meeting("b", "2026-03-03", "09:00", people="zhang",
                                       location="R"))) == {"person": 1, "room": 1, "audience": 1}


def test_foreign_busy_clashes_for_named_people_only() -> None:
    a = meeting("a", "2026-03-03", "09:00", people="zhang li")
    mine = Busy("f1", "市委常委会", at("2026-03-03", "08:30"), at("2026-03-03", "09:30"),
                frozenset({"ZHANG@x.example.org"}), source="https://dav/city/")
    nobody = Busy("f2", "无人", at("2026-03-03", "09:00"), at("2026-03-03", "10:00"),
                  frozenset())
    # overlaps ``mine`` only: two foreign events are not ours to report
    twin = dataclasses.replace(mine, uid="f3", start=at("2026-03-03", "08:00"),
                               end=at("2026-03-03", "09:00"))
    (c,) = clashes(a, busy=(mine, nobody, twin))
    assert c.subject == "zhang@x.example.org"
    assert [(i.series_uid, i.foreign_uid) for i in c.items] == [(None, "f1"), (a.uid, None)]
    assert c.suggestion == "ZHANG同时有外部安排「市委常委会」，建议调整会议时间或请假"


def test_busy_from_ics_expands_and_filters() -> None:
    ics = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//city//x//\r
BEGIN:VEVENT\r
UID:weekly@city\r
DTSTAMP:20260101T000000Z\r
DTSTART;TZID=Asia/Shanghai:20260302T090000\r
DTEND;TZID=Asia/Shanghai:20260302T100000\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:市长办公会\r
ORGANIZER:mailto:Boss@city.example.org\r
ATTENDEE;PARTSTAT=ACCEPTED:mailto:zhang@x.example.org\r
ATTENDEE;PARTSTAT=DECLINED:mailto:li@x.example.org\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:off@city\r
DTSTAMP:20260101T000000Z\r
DTSTART;TZID=Asia/Shanghai:20260303T090000\r
DTEND;TZID=Asia/Shanghai:20260303T100000\r
STATUS:CANCELLED\r
SUMMARY:取消\r
END:VEVENT\r
END:VCALENDAR\r
""".encode()
    busy = busy_from_ics([ics], dt.date(2026, 3, 1), dt.date(2026, 3, 12), source="u")
    assert [b.start for b in busy] == [at("2026-03-02", "09:00"), at("2026-03-09", "09:00")]
    assert busy[0].emails == {"boss@city.example.org", "zhang@x.example.org"}
    assert (busy[0].uid, busy[0].summary, busy[0].source) == ("weekly@city", "市长办公会", "u")


# --- same audience, non-working days -----------------------------------------------------

def test_audience_share_at_exactly_the_boundary() -> None:
    a = meeting("a", "2026-03-03", "09:00", people="p1 p2 p3 p4 p5")
    b = meeting("b", "2026-03-03", "10:30", people="p1 p2 p3 p4 q1 q2")   # 4 / min(5, 6)
    (c,) = clashes(a, b)
    assert (c.kind, c.share, c.subject) == ("audience", 0.8, "")
    assert c.suggestion == "参会人员重合80%，按篇二第二条第3款建议合并"
    assert (c.start, c.end) == (a.start, b.end)
    assert clashes(a, b, shares={ORG: 0.81}) == []
    assert clashes(a, b, shares={}, default_share=0.8) == [c]
    other_org = dataclasses.replace(b, organization="jiaoyuju")
    assert clashes(a, other_org) == []
    same_series = dataclasses.replace(b, uid=a.uid, series=a.series)
    assert clashes(a, same_series) == []


def test_audience_half_day_boundary() -> None:
    a = meeting("a", "2026-03-03", "11:00", 30, people="p1 p2")
    assert kinds(clashes(a, meeting("b", "2026-03-03", "11:59", people="p1 p2"))) == {
        "audience": 1}
    assert clashes(a, meeting("b", "2026-03-03", "12:00", people="p1 p2")) == []
    assert clashes(a, meeting("b", "2026-03-04", "11:00", people="p1 p2")) == []


def test_move_onto_a_non_working_day() -> None:
    nominal = at("2026-03-06", "09:00")
    saturday = meeting("a", "2026-03-07", "09:00", people="p1", nominal=nominal)
    (c,) = clashes(saturday)
    assert (c.kind, c.subject, c.subject_name) == ("non-working-day", "2026-03-07", "周六")
    assert c.suggestion == "调整后的时间为非工作日，请复核" and len(c.items) == 1
    labour_day = meeting("a", "2026-05-04", "09:00", people="p1", nominal=nominal)
    assert clashes(labour_day)[0].subject_name == "劳动节"
    makeup = meeting("a", "2026-05-09", "09:00", people="p1", nominal=nominal)   # 调休 Saturday
    assert clashes(makeup) == []
    assert clashes(meeting("a", "2026-03-07", "09:00", people="p1")) == []   # not moved


# --- identity ----------------------------------------------------------------------------

def _busy_day() -> list[Occurrence]:
    return [meeting("a", "2026-03-03", "09:00", 90, people="p1 p2 p3", location="R"),
            meeting("b", "2026-03-03", "09:30", 60, people="p1 p2 p3 p4", location="R"),
            meeting("c", "2026-03-03", "10:00", 60, people="p2 p5"),
            meeting("d", "2026-03-07", "10:00", 60, people="p5",
                    nominal=at("2026-03-06", "10:00"))]


def test_ids_are_stable_when_input_order_changes() -> None:
    first = clashes(*_busy_day())
    assert kinds(first) == {"person": 5, "room": 1, "audience": 1, "non-working-day": 1}
    rng = random.Random(4)
    for _ in range(5):
        shuffled = _busy_day()
        rng.shuffle(shuffled)
        assert clashes(*shuffled) == first
    assert len({c.id for c in first}) == len(first)
    assert [c.start for c in first] == sorted(c.start for c in first)


def test_fingerprint_follows_the_inputs_and_id_does_not() -> None:
    occs = _busy_day()
    before = {c.id: c.fingerprint for c in clashes(*occs)}
    moved_b = dataclasses.replace(occs[1], start=at("2026-03-03", "09:45"),
                                  end=at("2026-03-03", "10:45"))
    after = {c.id: c.fingerprint for c in clashes(occs[0], moved_b, *occs[2:])}
    assert after.keys() == before.keys()
    changed = {k for k in before if before[k] != after[k]}
    assert changed and all(before[k] == after[k] for k in before.keys() - changed)
    accepted = dataclasses.replace(occs[2], attendees=tuple(
        dataclasses.replace(a, partstat="ACCEPTED") for a in occs[2].attendees))
    again = {c.id: c.fingerprint for c in clashes(*occs[:2], accepted, occs[3])}
    assert again != before and again.keys() == before.keys()


# --- the shipped 2026 policies -----------------------------------------------------------

WANG = "wang.lixin@glb.example.org"        # 分管 综合业务科 and 督查考评科 (directory.toml)
KEWU = {"kewuhui-zonghe-mon", "kewuhui-ducha-mon", "kewuhui-zonghe-fri", "kewuhui-ducha-fri"}


def test_shipped_2026_clashes() -> None:
    found = policy_clashes(shipped(), year_2026().occurrences())
    # No room, no non-working day; no same-audience either: that rule (篇二 二.3) is for
    # meetings held on demand, and 篇一 chains 科务会 after 周例会 on purpose.
    assert kinds(found) == {"person": 101}
    series = [tuple(sorted(i.series_uid.split("@")[0] for i in c.items)) for c in found]
    # 王立新 supervises two sections: their 科务会 run side by side every Monday (after 周例会,
    # 51 weeks) and every Friday 09:00 (50 weeks); 张建国 and 李红梅 supervise one each.
    kewu = [c for c, s in zip(found, series, strict=True) if set(s) <= KEWU]
    assert len(kewu) == 101 and {c.subject for c in kewu} == {WANG}
    days = {c.start for c in kewu}
    assert {at("2026-01-05", "10:30"), at("2026-01-09", "09:00"), at("2026-03-02", "10:30"),
            at("2026-12-25", "09:00")} <= days
    # Holiday Mondays move 周例会 and the Monday 科务会 with it: 02-23 → Tue 02-24 (春节),
    # 04-06 → Tue 04-07 (清明), 05-04 → Wed 05-06 (劳动节).
    assert {at("2026-02-24", "10:30"), at("2026-04-07", "10:30"),
            at("2026-05-06", "10:30")} <= days
    # Issue 10: holiday moves no longer land on the organization's own meetings. 主任办公会 of
    # 02-18 (春节) used to go to Tue 02-24 onto the moved 周例会 and 科务会 (12 clashes), and
    # the Friday 科务会 of 10-02 back onto the 09-30 主任办公会 (6): none is left.
    zb = [c for c in found if any(i.summary == "主任办公会" for i in c.items)]
    assert zb == [] and len(kewu) == len(found)
    # Without the on-demand restriction the fixed Monday pairs would all be flagged:
    # each Monday 科务会 is a subset of 周例会's all-staff audience (4 sections × 51 weeks),
    # = 204; 主任办公会 no longer meets 周例会 on 02-24 (issue 10).
    aud = [c for c in clashes(*year_2026().occurrences()) if c.kind == "audience"]
    assert len(aud) == 204 and all(c.share == 1.0 for c in aud)


def test_a_requested_meeting_with_the_same_audience_gets_a_merge_suggestion() -> None:
    jyj = shipped().organizations["jiaoyuju"]
    staff = tuple(person(p.id) for p in jyj.staff)
    fixed = meeting("ganbu", "2026-03-10", "08:30", 60, org="jiaoyuju", attendees=staff)
    asked = replace(meeting("request-1", "2026-03-10", "10:00", 60, org="jiaoyuju",
                            attendees=staff[:-2]), meeting_types=("jiceng",))
    found = policy_clashes(shipped(), [replace(fixed, meeting_types=("quanxian",)), asked])
    (c,) = found
    assert c.kind == "audience" and c.share == 1.0 and "合并" in c.suggestion
    both_fixed = [replace(fixed, meeting_types=("ganbu",)),
                  replace(asked, meeting_types=("ganbu",), series="x", uid="x@j")]
    # 全局干部职工会 is on demand too; a type with a schedule would not be looked at
    assert len(policy_clashes(shipped(), both_fixed)) == 1


# --- free slots --------------------------------------------------------------------------

def test_slots_skip_weekends_holidays_and_lunch() -> None:
    occ = meeting("a", "2026-04-03", "16:30", 60, people="p1")   # Friday before 清明
    slots = suggest_slots(occ, [occ], (), calendar=CAL, count=3)
    # 04-04..06 are 清明 holidays; Tuesday 04-07 from 08:30.
    assert slots == [(at("2026-04-07", "08:30"), at("2026-04-07", "09:30")),
                     (at("2026-04-07", "09:00"), at("2026-04-07", "10:00")),
                     (at("2026-04-07", "09:30"), at("2026-04-07", "10:30"))]
    lunch = suggest_slots(occ, [], (), calendar=CAL, count=2,
                          after=at("2026-04-07", "11:00"))
    assert lunch == [(at("2026-04-07", "11:00"), at("2026-04-07", "12:00")),
                     (at("2026-04-07", "14:00"), at("2026-04-07", "15:00"))]


def test_slots_avoid_busy_people_and_rooms() -> None:
    occ = meeting("a", "2026-03-03", "09:00", 60, people="p1 p2", location="R")
    others = [meeting("b", "2026-03-03", "09:00", 120, people="p2"),
              meeting("c", "2026-03-03", "11:00", 30, people="q", location="R"),
              meeting("d", "2026-03-03", "14:00", 60, people="p1", status="CANCELLED")]
    foreign = Busy("f", "外事", at("2026-03-03", "14:00"), at("2026-03-03", "15:00"),
                   frozenset({"P1@x.example.org"}))
    slots = suggest_slots(occ, [occ, *others], [foreign], calendar=CAL, count=2)
    assert slots == [(at("2026-03-03", "15:00"), at("2026-03-03", "16:00")),
                     (at("2026-03-03", "15:30"), at("2026-03-03", "16:30"))]
    free_room = suggest_slots(occ, [occ, *others], [], calendar=CAL, rooms_busy=False,
                              count=1)
    assert free_room == [(at("2026-03-03", "11:00"), at("2026-03-03", "12:00"))]


# --- CLI ---------------------------------------------------------------------------------


# --- property: sweep line == all pairs ---------------------------------------------------

EMAILS = ("a", "b", "c", "d")
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")
STATS = ("NEEDS-ACTION", "ACCEPTED", "DECLINED", "DELEGATED")


@st.composite
def occurrence_sets(draw) -> list[Occurrence]:
    out = []
    for i in range(draw(st.integers(0, 12))):
        start = at("2026-03-03", "08:00") + dt.timedelta(minutes=15 * draw(st.integers(0, 40)))
        length = dt.timedelta(minutes=15 * draw(st.integers(0, 8)))
        people = tuple(person(e, draw(st.sampled_from(ROLES)), draw(st.sampled_from(STATS)))
                       for e in draw(st.lists(st.sampled_from(EMAILS), unique=True)))
        out.append(Occurrence(
            series=f"s{i}", uid=f"s{i}@t", organization=ORG, kind=draw(
                st.sampled_from(("meeting", "meeting", "deadline"))), meeting_types=(),
            summary=f"s{i}", start=start, end=start + length, nominal_start=start,
            location=draw(st.sampled_from(("", "R1", "R2"))), attendees=people,
            status=draw(st.sampled_from(("CONFIRMED", "CONFIRMED", "CANCELLED")))))
    return out


def brute_force(occs: list[Occurrence]) -> set[tuple[str, frozenset[str], str]]:
    live = [o for o in occs if is_active(o)]
    out = set()
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if not overlaps(a.start, a.end, b.start, b.end):
                continue
            keys = frozenset(f"{o.uid}#{o.nominal_start.isoformat()}" for o in (a, b))
            for email in due_attendees(a).keys() & due_attendees(b).keys():
                out.add(("person", keys, email))
            if a.location and a.location == b.location:
                out.add(("room", keys, a.location))
    return out


@settings(max_examples=300, deadline=None, database=None)
@given(occurrence_sets())
def test_sweep_line_equals_all_pairs(occs: list[Occurrence]) -> None:
    found = [c for c in clashes(*occs) if c.kind in ("person", "room")]
    got = [(c.kind, frozenset(i.key for i in c.items), c.subject) for c in found]
    assert len(got) == len(set(got))
    assert set(got) == brute_force(occs)
