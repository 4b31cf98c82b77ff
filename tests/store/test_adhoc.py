"""Ad-hoc meetings and 列席 additions (issue 11, item 1): the store (SQLite and PostgreSQL),
generation, the published ICS and the iMIP plan — real store, shipped policies."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calsync.app.service import build, generation
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings import adhoc
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.notices.plan import plan
from calsync.occurrence import TZ
from calsync.policy import PolicySet
from calsync.store import Store
from tests.support.gen_helpers import shipped

ZRB = "zhurenbangong@guanliban.calsync"
RID = dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ)
START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)


def _xitong(store: Store, **kw: object):
    """An extra 系统工作会议 (篇一 五.2 "可临时增加") on 2026-03-05."""
    args = {"meeting_type": "xitong", "start": "2026-03-05T14:30:00+08:00",
            "end": "2026-03-05T17:30:00+08:00", "actor": "zhou_mishukezhang",
            "title": "专题研究窗口服务", "extra": ["qian_keyuan"], **kw}
    return store.adhoc.add_adhoc("guanliban", **args)


def _occ(store: Store, uid: str, day: dt.date = dt.date(2026, 3, 5)):
    g = generation(shipped(), store, START, END, ["guanliban"])
    return next(o for o in g.occurrences() if o.uid == uid and o.start.date() == day)


def test_store_records_audits_and_locks(store: Store) -> None:
    row = _xitong(store)
    assert row.version == 1 and row.status == "active" and row.extra == ("qian_keyuan",)
    assert [e.action for e in store.audit.audit_log(target=f"adhoc:{row.id}")] == ["adhoc.create"]
    with pytest.raises(ConcurrentChange):
        store.adhoc.withdraw_adhoc(row.id, expected_version=0, actor="chen_mishu")
    done = store.adhoc.withdraw_adhoc(row.id, expected_version=1, actor="chen_mishu")
    assert done.version == 2 and done.status == "withdrawn"
    with pytest.raises(ConcurrentChange):   # a second secretary who saw version 1
        store.adhoc.withdraw_adhoc(row.id, expected_version=1, actor="sun_keyuan")
    with pytest.raises(StoreError):
        store.adhoc.add_adhoc("guanliban", meeting_type="xitong", start="2026-03-05T17:00:00+08:00",
                              end="2026-03-05T09:00:00+08:00", actor="x")
    si = store.adhoc.add_sitting_in("guanliban", ZRB, dt.datetime(2026, 3, 4, 9, 0, tzinfo=TZ),
                                    "feng_kezhang",
                                    actor="zhang_zhuren")
    assert si.recurrence_id == RID       # one spelling per occurrence
    with pytest.raises(StoreError):
        store.adhoc.add_sitting_in("guanliban", ZRB, RID, "feng_kezhang", actor="zhang_zhuren")
    with pytest.raises(ConcurrentChange):
        store.adhoc.withdraw_sitting_in(si.id, expected_version=2, actor="zhang_zhuren")
    store.adhoc.withdraw_sitting_in(si.id, expected_version=1, actor="zhang_zhuren")
    assert store.adhoc.sitting_in("guanliban", ZRB, RID) == []
    actions = [e.action for e in store.audit.audit_log(target=f"decision:{ZRB}@{RID.isoformat()}")]
    assert actions == ["sitting-in.withdraw", "sitting-in.add"]


def test_adhoc_meeting_carries_the_types_standard_people_and_survives_regeneration(
        store: Store) -> None:
    row = _xitong(store)
    uid = adhoc.series_uid(shipped().organizations["guanliban"], row.id)
    assert uid == f"adhoc-{row.id}@guanliban.calsync"
    occ = _occ(store, uid)
    assert occ.summary == "专题研究窗口服务（系统工作会议）"
    assert occ.chair is not None and occ.chair.person_id == "zhang_zhuren"
    roles = {a.person_id: (a.role, a.note) for a in occ.attendees}
    assert roles["county_a_director"][0] == "REQ-PARTICIPANT"          # the type's attendees
    assert roles["feng_kezhang"] == ("NON-PARTICIPANT", "列席")        # section chiefs 列席
    assert roles["qian_keyuan"][0] == "REQ-PARTICIPANT"                # the extra one
    assert occ.location == "大会议室" and occ.klass == "PUBLIC" and occ.status == "CONFIRMED"
    assert occ.alarm_minutes and "篇一 五" in occ.description
    # Regeneration (another range, another call) yields the same event.
    assert _occ(store, uid) == occ
    # The ICS as published: one VEVENT with that UID.
    built = build(shipped(), store, START, END, ["guanliban"])
    [res] = [r for r in built.resources if r.uid == uid]
    [ev] = [c for c in icalendar.Calendar.from_ical(res.ics).walk("VEVENT")]
    assert str(ev["SUMMARY"]) == occ.summary and "RRULE" not in ev
    # Withdrawn: still published, as CANCELLED (calendars and notices drop it).
    store.adhoc.withdraw_adhoc(row.id, expected_version=1, actor="chen_mishu")
    assert _occ(store, uid).status == "CANCELLED"


def test_decisions_apply_to_an_adhoc_meeting(store: Store) -> None:
    row = _xitong(store)
    uid = f"adhoc-{row.id}@guanliban.calsync"
    store.decisions.add_decision("guanliban", uid,
                                 dt.datetime(2026, 3, 5, 14, 30, tzinfo=TZ), "move",
                                 actor="chen_mishu", source="web",
                                 new_start=dt.datetime(2026, 3, 6, 14, 30, tzinfo=TZ))
    moved = _occ(store, uid, dt.date(2026, 3, 6))
    assert moved.start == dt.datetime(2026, 3, 6, 14, 30, tzinfo=TZ)


def test_sitting_in_is_a_non_participant_in_ics_and_gets_a_notice(store: Store) -> None:
    store.adhoc.add_sitting_in("guanliban", ZRB, RID, "feng_kezhang", actor="zhang_zhuren")
    store.adhoc.add_sitting_in("guanliban", ZRB, RID, "county_a_director",
                               actor="zhou_mishukezhang")
    occ = _occ(store, ZRB, dt.date(2026, 3, 4))
    extra = [a for a in occ.attendees if a.person_id in ("feng_kezhang", "county_a_director")]
    assert [(a.role, a.note) for a in extra] == [("NON-PARTICIPANT", "列席")] * 2
    other = _occ(store, ZRB, dt.date(2026, 3, 18))           # only that occurrence
    assert "feng_kezhang" not in {a.person_id for a in other.attendees}
    built = build(shipped(), store, dt.date(2026, 1, 1), END, ["guanliban"])
    [res] = [r for r in built.resources if r.uid == ZRB]
    override = next(ev for ev in icalendar.Calendar.from_ical(res.ics).walk("VEVENT")
                    if ev.get("RECURRENCE-ID") is not None
                    and ev["RECURRENCE-ID"].dt == dt.datetime(2026, 3, 4, 9, tzinfo=TZ))
    feng = [a for a in override.get("ATTENDEE", []) if "feng" in str(a)]
    assert feng and feng[0].params["ROLE"] == "NON-PARTICIPANT"
    # iMIP: the 列席 people are told, like any attendee.
    inputs = generation(shipped(), store, dt.date(2026, 1, 1), dt.date(2027, 12, 31),
                        ["guanliban"])
    keys = {n.key for n in plan(inputs.series, {}, NOW, ["guanliban"])}
    assert (ZRB, "director@county-a.example.org") in keys


def test_adhoc_survives_a_policy_edit_and_a_dropped_type_is_skipped(store: Store) -> None:
    row = _xitong(store, meeting_type="dangzu", title="", extra=[])
    uid = f"adhoc-{row.id}@guanliban.calsync"
    policies = shipped()
    org = policies.organizations["guanliban"]
    renamed = {**org.meeting_types,
               "dangzu": replace(org.meeting_types["dangzu"], name="党组会")}

    def with_types(types: dict) -> PolicySet:
        return replace(policies, organizations={**policies.organizations,
                                                "guanliban": replace(org, meeting_types=types)})

    rows = store.adhoc.adhoc_meetings("guanliban")
    g = generate(with_types(renamed), START, END, ["guanliban"], Inputs(adhoc=tuple(rows)))
    [occ] = [o for o in g.occurrences() if o.uid == uid]
    assert occ.summary == "党组会（临时召开）" and occ.klass == "CONFIDENTIAL"
    dropped = {k: v for k, v in org.meeting_types.items() if k != "dangzu"}
    g = generate(with_types(dropped), START, END, ["guanliban"], Inputs(adhoc=tuple(rows)))
    assert not any(s.uid == uid for s in g.series)


PEOPLE = sorted(shipped().organizations["guanliban"].people)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(PEOPLE), max_size=8))
def test_sitting_in_names_each_person_once_and_keeps_everyone_else(ids: list[str]) -> None:
    org = shipped().organizations["guanliban"]
    occ = next(o for o in generate(shipped(), START, END, ["guanliban"]).occurrences()
               if o.uid == ZRB)
    out = adhoc.with_sitting_in(occ, ids, org)
    assert out.attendees[:len(occ.attendees)] == occ.attendees
    named = [a.person_id for a in out.attendees]
    assert len(named) == len(set(named))
    assert set(ids) <= set(named)
    assert all(a.role == "NON-PARTICIPANT" and a.note == "列席"
               for a in out.attendees[len(occ.attendees):])
    assert adhoc.with_sitting_in(out, ids, org) == out


def test_validate_refuses_what_the_policy_does_not_have() -> None:
    org = shipped().organizations["guanliban"]
    at = dt.datetime(2026, 3, 5, 9, tzinfo=TZ)
    bad = adhoc.AdhocForm("nope", at, at, "x" * 200, "nowhere", "attic", ("ghost",))
    errors = adhoc.validate(org, bad)
    assert set(errors) == {"meeting_type", "section_id", "title", "extra", "end", "room"}
    per_section = adhoc.AdhocForm("kewuhui", at, at + dt.timedelta(hours=1))
    assert "section_id" in adhoc.validate(org, per_section)
    ok = adhoc.AdhocForm("kewuhui", at, at + dt.timedelta(hours=1), section_id="zonghe")
    assert adhoc.validate(org, ok) == {}


def test_who_may_choose_sitting_in_and_what_an_external_viewer_sees() -> None:
    """篇一 二.1 "列席人员由会议主持人确定": the chair (owner) or the organization's
    secretary; an external attendee never acts and sees only what names them."""
    from calsync import access

    policies = shipped()
    org = policies.organizations["guanliban"]
    chair = access.viewer_of(policies, "zhang_zhuren")
    other = access.viewer_of(policies, "wang_fuzhuren")
    secretary = access.viewer_of(policies, "zhou_mishukezhang")
    foreign = access.viewer_of(policies, "pan_keyuan")
    assert access.may_act(chair, "guanliban", access.SIT_IN, owner="zhang_zhuren")
    assert not access.may_act(other, "guanliban", access.SIT_IN, owner="zhang_zhuren")
    assert not access.may_act(other, "guanliban", access.SIT_IN, owner=None)
    assert access.may_act(secretary, "guanliban", access.SIT_IN, owner="zhang_zhuren")
    assert not access.may_act(foreign, "guanliban", access.SIT_IN, owner="zhang_zhuren")
    assert not access.may_act(chair, "guanliban", "adhoc")
    external = access.external_viewer("guanliban", org.people["county_a_director"])
    assert not access.may_act(external, "guanliban", "sit-in", owner="county_a_director")
    assert not access.may_act(external, "guanliban", "leave", owner="county_a_director")
    occs = generate(policies, START, END, ["guanliban"]).occurrences()
    zrb = next(o for o in occs if o.uid == ZRB)
    assert access.visibility(external, zrb) == access.NONE
    assert access.visibility(external, adhoc.with_sitting_in(
        zrb, ["county_a_director"], org)) == access.FULL
