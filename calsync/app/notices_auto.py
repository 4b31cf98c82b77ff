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
from calsync.policy import PolicySet
from calsync.settings import Settings
from calsync.store import Store
from calsync.store.db import instance_dir


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the scheduler sends notices, by the variables of ``environ`` (default: now)."""
    return Settings.from_env(os.environ if environ is None else environ).notices_enabled


def notify(policies: PolicySet, store: Store, org: str, now: dt.datetime,
           instance: Path | None = None,
           settings: Settings | None = None) -> tuple[int, Counter[str]]:
    """Queue the organization's notices and send every due one; (queued, counts).
    ``instance``: the folder of the outbox, else the settings' (default: the variables)."""
    settings = settings or Settings.from_env()
    queued = queue(policies, store, [org], now, settings.public_url)
    counts = deliver_due(store, settings.smtp_url,
                         instance_dir(instance or settings.instance) / OUTBOX_DIR, now)
    return queued, counts
