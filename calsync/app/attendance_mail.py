"""Attendance reports by e-mail: plain text (not iMIP) through the notices outbox, so the
same delivery (calsync.notices.deliver: SMTP with retries, or ``<instance>/outbox/*.eml``)
sends them and the 会议通知 page lists them. Each recipient's copy is masked for them
(calsync.access): a confidential meeting they are not invited to is 忙碌 without names.

Outbox rows of kind ``attendance`` carry an empty ``state``, so the iMIP planner
(calsync.notices.plan) never mistakes them for invitations to cancel.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from calsync import access
from calsync.meetings import attendance_export as export
from calsync.meetings.attendance import NONE
from calsync.meetings.attendance_report import MonthReport, OccurrenceReport
from calsync.meetings.people import organizer
from calsync.notices.deliver import OUTBOX_DIR, deliver_due
from calsync.notices.imip import one_line
from calsync.occurrence import TZ, uid_for
from calsync.policy import PolicySet
from calsync.settings import Settings
from calsync.store import Store
from calsync.store.outbox import NewNotice

KIND = "attendance"
METHOD = "REPORT"          # not an iTIP method: a plain e-mail


def masked_for(viewer: access.Viewer, report: OccurrenceReport) -> OccurrenceReport:
    if access.shows(viewer, report.occ):
        return report
    from dataclasses import replace

    return replace(report, rows=(), counts=NONE, masked=True)


def message(org_name: str, sender: tuple[str, str], to: tuple[str, str], subject: str,
            body: str, now: dt.datetime) -> EmailMessage:
    domain = sender[1].rpartition("@")[2] or "calsync.invalid"
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(subject)   # a title typed with a line break: one header
    msg["From"] = Address(one_line(sender[0]), addr_spec=sender[1])
    msg["To"] = Address(one_line(to[0]), addr_spec=to[1])
    msg["Date"] = format_datetime(now.astimezone(TZ))
    msg["Message-ID"] = f"<attendance-{secrets.token_hex(8)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, charset="utf-8", cte="base64")
    return msg


def send(policies: PolicySet, store: Store, org_id: str, key: str, recipients: Iterable[str],
         make: Callable[[access.Viewer], MonthReport | OccurrenceReport], now: dt.datetime,
         instance: Path, smtp_url: str | None = None) -> list[str]:
    """Queue one copy per recipient (person ids) with a mail address and deliver what is
    due; returns the names it went to. Nothing when notices are off (no CALSYNC_SMTP_URL
    and no CALSYNC_NOTICES=1). ``smtp_url``: the app's CALSYNC_SMTP_URL setting, if any."""
    settings = Settings.from_env(smtp_url=smtp_url)
    smtp_url = settings.smtp_url
    if not (smtp_url or settings.notices_enabled):
        return []
    org = policies.organizations[org_id]
    sender = organizer(org)
    uid = uid_for(org, f"attendance-{key}")
    previous = [n for n in store.notices.outbox([org_id]) if n.uid == uid]
    queued, names = [], []
    for pid in sorted(set(recipients)):
        person = org.people.get(pid)
        if person is None or not person.email:
            continue
        report = make(access.viewer_of(policies, pid))
        subject = one_line(f"{org.short_name or org.name}{report.label}会议考勤情况"
                           if isinstance(report, MonthReport) else
                           f"会议考勤情况：{report.title}")
        seq = sum(1 for n in previous if n.recipient == person.email.lower())
        # the outbox lists the subject: a confidential meeting's is shown to its readers only
        secret = isinstance(report, OccurrenceReport) and report.occ.klass == "CONFIDENTIAL"
        try:
            msg = message(org.name, sender, (person.name, person.email), subject,
                          export.text(report, org.short_name or org.name), now)
            text = msg.as_string()
            text.encode("ascii")
        except (ValueError, TypeError, MessageError) as exc:   # this copy only: failed
            queued.append(NewNotice(org_id, uid, person.email.lower(), person.name, seq,
                                    METHOD, KIND, f"<attendance-{secrets.token_hex(8)}>",
                                    subject, subject, secret, {}, "", status="failed",
                                    error=f"cannot build the message to {person.email}: "
                                          f"{' '.join(str(exc).split())}"))
            continue
        queued.append(NewNotice(org_id, uid, person.email.lower(), person.name, seq, METHOD,
                                KIND, str(msg["Message-ID"]), subject, subject, secret, {},
                                text))
        names.append(person.name)
    if queued:
        store.notices.queue_notices(queued, at=now)
        deliver_due(store, smtp_url, instance / OUTBOX_DIR, now)
    return names
