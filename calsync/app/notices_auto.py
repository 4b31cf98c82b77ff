"""Notices from the scheduler: after an organization is published, queue what changed and
send what is due. On when ``CALSYNC_SMTP_URL`` is set; ``CALSYNC_NOTICES=1`` turns it on
without SMTP (the notices then go to ``<instance>/outbox/*.eml``), ``CALSYNC_NOTICES=0``
turns it off. Secretaries can always queue and send from the page (会议通知) or the CLI."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from calsync.app.notices_queue import queue
from calsync.notices.deliver import OUTBOX_DIR, deliver_due
from calsync.notices.smtp import ENV_SMTP_URL
from calsync.policy import PolicySet
from calsync.store import Store
from calsync.store.db import instance_dir

ENV_NOTICES = "CALSYNC_NOTICES"


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    flag = env.get(ENV_NOTICES, "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or bool(env.get(ENV_SMTP_URL))


def notify(policies: PolicySet, store: Store, org: str, now: dt.datetime,
           instance: Path | None = None) -> tuple[int, Counter[str]]:
    """Queue the organization's notices and send every due one; (queued, counts)."""
    queued = queue(policies, store, [org], now)
    counts = deliver_due(store, os.environ.get(ENV_SMTP_URL) or None,
                         instance_dir(instance) / OUTBOX_DIR, now)
    return queued, counts
