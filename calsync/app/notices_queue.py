"""Planning into the outbox (the shell around calsync.notices.plan and .imip): generate with
the stored inputs, compare with what the store says was sent, queue the messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.errors import MessageError

from calsync.app.service import generation
from calsync.meetings.people import organizer
from calsync.notices import imip
from calsync.notices.plan import Notice, Sent, plan
from calsync.occurrence import default_horizon
from calsync.policy import PolicySet
from calsync.settings import Settings
from calsync.store import Store
from calsync.store.outbox import NewNotice, OutboxNotice


def sent_state(rows: Iterable[OutboxNotice]) -> dict[tuple[str, str], Sent]:
    return {(r.uid, r.recipient): Sent(r.organization, r.uid, r.recipient, r.sequence, r.method,
                                       {k: tuple(v) for k, v in (r.state or {}).items()},
                                       r.summary, r.confidential) for r in rows}


def plan_notices(policies: PolicySet, store: Store, orgs: list[str],
                 now: dt.datetime) -> list[Notice]:
    """What must be sent now (no writes). Generation covers the publishing horizon, so
    the series are exactly the CalDAV copy's."""
    start, end = default_horizon(now.date())
    gen = generation(policies, store, start, end, orgs)
    sent = sent_state(store.notices.latest_notices(orgs))
    return plan(gen.series, sent, now, orgs)


def web_base_from_env() -> str | None:
    """The web page's public address (``CALSYNC_PUBLIC_URL``), for links in the mail text."""
    return Settings.from_env().public_url


def new_notice(policies: PolicySet, n: Notice, now: dt.datetime,
               web_base: str | None = None) -> NewNotice:
    """The outbox row of one notice. A message that cannot be built (an address the mail
    standard refuses, text that cannot go out as 7-bit) becomes a ``failed`` row with the
    reason: one bad notice never stops the others."""
    org = organizer(policies.organizations[n.organization])
    state = {k: list(v) for k, v in n.state.items()}
    try:
        msg = imip.build(n, org, now, web_base or web_base_from_env())
        text = msg.as_string()
        text.encode("ascii")   # what delivery hands to SMTP: fail here, not mid-round
    except (ValueError, TypeError, MessageError) as exc:
        domain = org[1].rpartition("@")[2]
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return NewNotice(n.organization, n.uid, n.recipient, n.recipient_name, n.sequence,
                         n.method, n.kind, imip.message_id(n.uid, n.sequence, n.recipient,
                                                           domain),
                         imip.subject(n), n.summary, n.confidential, state, "",
                         status="failed", error=f"cannot build the message to "
                                                f"{n.recipient}: {reason}")
    return NewNotice(n.organization, n.uid, n.recipient, n.recipient_name, n.sequence,
                     n.method, n.kind, str(msg["Message-ID"]), imip.subject(n), n.summary,
                     n.confidential, state, text)


def queue(policies: PolicySet, store: Store, orgs: list[str], now: dt.datetime,
          web_base: str | None = None) -> int:
    """Plan and queue; returns how many notices were queued (0 when another planner queued
    the same versions first). ``web_base``: the page's address for the mails' week links
    (default ``CALSYNC_PUBLIC_URL``)."""
    found = plan_notices(policies, store, orgs, now)
    return store.notices.queue_notices([new_notice(policies, n, now, web_base) for n in found],
                                       at=now)
