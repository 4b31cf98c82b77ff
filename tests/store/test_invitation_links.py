"""An invitation mail links to the meeting's week on the web calendar (the notices are
planned from the store)."""

from __future__ import annotations

import datetime as dt
from email import message_from_string

import pytest

from calsync.meetings.links import week_path
from calsync.occurrence import TZ
from calsync.policy import load_policies, shipped_policies


@pytest.fixture(scope="module")
def policies():
    return load_policies(shipped_policies())


def mail_text(message: str) -> str:
    part = next(p for p in message_from_string(message).walk()
                if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode("utf-8")


def test_invitation_mail_links_to_the_week(policies, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CALSYNC_PUBLIC_URL", raising=False)
    from calsync.app.notices_queue import new_notice, plan_notices
    from calsync.store import open_store

    store = open_store(None, tmp_path)
    try:
        now = dt.datetime(2026, 3, 1, 8, 0, tzinfo=TZ)
        notices = plan_notices(policies, store, ["guanliban"], now)
        n = next(x for x in notices if x.method == "REQUEST")
        text = mail_text(new_notice(policies, n, now, "http://cal.example.org").message)
        first = next(o for o in n.view.occurrences if o.end > now and o.status != "CANCELLED")
        assert f"在网页日历中查看：http://cal.example.org{week_path(first)}" in text
        plain = mail_text(new_notice(policies, n, now).message)
        assert "会议名称" in plain and "在网页日历中查看" not in plain   # no address: no link
    finally:
        store.close()
