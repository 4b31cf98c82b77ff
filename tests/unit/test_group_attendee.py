"""A whole audience is one CUTYPE=GROUP ATTENDEE; every person still gets their meetings.

The occurrence model keeps everybody (feeds, notices, leave and access read it); only the
rendered bytes say "管理办全体人员" once instead of listing the staff, with ``MEMBER=`` on the
members whose state differs (chair, leave, substitute, 列席).
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import icalendar
import pytest

from calsync.access import OPERATOR, for_viewer
from calsync.ical.feeds import render_feed, viewer_for
from calsync.ical.render import render_series
from calsync.meetings.accounts import role_for
from calsync.meetings.generate import generate
from calsync.meetings.people import attendees, attendees_and_audience, resolve
from calsync.notices import imip
from calsync.notices.plan import REQUEST, plan
from calsync.policy import PolicySet, load_policies
from calsync.policy.model import Selector
from tests.support.gen_helpers import series_by_id, shipped, year_2026

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from synthetic_directory import synthetic_policies

STAMP = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
ALL = "urn:calsync:group:guanliban:all-staff"


def events(ics: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))


def unfold(ics: bytes) -> bytes:
    return ics.replace(b"\r\n ", b"")


def attendee_lines(ev: icalendar.Event) -> list[icalendar.vCalAddress]:
    found = ev.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return load_policies(synthetic_policies(tmp_path_factory.mktemp("synth") / "p", 300))


def test_all_staff_is_one_group_line_and_the_chair_a_member() -> None:
    org = shipped().organizations["guanliban"]
    weekly = series_by_id(year_2026(), "zhoulihui")
    ics = render_series(weekly, STAMP).ics
    for ev in events(ics):
        lines = attendee_lines(ev)
        groups = [a for a in lines if a.params.get("CUTYPE") == "GROUP"]
        assert [(str(g), g.params["CN"]) for g in groups] == [(ALL, "管理办全体人员")]
        alone = [a for a in lines if a.params.get("CUTYPE") != "GROUP"]
        assert [a.params["ROLE"] for a in alone] == ["CHAIR"]
        assert alone[0].params["MEMBER"] == ALL
    plain = [p for p in org.staff if p.id not in org.roster.rotation]
    assert plain and not any(p.email.encode() in unfold(ics) for p in plain)


def test_no_group_line_when_a_member_is_not_invited() -> None:
    weekly = series_by_id(year_2026(), "zhoulihui")
    occ = weekly.occurrences[0]
    fewer = replace(occ, attendees=occ.attendees[:-1])
    one = replace(weekly, rule=None, nominal=(occ.nominal_start,), occurrences=(fewer,))
    ics = render_series(one, STAMP).ics
    lines = attendee_lines(events(ics)[0])
    assert not any(a.params.get("CUTYPE") == "GROUP" for a in lines)
    assert len(lines) == len(fewer.attendees)


def test_each_person_still_sees_the_all_staff_meeting_in_their_feed() -> None:
    """Feeds filter on the occurrence model, not on the ATTENDEE lines (which name the group)."""
    policies = shipped()
    gen = year_2026()
    org = policies.organizations["guanliban"]
    stamps = {s.uid: org.revised for s in gen.series}
    weekly = series_by_id(gen, "zhoulihui")
    for person in org.staff:
        viewer = viewer_for(policies, person.id, org.id, role_for(org, person))
        assert viewer is not None
        data = render_feed(policies, gen, viewer, "me", stamps)
        cal = icalendar.Calendar.from_ical(data)
        uids = {str(e["UID"]) for e in cal.walk("VEVENT")}
        # every week of it: all of its duty leaders' parts
        assert {o.published_uid for o in weekly.occurrences} <= uids, person.id
        assert ALL.encode() in unfold(data)


def test_a_confidential_group_meeting_leaks_nothing_in_a_busy_block() -> None:
    weekly = series_by_id(year_2026(), "zhoulihui")
    secret = replace(weekly, occurrences=tuple(replace(o, klass="CONFIDENTIAL")
                                               for o in weekly.occurrences))
    shown = for_viewer(OPERATOR, [secret])
    assert shown and all(s.uid.startswith("busy-") for s in shown)
    for s in shown:
        assert all(o.audience == () and o.attendees == () for o in s.occurrences)
        ics = unfold(render_series(s, STAMP).ics)
        for word in (b"ATTENDEE", b"urn:calsync", "全体人员".encode(), b"MEMBER",
                     "周例会".encode()):
            assert word not in ics
        # the chair neither: the week's duty leader must not name the block's UID
        uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")}
        assert uids == {s.uid}
        for leader in {o.part for o in weekly.occurrences}:
            assert leader.encode() not in ics


def test_imip_invitations_name_every_invitee_not_the_group() -> None:
    weekly = series_by_id(year_2026(), "zhoulihui")
    notices = [n for n in plan([weekly], {}, dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
                               ["guanliban"]) if n.method == REQUEST]
    invitees = {a.email.lower() for o in weekly.occurrences for a in o.attendees}
    assert {n.recipient for n in notices} == invitees
    org = shipped().organizations["guanliban"]
    data = imip.calendar(notices[0], (org.name, "mishuke@glb.example.org"), STAMP)
    assert b"CUTYPE=GROUP" not in data and b"urn:calsync" not in data
    for ev in events(data):
        named = {str(a).removeprefix("mailto:").lower() for a in attendee_lines(ev)}
        assert named >= {a.email.lower() for a in notices[0].view.occurrences[0].attendees}


def test_bytes_do_not_grow_with_the_staff(synth: PolicySet) -> None:
    small = {s.id: len(render_series(s, STAMP).ics) for s in year_2026().series}
    big = generate(synth, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert len(synth.organizations["guanliban"].staff) >= 300
    for s in big.series:
        size = len(render_series(s, STAMP).ics)
        # Only names (a chair, a recorder) differ, never the list of 300.
        assert size <= small[s.id] * 1.1 + 2048, (s.id, size, small[s.id])


def test_two_years_cost_the_sum_of_each_year() -> None:
    """A year without a holiday table does not turn the other year into overrides: the master
    keeps the common, non-provisional form; provisional occurrences alone differ."""
    def size(start: dt.date, end: dt.date) -> dict[str, int]:
        gen = generate(shipped(), start, end, ["guanliban"])
        return {s.id: len(render_series(s, STAMP).ics) for s in gen.series if s.rule}

    one = size(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    other = size(dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    both_gen = generate(shipped(), dt.date(2026, 1, 1), dt.date(2027, 12, 31), ["guanliban"])
    for s in both_gen.series:
        if s.rule is None:
            continue
        ics = render_series(s, STAMP).ics
        master = next(e for e in events(ics) if e.get("RRULE"))
        assert master.get("X-CALSYNC-PROVISIONAL") is None, s.id
        # One master for both years may pick another duty leader than either year's own:
        # an override or two more, never the other year's every occurrence.
        assert len(ics) <= (one[s.id] + other[s.id]) * 1.03, s.id


def test_directory_index_resolves_as_a_scan(synth: PolicySet) -> None:
    for org in synth.organizations.values():
        for section in org.sections.values():
            scan = [p for p in org.staff if p.section == section.id]
            assert resolve(org, Selector("section_members"), section) == scan
            assert resolve(org, Selector("section", section.id)) == scan
        for role in {r for p in org.people.values() for r in p.roles}:
            assert resolve(org, Selector("role", role)) == \
                [p for p in org.people.values() if role in p.roles]
        for group in {g for p in org.people.values() for g in p.groups}:
            assert resolve(org, Selector("group", group)) == \
                [p for p in org.people.values() if group in p.groups]


def test_attendees_are_resolved_once_per_duty_month() -> None:
    org = shipped().organizations["guanliban"]
    mt = org.meeting_types["zhoulihui"]
    jan5 = attendees(org, mt.chairs, mt.attendees, None, dt.date(2026, 1, 5))
    jan26 = attendees(org, mt.chairs, mt.attendees, None, dt.date(2026, 1, 26))
    feb2 = attendees(org, mt.chairs, mt.attendees, None, dt.date(2026, 2, 2))
    assert jan5 is jan26          # the same duty leader: the same tuple, shared
    assert jan5[0].role == "CHAIR" and jan5[0].person_id == org.roster.leader_for(
        dt.date(2026, 1, 5))
    assert feb2[0].person_id == org.roster.leader_for(dt.date(2026, 2, 2))
    people, audience = attendees_and_audience(org, mt.chairs, mt.attendees, None,
                                              dt.date(2026, 1, 5))
    assert people is jan5
    assert [g.address for g in audience] == [ALL]
    assert audience[0].members == frozenset(p.id for p in org.staff)
