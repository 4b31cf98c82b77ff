"""Sending the outbox (the I/O edge): claim due notices, hand them to SMTP or write them to
``<instance>/outbox/``, and record what happened.

- SMTP 250: ``sent``. 4xx, a timeout or a dropped connection: ``queued`` again with backoff
  (1, 2, 4 … minutes, at most an hour; ``failed`` after ``MAX_ATTEMPTS``). 5xx: ``failed`` at
  once, with the server's answer, for the secretary to see. A server that cannot be reached
  or refuses the login ends the round; the claimed notices wait for the next one.
- No ``CALSYNC_SMTP_URL``: each notice is written as ``<instance>/outbox/<id>-<method>.eml``
  (atomically) and marked ``written``: listed, never dropped.
- A notice that cannot be handed over at all (its text is not 7-bit, an address SMTP refuses
  to put in a command) is ``failed`` with the reason; the round goes on with the rest.

**The window between "the server said 250" and "marked sent".** The claim is written before
the SMTP transaction and the mark right after it. If the process dies in between, the row
stays ``sending`` and is claimed again once its lease (10 minutes) has passed, so the
notice is sent again: calsync chooses at-least-once here, because the alternative
(at-most-once: never retry an unconfirmed send) silently loses invitations whenever a send
was interrupted *before* the server accepted it, which is by far the commoner case. The
duplicate is harmless to the reader: it carries the same Message-ID (mail systems such as
Gmail and Exchange collapse copies with one Message-ID) and the same UID and SEQUENCE, which a
calendar applies as the version it already has. The window is a single database write wide.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from email import message_from_string
from email.utils import parseaddr
from pathlib import Path

from calsync.notices.smtp import SmtpSender, TransportDown, parse_smtp_url
from calsync.settings import OUTBOX_DIR as OUTBOX_DIR  # the outbox folder in the instance
from calsync.store import Store
from calsync.store.outbox import OutboxNotice

MAX_ATTEMPTS = 12


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


def deliver_due(store: Store, smtp_url: str | None, outbox_dir: Path,
                now: dt.datetime | None = None, limit: int = 100) -> Counter[str]:
    """Send (or write) every notice that is due; returns counts by outcome."""
    now = now or dt.datetime.now(dt.UTC)
    counts: Counter[str] = Counter()
    claimed = store.notices.claim_due(now, limit=limit)
    if not claimed:
        return counts
    if not smtp_url:
        for row in claimed:
            try:
                path = write_eml(outbox_dir, row)
            except ValueError as exc:
                _unsendable(store, row, exc, now)
                counts["failed"] += 1
                continue
            store.notices.mark_notice(row.id, "written", path=str(path), at=now)
            counts["written"] += 1
        return counts
    sender = SmtpSender(parse_smtp_url(smtp_url))
    try:
        for i, row in enumerate(claimed):
            try:
                data, mail_from = row.message.encode("ascii"), _from(row)
            except ValueError as exc:   # not 7-bit: written by hand or by an older calsync
                _unsendable(store, row, exc, now)
                counts["failed"] += 1
                continue
            try:
                outcome = sender.send(mail_from, row.recipient, data)
            except TransportDown as exc:
                for rest in claimed[i:]:
                    _retry(store, rest, str(exc), now)
                    counts["retry"] += 1
                break
            if outcome.result == "sent":
                store.notices.mark_notice(row.id, "sent", at=now)
            elif outcome.result == "failed":
                store.notices.mark_notice(row.id, "failed", error=outcome.detail, at=now)
            else:
                _retry(store, row, outcome.detail, now)
            counts[outcome.result] += 1
    finally:
        sender.close()
    return counts


def _unsendable(store: Store, row: OutboxNotice, exc: ValueError, now: dt.datetime) -> None:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    store.notices.mark_notice(row.id, "failed",
                              error=f"cannot send the message to {row.recipient}: "
                              f"{reason}", at=now)


def _retry(store: Store, row: OutboxNotice, error: str, now: dt.datetime) -> None:
    if row.attempts >= MAX_ATTEMPTS:
        store.notices.mark_notice(row.id, "failed", error=f"gave up after {row.attempts} attempts: "
                                  f"{error}", at=now)
        return
    store.notices.mark_notice(row.id, "queued", error=error, next_try=now + backoff(row.attempts),
                              at=now)


def _from(row: OutboxNotice) -> str:
    return parseaddr(message_from_string(row.message)["From"] or "")[1]


def write_eml(folder: Path, row: OutboxNotice) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row.id:06d}-{row.method.lower()}.eml"
    data = row.message.encode("ascii")   # before any file exists
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
