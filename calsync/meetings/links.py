"""Links into the web page that notices carry (pure).

A notice (e-mail text, and anything else that points a reader at one occurrence) links to the
week view at the week holding the occurrence, with that occurrence marked:
``/meetings?date=YYYY-MM-DD&focus=occ-…``. The focus key is a digest of the series UID and the
recurrence id, so the link names no meeting; the page marks it only for a reader who may see
that meeting in full (a busy block is never marked).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from calsync.occurrence import TZ, Occurrence


def anchor(series_uid: str, recurrence_id: str) -> str:
    """The element id (and ``focus=`` value) of one occurrence in the calendar views."""
    digest = hashlib.sha256(f"{series_uid}|{recurrence_id}".encode()).hexdigest()[:12]
    return f"occ-{digest}"


def week_path(occ: Occurrence) -> str:
    """The path of the week view showing ``occ`` (where it is now, if moved), marked."""
    day = occ.start.astimezone(TZ).date().isoformat()
    query = urlencode({"date": day, "focus": anchor(occ.uid, occ.nominal_start.isoformat())})
    return f"/meetings?{query}"


def week_url(base: str | None, occ: Occurrence) -> str | None:
    """``week_path`` under the page's public address (``CALSYNC_PUBLIC_URL``); None without
    one (a notice then carries no link rather than a wrong one)."""
    if not base:
        return None
    return base.rstrip("/") + week_path(occ)
