"""The shape of the generated iCalendar: one resource per series, RFC 5545 details."""

from __future__ import annotations

import dataclasses
import datetime as dt

import icalendar

from calsync.ical.render import render_resources, render_series
from calsync.meetings.decisions import Decision
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.occurrence import TZ
from calsync.policy import PolicySet
from calsync.policy.model import Schedule
from tests.support.gen_helpers import series_by_id, shipped, year_2026


def _cal(series_id: str, gen=None) -> icalendar.Calendar:
    gen = gen or year_2026()
    s = series_by_id(gen, series_id)
    return icalendar.Calendar.from_ical(render_series(s, dt.datetime(2026, 11, 1, tzinfo=TZ)).ics)


def test_compact_vtimezone_and_no_calendar_uid() -> None:
    cal = _cal("zhoulihui")
    assert "UID" not in cal
    zones = cal.walk("VTIMEZONE")
    assert len(zones) == 1 and zones[0]["TZID"] == "Asia/Shanghai"
    blocks = zones[0].subcomponents
    assert [b.name for b in blocks] == ["STANDARD"]  # no 1986–91 DAYLIGHT history
    assert blocks[0]["TZOFFSETTO"].td == dt.timedelta(hours=8)
    assert "METHOD" not in cal


def _resources(series_id: str, gen=None) -> dict[str, icalendar.Calendar]:
    gen = gen or year_2026()
    made = render_resources(series_by_id(gen, series_id), dt.datetime(2026, 11, 1, tzinfo=TZ))
    return {r.name: icalendar.Calendar.from_ical(r.ics) for r in made}


def test_one_resource_master_exdate_and_overrides_share_uid_and_tzid() -> None:
    # 周例会 is one resource per duty leader; each is a whole recurring object of its own.
    moved = {}
    exdates = []
    for name, cal in _resources("zhoulihui").items():
        events = cal.walk("VEVENT")
        uids = {str(e["UID"]) for e in events}
        assert uids == {f"{name}@guanliban.calsync"}
        master = [e for e in events if "RECURRENCE-ID" not in e]
        assert len(master) == 1
        rrule = master[0]["RRULE"]
        assert rrule["FREQ"] == ["WEEKLY"] and rrule["BYDAY"] == ["MO"]
        ex = master[0].get("EXDATE", [])
        exdates += [d.dt for x in (ex if isinstance(ex, list) else [ex]) for d in x.dts]
        for e in events:
            for prop in ("DTSTART", "DTEND", "RECURRENCE-ID"):
                if prop in e:
                    assert e[prop].params["TZID"] == "Asia/Shanghai"
        moved |= {
            e["RECURRENCE-ID"].dt: e["DTSTART"].dt
            for e in events
            if "RECURRENCE-ID" in e and e["DTSTART"].dt != e["RECURRENCE-ID"].dt
        }
    assert dt.datetime(2026, 2, 16, 9, 30, tzinfo=TZ) in exdates   # 春节
    assert moved[dt.datetime(2026, 5, 4, 9, 30, tzinfo=TZ)] == dt.datetime(
        2026, 5, 6, 9, 30, tzinfo=TZ
    )


def test_the_duty_leaders_weeks_are_one_resource_each_without_overrides_for_the_chair() -> None:
    """篇一 三.1: 当月值班领导 chairs. One series with a rotating chair made nearly every week an
    override (67.7 KB for 2026, every override repeating the description); one resource per
    leader keeps overrides for what really differs (holiday moves) and the bytes small."""
    gen = year_2026()
    weekly = series_by_id(gen, "zhoulihui")
    made = render_resources(weekly, dt.datetime(2026, 11, 1, tzinfo=TZ))
    org = shipped().organizations["guanliban"]
    leaders = {org.roster.leader_for(o.nominal_start.date()) for o in weekly.occurrences}
    assert {r.name for r in made} == {f"zhoulihui--{pid}" for pid in leaders}
    assert len(made) == 4
    overrides = 0
    for r in made:
        cal = icalendar.Calendar.from_ical(r.ics)
        master = next(e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e)
        chair = [a for a in master["ATTENDEE"] if a.params["ROLE"] == "CHAIR"]
        person = org.people[r.name.split("--")[1]]
        assert [str(a) for a in chair] == [f"mailto:{person.email}"]
        assert f"主持：{person.name}" in str(master["DESCRIPTION"])
        for e in cal.walk("VEVENT"):
            if "RECURRENCE-ID" in e:   # moved by a holiday, or provisional (2027's notice)
                overrides += 1
                assert (e["DTSTART"].dt != e["RECURRENCE-ID"].dt
                        or e.get("X-CALSYNC-PROVISIONAL") == "TRUE"), "an override for nothing"
    assert overrides == sum(1 for o in weekly.occurrences if o.moved or o.provisional)
    assert sum(len(r.ics) for r in made) <= 30 * 1024
    # Everything else keeps its one resource, named and identified as the series.
    for s in gen.series:
        if s.id != "zhoulihui":
            assert [(r.name, r.uid) for r in render_resources(s, dt.datetime(2026, 11, 1))] \
                == [(s.id, s.uid)]


def test_alarm_description_roles_organizer() -> None:
    master = next(e for e in _cal("zhurenbangong").walk("VEVENT") if "RECURRENCE-ID" not in e)
    alarm = master.walk("VALARM")[0]
    assert alarm["TRIGGER"].dt == -dt.timedelta(minutes=10)
    desc = str(master["DESCRIPTION"])
    assert "（9）需要提交主任办公会议讨论的其他重要事项" in desc
    assert "手机必须关机或保持振动、静音状态" in desc and "篇一 二" in desc
    roles = {a.params["CN"]: a.params["ROLE"] for a in master["ATTENDEE"]}
    assert roles["张建国"] == "CHAIR" and roles["周晓燕"] == "NON-PARTICIPANT"
    assert str(master["ORGANIZER"]) == "mailto:mishuke@glb.example.org"
    assert master["ORGANIZER"].params["CN"] == "秘书科"
    assert master["CLASS"] == "PUBLIC"
    assert master["X-CALSYNC-ORG"] == "guanliban"


def test_party_meeting_is_confidential_when_scheduled() -> None:
    ps = shipped()
    org = ps.organizations["guanliban"]
    dangzu = dataclasses.replace(
        org.meeting_types["dangzu"],
        on_demand=False,
        schedules=(
            Schedule(
                id="monthly",
                kind="weekly",
                weekday=3,
                interval=4,
                anchor=dt.date(2026, 1, 8),
                time=dt.time(15, 0),
            ),
        ),
    )
    org = dataclasses.replace(org, meeting_types={**org.meeting_types, "dangzu": dangzu})
    gen = generate(
        PolicySet(ps.root, {"guanliban": org}, ps.calendar),
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
    )
    events = _cal("dangzu", gen).walk("VEVENT")
    assert events and all(e["CLASS"] == "CONFIDENTIAL" for e in events)
    assert "高度保密" in str(events[0]["DESCRIPTION"])


def test_deadline_alarm_relative_to_end_and_transparent() -> None:
    master = next(e for e in _cal("deadline-zhoubao").walk("VEVENT") if "RECURRENCE-ID" not in e)
    assert master["TRANSP"] == "TRANSPARENT"
    assert master["DTEND"].dt.time() == dt.time(15, 0)
    trigger = master.walk("VALARM")[0]["TRIGGER"]
    assert trigger.params["RELATED"] == "END"


def test_decisions_become_overrides_and_cancelled_status() -> None:
    uid = "zhoulihui@guanliban.calsync"
    rid_move = dt.datetime(2026, 3, 9, 9, 30, tzinfo=TZ)
    rid_cancel = dt.datetime(2026, 3, 16, 9, 30, tzinfo=TZ)
    new = dt.datetime(2026, 3, 10, 14, 0, tzinfo=TZ)
    gen = generate(
        shipped(),
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
        inputs=Inputs(decisions=(
            Decision(uid, rid_move, "move", new_start=new, note="值班领导调整"),
            Decision(uid, rid_cancel, "cancel"),
        )),
    )
    events = {
        e["RECURRENCE-ID"].dt: e
        for e in _cal("zhoulihui", gen).walk("VEVENT")
        if "RECURRENCE-ID" in e
    }
    assert events[rid_move]["DTSTART"].dt == new
    assert events[rid_cancel]["STATUS"] == "CANCELLED"
    assert not events[rid_cancel].walk("VALARM")
    # The 科务会 after a moved 周例会 moves with it.
    mon = series_by_id(gen, "kewuhui-mishuke-mon").occurrences
    assert any(o.start == new + dt.timedelta(hours=1) for o in mon)


def test_stale_decision_is_reported_not_dropped() -> None:
    uid = "zhoulihui@guanliban.calsync"
    tuesday = dt.datetime(2026, 3, 10, 9, 30, tzinfo=TZ)  # no occurrence has this nominal start
    gen = generate(
        shipped(),
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
        inputs=Inputs(decisions=(Decision(uid, tuesday, "cancel"),)),
    )
    assert [d.recurrence_id for d in gen.stale] == [tuesday]
    assert any("stale decision" in w for w in gen.warnings)


def test_generate_is_deterministic_and_uids_stable(tmp_path) -> None:
    from calsync.cli import main

    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["generate", "--start", "2026-01-01", "--end", "2026-12-31", "--out", str(a)]) == 0
    assert main(["generate", "--start", "2026-01-01", "--end", "2026-12-31", "--out", str(b)]) == 0
    files = sorted(p.relative_to(a) for p in a.rglob("*.ics"))
    assert len(files) > 10
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    # UIDs do not depend on the range.
    other = generate(shipped(), dt.date(2026, 6, 1), dt.date(2027, 6, 30))
    uids_2026 = {s.id: s.uid for s in year_2026().series}
    for s in other.series:
        if s.id in uids_2026:
            assert s.uid == uids_2026[s.id]
    # DTSTAMP comes from the policy, never the clock.
    cal = icalendar.Calendar.from_ical(
        (a / "guanliban" / "zhoulihui--zhang_zhuren.ics").read_bytes())
    assert {e["DTSTAMP"].dt for e in cal.walk("VEVENT")} == {
        dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    }


def test_generate_counts_the_resources_it_writes(tmp_path, capsys) -> None:
    from calsync.cli import main

    assert main(["generate", "--start", "2026-01-01", "--end", "2026-12-31", "--org",
                 "guanliban", "--out", str(tmp_path)]) == 0
    files = list((tmp_path / "guanliban").glob("*.ics"))
    assert len([f for f in files if f.name.startswith("zhoulihui--")]) == 4
    assert f"guanliban: {len(files)} resources," in capsys.readouterr().out


def test_stale_files_are_removed_on_regenerate(tmp_path) -> None:
    from calsync.cli import main

    assert (
        main(["generate", "--start", "2026-01-01", "--end", "2026-12-31", "--out", str(tmp_path)])
        == 0
    )
    assert (tmp_path / "guanliban" / "xitong-2026.ics").exists()
    assert (
        main(["generate", "--start", "2026-01-01", "--end", "2026-03-31", "--out", str(tmp_path)])
        == 0
    )
    assert not (tmp_path / "guanliban" / "xitong-2026.ics").exists()
    assert (tmp_path / "guanliban" / "zongjie-2026.ics").exists()
