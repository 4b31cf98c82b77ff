"""Recording attendees' answers (the shell around calsync.notices.reply): used by the CLI
(``calsync notices reply``) and the page (``POST /imip/reply``)."""

from __future__ import annotations

from calsync.errors import UsageError
from calsync.notices.reply import parse_reply
from calsync.store import Store


def record_answers(store: Store, data: bytes, organization: str | None = None) -> list[str]:
    """Record every answer of a REPLY; UsageError when the attendee was never sent the UID
    (by ``organization``, when given). The REPLY is parsed whole before anything is kept."""
    answers = parse_reply(data)
    lines = []
    for a in answers:
        kept = store.record_reply(a.uid, a.attendee, a.partstat, recurrence_id=a.recurrence_id,
                                  sequence=a.sequence, comment=a.comment,
                                  organization=organization)
        if kept is None:
            raise UsageError(f"{a.attendee} was never sent {a.uid} (a reply counts only from "
                             f"an attendee calsync notified)")
        lines.append(f"{a.attendee} {a.partstat} {a.uid}"
                     + (f" {a.recurrence_id}" if a.recurrence_id else ""))
    return lines
