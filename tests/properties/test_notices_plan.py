"""The notice planner (pure): one invitation per series and attendee, updates with a higher
SEQUENCE, cancellations, substitutes, and nothing for what is past or already told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from calsync.meetings.decisions import Decision
from calsync.meetings.generate import Generation, generate
from calsync.meetings.inputs import Inputs
from calsync.meetings.leave import Leave
from calsync.notices.imip import calendar, text
from calsync.notices.plan import CANCEL, REQUEST, Notice, Sent, plan, rid
from calsync.occurrence import TZ
from tests.support.gen_helpers import shipped

NOW = dt.datetime(2026, 3, 1, 8, tzinfo=TZ)
ORGS = ["guanliban", "jiaoyuju"]
ZRB = "zhurenbangong@guanliban.calsync"          # 主任办公会, every other Wednesday
MAR4 = dt.datetime(2026, 3, 4, 9, tzinfo=TZ)


def gen(decisions: Iterable[Decision] = (), leave: Iterable[Leave] = ()) -> Generation:
    return generate(shipped(), dt.date(2026, 1, 1), dt.date(2027, 12, 31), ORGS,
                    Inputs(decisions=tuple(decisions), leave=tuple(leave)))


def told(notices: Iterable[Notice], before: dict | None = None) -> dict[tuple[str, str], Sent]:
    """What the store would say after queuing ``notices``."""
    out = dict(before or {})
    for n in notices:
        out[n.key] = Sent(n.organization, n.uid, n.recipient, n.sequence, n.method, n.state,
                          n.summary, n.confidential)
    return out


def test_one_invitation_per_series_and_attendee_not_per_occurrence() -> None:
    g = gen()
    notices = plan(g.series, {}, NOW, ORGS)
    pairs = [(o.uid, a.email.lower()) for o in g.occurrences()
             if o.kind == "meeting" and o.status != "CANCELLED" and o.end > NOW
             for a in o.attendees if a.email]
    assert {n.key for n in notices} == set(pairs)
    assert len(notices) == len(set(pairs)) < len(pairs) / 10
    assert all(n.method == REQUEST and n.kind == "invite" and n.sequence == 0 for n in notices)
    assert not any(n.uid.startswith("deadline-") for n in notices)
    weekly = [n for n in notices if n.uid == "zhoulihui@guanliban.calsync"]
    # 周例会 invites all staff; one message carries the whole series (master + overrides)
    assert len(weekly) == len([p for p in shipped().organizations["guanliban"].staff if p.email])
    assert all(n.view is not None and len(n.view.occurrences) > 50 for n in weekly)


def test_nothing_to_send_once_told() -> None:
    g = gen()
    first = plan(g.series, {}, NOW, ORGS)
    assert plan(g.series, told(first), NOW, ORGS) == []
    assert plan(gen().series, told(first), NOW + dt.timedelta(days=30), ORGS) == []


def test_a_move_updates_that_series_only_with_a_higher_sequence() -> None:
    sent = told(plan(gen().series, {}, NOW, ORGS))
    moved = Decision(ZRB, MAR4, "move", MAR4 + dt.timedelta(days=1),
                     MAR4 + dt.timedelta(days=1, hours=2))
    notices = plan(gen([moved]).series, sent, NOW, ORGS)
    invited = {k[1] for k in sent if k[0] == ZRB}
    assert {n.uid for n in notices} == {ZRB}
    assert {n.recipient for n in notices} == invited
    assert all(n.method == REQUEST and n.kind == "update" and n.sequence == 1 for n in notices)
    # the next change goes one higher, and a second plan sends nothing more
    sent = told(notices, sent)
    assert plan(gen([moved]).series, sent, NOW, ORGS) == []
    cancel = Decision(ZRB, MAR4 + dt.timedelta(weeks=2), "cancel")
    again = plan(gen([moved, cancel]).series, sent, NOW, ORGS)
    assert {(n.method, n.sequence) for n in again} == {(CANCEL, 2)}
    assert all(n.cancelled == (rid_of(MAR4 + dt.timedelta(weeks=2)),) for n in again)


def rid_of(at: dt.datetime) -> str:
    return at.astimezone(TZ).isoformat()


def test_a_cancelled_occurrence_is_a_cancel_of_that_occurrence() -> None:
    sent = told(plan(gen().series, {}, NOW, ORGS))
    notices = plan(gen([Decision(ZRB, MAR4, "cancel")]).series, sent, NOW, ORGS)
    assert notices and {n.uid for n in notices} == {ZRB}
    assert all(n.method == CANCEL and n.cancelled == (rid_of(MAR4),) and n.sequence == 1
               for n in notices)
    assert all(rid_of(MAR4) not in n.state and n.state for n in notices)


def test_a_series_that_disappears_is_cancelled_whole() -> None:
    g = gen()
    sent = told(plan(g.series, {}, NOW, ORGS))
    rest = [s for s in g.series if s.uid != ZRB]
    notices = plan(rest, sent, NOW, ORGS)
    assert {n.key for n in notices} == {k for k in sent if k[0] == ZRB}
    assert all(n.method == CANCEL and not n.cancelled and n.first_start and n.state == {}
               and n.summary == "主任办公会" for n in notices)
    # told: nothing more, even much later
    assert plan(rest, told(notices, sent), NOW, ORGS) == []


def test_a_substitute_gets_their_own_request_for_that_occurrence() -> None:
    sent = told(plan(gen().series, {}, NOW, ORGS))
    org = shipped().organizations["guanliban"]
    absent = next(p for p in org.people.values() if "副主任" in p.roles)
    substitute = next(p for p in org.staff if p.section == "zonghe" and p.id != absent.id
                      and (ZRB, p.email.lower()) not in sent)
    leave = Leave(ZRB, MAR4, absent.id, substitute.id)
    notices = plan(gen(leave=[leave]).series, sent, NOW, ORGS)
    mine = [n for n in notices if n.recipient == substitute.email.lower()]
    assert len(mine) == 1 and mine[0].method == REQUEST and mine[0].kind == "invite"
    assert mine[0].view is not None
    assert [rid(o) for o in mine[0].view.occurrences] == [rid_of(MAR4)]
    assert mine[0].sequence == 1        # above every version already sent for the UID
    # rendered, their calendar holds that one meeting (the rest of the series are EXDATEs)
    ics = calendar(mine[0], ("秘书科", "mishuke@glb.example.org"), NOW).decode()
    starts = [e.dtstart for e in IcsCalendarStream.calendar_from_ics(ics).timeline_tz(TZ)]
    assert starts == [MAR4]
    theirs = [n for n in notices if n.recipient == absent.email.lower()]
    assert [n.kind for n in theirs] == ["update"]      # now shown as DELEGATED


def test_changes_to_past_occurrences_send_nothing() -> None:
    sent = told(plan(gen().series, {}, NOW, ORGS))
    past = Decision(ZRB, dt.datetime(2026, 2, 4, 9, tzinfo=TZ), "cancel")
    assert plan(gen([past]).series, sent, NOW, ORGS) == []


def test_confidential_meetings_reach_only_their_invitees(tmp_path) -> None:
    from calsync.policy import load_policies
    from tests.support.webapp import confidential_policies

    policies = load_policies(confidential_policies(tmp_path))
    g = generate(policies, dt.date(2026, 1, 1), dt.date(2027, 12, 31), ORGS)
    invitees = {a.email.lower() for o in g.occurrences() if o.uid == ZRB for a in o.attendees}
    notices = plan(g.series, {}, NOW, ORGS)
    secret = [n for n in notices if n.confidential]
    assert {n.recipient for n in secret} == invitees and {n.uid for n in secret} == {ZRB}
    for n in notices:
        assert n.view is not None
        assert all(o.uid == n.uid for o in n.view.occurrences)   # only their own series


ZRB_DATES = [dt.datetime(2026, 3, 4, 9, tzinfo=TZ) + dt.timedelta(weeks=2 * i)
             for i in range(10)]


@settings(max_examples=12, deadline=None)
@given(first=st.sets(st.sampled_from(ZRB_DATES)), second=st.sets(st.sampled_from(ZRB_DATES)))
def test_planning_converges_and_sequence_only_grows(first: set, second: set) -> None:
    """Whatever is cancelled (and un-cancelled), after each round a replan is empty, every
    notice of a round shares one SEQUENCE per UID, and it is above the previous one."""
    sent = told(plan(gen().series, {}, NOW, ORGS))
    top = 0
    for chosen in (first, second):
        series = gen([Decision(ZRB, d, "cancel") for d in sorted(chosen)]).series
        notices = plan(series, sent, NOW, ORGS)
        seqs = {n.sequence for n in notices}
        assert len(seqs) <= 1 and all(s > top for s in seqs)
        top = max(seqs, default=top)
        sent = told(notices, sent)
        assert plan(series, sent, NOW, ORGS) == []


def test_cancel_texts_say_whether_a_series_or_one_meeting_is_cancelled() -> None:
    single = "xitong-2026@guanliban.calsync"        # 系统工作会议, one event in June
    g = gen()
    sent = told(plan(g.series, {}, NOW, ORGS))
    notices = plan([s for s in g.series if s.uid not in (ZRB, single)], sent, NOW, ORGS)
    organizer = ("秘书科", "mishuke@glb.example.org")
    series_text = text(next(n for n in notices if n.uid == ZRB), organizer, NOW)
    single_text = text(next(n for n in notices if n.uid == single), organizer, NOW)
    assert "以下会议（全部场次）已取消：\n会议名称：主任办公会\n" in series_text
    assert "以下会议已取消：\n会议名称：系统工作会议\n原定时间：2026年6月25日（星期四） 09:00" \
        in single_text


def test_a_cancel_names_where_the_recipient_last_saw_the_meeting() -> None:
    """A moved meeting, then cancelled: DTSTART (and the text) say the moved time, the
    RECURRENCE-ID the nominal one."""
    organizer = ("秘书科", "mishuke@glb.example.org")
    moved_to = MAR4 + dt.timedelta(days=1, hours=5)
    moved = Decision(ZRB, MAR4, "move", moved_to, moved_to + dt.timedelta(hours=2))
    sent = told(plan(gen().series, {}, NOW, ORGS))
    sent = told(plan(gen([moved]).series, sent, NOW, ORGS), sent)
    notices = plan(gen([Decision(ZRB, MAR4, "cancel")]).series, sent, NOW, ORGS)
    assert notices and all(n.method == CANCEL for n in notices)
    cal = icalendar.Calendar.from_ical(calendar(notices[0], organizer, NOW))
    [ev] = cal.walk("VEVENT")
    assert ev["RECURRENCE-ID"].dt == MAR4 and ev["DTSTART"].dt == moved_to
    assert "取消：2026年3月5日（星期四） 14:00" in text(notices[0], organizer, NOW)
