"""iMIP messages (RFC 6047, pure): the iTIP calendar (RFC 5546) and the e-mail around it.

One message per notice: ``multipart/alternative`` with a Chinese text/plain summary (会议名称,
时间, 地点, 主持) and ``text/calendar; method=REQUEST|CANCEL; charset=utf-8``. The calendar
reuses calsync.ical.render, so UIDs, RRULEs and overrides are those of the CalDAV copy; SEQUENCE
is the notice's. The Message-ID is derived from UID, SEQUENCE and recipient: the same notice
version always has the same Message-ID, which is what makes a re-sent copy recognisable.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from icalendar import Event, vCalAddress, vText

from calsync.ical.render import new_calendar, series_events
from calsync.meetings.links import week_url
from calsync.notices.plan import CANCEL, REQUEST, Notice
from calsync.occurrence import TZ, Occurrence, Series

_WEEKDAYS = "一二三四五六日"
_EVERY = {1: "每周", 2: "每两周", 3: "每三周", 4: "每四周"}
MAX_LINES = 10  # moved / cancelled occurrences listed in the text part
# C0 and C1 controls, DEL and the Unicode line/paragraph separators: a title typed with a
# line break must never start a new header line (or a new line in the text part).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str) -> str:
    """``value`` fit for a header or a one-line field: control characters become a space."""
    return _CONTROLS.sub(" ", value).strip()


def message_id(uid: str, sequence: int, recipient: str, domain: str) -> str:
    digest = hashlib.sha256(f"{uid}\n{sequence}\n{recipient}".encode()).hexdigest()[:32]
    return f"<{digest}.{sequence}@{domain or 'calsync.invalid'}>"


def calendar(notice: Notice, organizer: tuple[str, str], now: dt.datetime) -> bytes:
    """The iTIP object: METHOD, one VTIMEZONE, the recipient's VEVENTs."""
    stamp = now.astimezone(dt.UTC)
    if notice.method == REQUEST:
        assert notice.view is not None
        return _request(notice.view, notice.sequence, stamp)
    cal = new_calendar()
    cal.add("METHOD", notice.method)
    starts = notice.cancelled or (notice.first_start,)
    for start in starts:
        ev = Event()
        ev.add("UID", notice.uid)
        ev.add("DTSTAMP", stamp)
        if notice.cancelled:
            ev.add("RECURRENCE-ID", dt.datetime.fromisoformat(start).astimezone(TZ))
        if start:
            ev.add("DTSTART", _at(notice.starts.get(start, start)))
        ev.add("SEQUENCE", notice.sequence)
        ev.add("SUMMARY", notice.summary)
        ev.add("STATUS", "CANCELLED")
        if notice.confidential:
            ev.add("CLASS", "CONFIDENTIAL")
        ev.add("ORGANIZER", _address(*organizer))
        ev.add("ATTENDEE", _address(notice.recipient_name, notice.recipient))
        cal.add_component(ev)
    return cal.to_ical()


@functools.lru_cache(maxsize=32)
def _request(view: Series, sequence: int, stamp: dt.datetime) -> bytes:
    """Every attendee sharing a view gets the same bytes (rendered once: icalendar is slow)."""
    cal = new_calendar()
    cal.add("METHOD", REQUEST)
    for ev in series_events(view, stamp, groups=False, whole=True):   # each invitee named
        _set_sequence(ev, sequence)
        for addr in _attendees(ev):
            addr.params["RSVP"] = "TRUE"   # every attendee is asked to answer
        cal.add_component(ev)
    return cal.to_ical()


def _set_sequence(ev: Event, sequence: int) -> None:
    ev.pop("SEQUENCE", None)
    ev.add("SEQUENCE", sequence)


def _attendees(ev: Event) -> list[vCalAddress]:
    found = ev.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


def _address(name: str, email: str) -> vCalAddress:
    addr = vCalAddress(f"mailto:{email}")
    if name:
        addr.params["CN"] = vText(name)
    return addr


def subject(notice: Notice) -> str:
    if notice.method == CANCEL:
        when = "、".join(_day(_at(notice.starts.get(r, r))) for r in notice.cancelled[:3])
        return one_line(f"会议取消：{notice.summary}" + (f"（{when}）" if when else ""))
    return one_line(f"{'会议变更' if notice.kind == 'update' else '会议通知'}：{notice.summary}")


def text(notice: Notice, organizer: tuple[str, str], now: dt.datetime,
         web_base: str | None = None) -> str:
    """The Chinese summary for readers whose mail program shows no calendar. With the web
    page's public address (``web_base``), an invitation links to the week view showing its
    next occurrence (calsync.meetings.links)."""
    name = one_line(notice.recipient_name)
    greeting = f"{name}：您好！" if name else "您好！"
    lines = [greeting, ""]
    if notice.method == CANCEL:
        whole = not notice.cancelled and notice.told > 1
        lines.append("以下会议（全部场次）已取消：" if whole else "以下会议已取消：")
        lines.append(f"会议名称：{one_line(notice.summary)}")
        if not notice.cancelled and notice.first_start and not whole:
            first = notice.starts.get(notice.first_start, notice.first_start)
            lines.append(f"原定时间：{_when(_at(first))}")
        for r in notice.cancelled[:MAX_LINES]:
            lines.append(f"取消：{_when(_at(notice.starts.get(r, r)))}")
    else:
        assert notice.view is not None
        lines.append("会议变更通知（以本通知为准）：" if notice.kind == "update" else
                     "会议通知（请在日历中接受或拒绝）：")
        lines += _meeting_lines(notice, now)
        link = _week_link(notice, now, web_base)
        if link:
            lines.append(f"在网页日历中查看：{link}")
    lines += ["", f"{organizer[0]}（{organizer[1]}）"]
    return "\n".join(lines) + "\n"


def _meeting_lines(notice: Notice, now: dt.datetime) -> list[str]:
    view = notice.view
    assert view is not None
    coming = [o for o in view.occurrences if o.end > now]
    live = [o for o in coming if o.status != "CANCELLED"] or list(view.occurrences)
    first = live[0]
    lines = [f"会议名称：{one_line(notice.summary)}"]
    if len(live) == 1:
        lines.append(f"时间：{_when(first.start)}—{first.end.astimezone(TZ):%H:%M}")
    else:
        rule = view.rule
        every = (f"{_EVERY.get(rule.interval, f'每{rule.interval}周')}"
                 f"{_WEEKDAYS[rule.weekday]}" if rule is not None else "")
        lines.append(f"时间：自{_when(first.start)}起，{every}"
                     f"{first.start.astimezone(TZ):%H:%M}—{first.end.astimezone(TZ):%H:%M}，"
                     f"共{len(live)}次（节假日调整见下）")
    places = _distinct(o.location for o in live)
    if places:
        lines.append(f"地点：{'、'.join(places)}")
    chairs = _distinct(o.chair.name for o in live if o.chair is not None)
    if chairs:
        lines.append(f"主持：{'、'.join(chairs)}")
    changes = [o for o in coming if o.moved or o.status == "CANCELLED"]
    for o in changes[:MAX_LINES]:
        if o.status == "CANCELLED":
            lines.append(f"取消：{_when(o.nominal_start)}")
        else:
            lines.append(f"调整：{_when(o.start)}（原定{_day(o.nominal_start)}）")
    if len(changes) > MAX_LINES:
        lines.append(f"另有{len(changes) - MAX_LINES}处调整，详见日历。")
    return lines


def _week_link(notice: Notice, now: dt.datetime, web_base: str | None) -> str | None:
    view = notice.view
    if view is None or not web_base:
        return None
    coming = [o for o in view.occurrences if o.end > now and o.status != "CANCELLED"]
    return week_url(web_base, coming[0]) if coming else None


def _at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).astimezone(TZ)


def _distinct(values) -> list[str]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _day(at: dt.datetime) -> str:
    at = at.astimezone(TZ)
    return f"{at.year}年{at.month}月{at.day}日（星期{_WEEKDAYS[at.weekday()]}）"


def _when(at: dt.datetime) -> str:
    return f"{_day(at)} {at.astimezone(TZ):%H:%M}"


def build(notice: Notice, organizer: tuple[str, str], now: dt.datetime,
          web_base: str | None = None) -> EmailMessage:
    """The whole message. ``organizer``: the organizer section's (name, mailbox);
    ``web_base``: the web page's public address, for the link in the text part."""
    domain = organizer[1].rpartition("@")[2]
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject(notice)
    msg["From"] = Address(one_line(organizer[0]), addr_spec=organizer[1])
    msg["To"] = Address(one_line(notice.recipient_name), addr_spec=notice.recipient)
    msg["Date"] = format_datetime(now.astimezone(TZ))
    msg["Message-ID"] = message_id(notice.uid, notice.sequence, notice.recipient, domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text(notice, organizer, now, web_base), charset="utf-8", cte="base64")
    ics = calendar(notice, organizer, now).decode("utf-8")
    msg.add_alternative(ics, subtype="calendar", charset="utf-8", cte="base64",
                        params={"method": notice.method})
    # After the parts: set_content/add_alternative move Content-* headers into the parts.
    msg["Content-Class"] = "urn:content-classes:calendarmessage"  # Outlook: a meeting item
    return msg


def occurrence_label(o: Occurrence) -> str:
    return _when(o.start)
