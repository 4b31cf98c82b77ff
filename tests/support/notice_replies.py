"""Who answers a 会议通知 and the iTIP REPLY they send (RFC 5546), for the notice tests."""

from __future__ import annotations

import datetime as dt

import icalendar

from calsync.ical.render import new_calendar

SECRETARY = "zhou_mishukezhang"
STAFF = "qian_keyuan"
ZRB = "zhurenbangong@guanliban.calsync"
CHAIR = "zhang.jianguo@glb.example.org"


def reply_ics(uid: str, attendee: str, partstat: str, recurrence_id: dt.datetime | None = None
              ) -> bytes:
    cal = new_calendar()
    cal.add("METHOD", "REPLY")
    ev = icalendar.Event()
    ev.add("UID", uid)
    ev.add("DTSTAMP", dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    ev.add("SEQUENCE", 0)
    if recurrence_id is not None:
        ev.add("RECURRENCE-ID", recurrence_id)
    attendee_addr = icalendar.vCalAddress(f"mailto:{attendee}")
    attendee_addr.params["PARTSTAT"] = partstat
    ev.add("ATTENDEE", attendee_addr)
    ev.add("ORGANIZER", "mailto:mishuke@glb.example.org")
    cal.add_component(ev)
    return cal.to_ical()
