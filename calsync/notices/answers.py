"""Recording attendees' answers (the shell around calsync.notices.reply): used by the CLI
(``calsync notices reply``) and the page (``POST /imip/reply``).

An answer counts only from an invitee: the attendee's last notice of that UID (of the
organization, on the page) must still invite them to what they answer. Every answer of a
REPLY is checked before any is kept, and the audit log records who entered each one.
"""

from __future__ import annotations

from collections.abc import Callable

from calsync.errors import UsageError
from calsync.notices.reply import Answer, parse_reply, still_invited
from calsync.store import Store
from calsync.store.outbox import OutboxNotice

Checked = list[tuple[Answer, OutboxNotice]]


def check_answers(store: Store, answers: list[Answer],
                  organization: str | None = None) -> Checked:
    """Each answer with the notice it answers; UsageError for the first that no invitee
    gave (never sent the UID, or no longer invited to it)."""
    out = []
    for a in answers:
        last = store.notices.last_notice(a.uid, a.attendee, organization)
        if last is None:
            raise UsageError(f"{a.attendee} was never sent {a.uid} (a reply counts only from "
                             f"an attendee calsync notified)")
        if not still_invited(a, last.state):
            what = f"{a.uid} on {a.recurrence_id}" if a.recurrence_id else a.uid
            raise UsageError(f"{a.attendee} is not invited to {what} (it was cancelled or "
                             f"they were taken off it): the reply is not recorded")
        out.append((a, last))
    return out


def keep_answers(store: Store, checked: Checked, actor: str) -> list[str]:
    lines = []
    for a, notice in checked:
        store.notices.record_reply(a.uid, a.attendee, a.partstat, recurrence_id=a.recurrence_id,
                                   sequence=a.sequence, comment=a.comment,
                                   organization=notice.organization, actor=actor)
        lines.append(f"{a.attendee} {a.partstat} {a.uid}"
                     + (f" {a.recurrence_id}" if a.recurrence_id else ""))
    return lines


def record_answers(store: Store, data: bytes, organization: str | None = None, *,
                   actor: str = "cli",
                   may_answer: Callable[[str, str], bool] | None = None) -> list[str]:
    """Parse, check and keep every answer of a REPLY (all or none). ``may_answer(org,
    address)`` (with ``organization``): may the one entering it answer for that attendee?
    PermissionError if not — asked first, so that nobody learns from the answer whether
    someone else was invited."""
    answers = parse_reply(data)
    if may_answer is not None:
        if organization is None:
            raise ValueError("record_answers: may_answer needs the organization")
        for a in answers:
            if not may_answer(organization, a.attendee):
                raise PermissionError(f"may not record an answer for {a.attendee}")
    return keep_answers(store, check_answers(store, answers, organization), actor)
