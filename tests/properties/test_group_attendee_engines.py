"""Leave and a substitute are written as their own ATTENDEE lines beside the all-staff group,
and the independent `ical` engine reads the same group and members."""

from __future__ import annotations

import datetime as dt

from ical.calendar_stream import IcsCalendarStream

from calsync.ical.render import render_series
from calsync.meetings.generate import generate
from calsync.meetings.inputs import Inputs
from calsync.meetings.leave import Leave
from tests.support.gen_helpers import series_by_id, shipped, year_2026
from tests.unit.test_group_attendee import ALL, STAMP, attendee_lines, events


def test_leave_and_substitute_are_written_alone_with_member() -> None:
    weekly = series_by_id(year_2026(), "zhoulihui")
    occ = weekly.occurrences[10]
    leave = [Leave(occ.uid, occ.nominal_start, "qian_keyuan"),
             Leave(occ.uid, occ.nominal_start, "he_keyuan", substitute_id="lin_keyuan")]
    gen = generate(shipped(), dt.date(2026, 1, 1), dt.date(2026, 12, 31), None,
                   Inputs(leave=tuple(leave)))
    ics = render_series(series_by_id(gen, "zhoulihui"), STAMP).ics
    ev = next(e for e in events(ics)
              if e.get("RECURRENCE-ID") and e["RECURRENCE-ID"].dt == occ.nominal_start)
    people = shipped().organizations["guanliban"].people
    alone = {str(a).removeprefix("mailto:"): a for a in attendee_lines(ev)
             if a.params.get("CUTYPE") != "GROUP"}
    assert alone[people["qian_keyuan"].email].params["PARTSTAT"] == "DECLINED"
    assert alone[people["he_keyuan"].email].params["PARTSTAT"] == "DELEGATED"
    assert people["lin_keyuan"].email in str(alone[people["lin_keyuan"].email]
                                             .params["DELEGATED-FROM"]) or \
        people["he_keyuan"].email in str(alone[people["lin_keyuan"].email]
                                         .params["DELEGATED-FROM"])
    for email in (people["qian_keyuan"].email, people["he_keyuan"].email,
                  people["lin_keyuan"].email):
        assert alone[email].params["MEMBER"] == ALL
    assert sum(a.params.get("CUTYPE") == "GROUP" for a in attendee_lines(ev)) == 1
    # The third engine reads the same: a group and its members.
    cal = IcsCalendarStream.calendar_from_ics(ics.decode())
    parsed = next(e for e in cal.events if e.recurrence_id)
    assert any(a.user_type == "GROUP" and a.uri == ALL for a in parsed.attendees)
