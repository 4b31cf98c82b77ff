"""``calsync notices plan|reply`` and their one-line errors (send and list are exercised
against the SMTP server in test_notices_smtp.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calsync.cli import main as cli_main
from calsync.store import Store
from tests.support.notice_replies import CHAIR, ZRB, reply_ics


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_plan_writes_nothing_and_reply_records_an_answer(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(store)
    capsys.readouterr()
    assert cli_main(["notices", "plan", "--org", "guanliban", "--database-url", url]) == 0
    out = capsys.readouterr().out
    planned = int(out.strip().splitlines()[-1].split()[0])
    assert planned > 0 and f"REQUEST invite seq 0   {CHAIR}" in out
    assert store.notices.outbox() == []
    # a reply before anything was sent counts for nothing
    answer = tmp_path / "reply.ics"
    answer.write_bytes(reply_ics(ZRB, CHAIR, "TENTATIVE"))
    assert cli_main(["notices", "reply", str(answer), "--database-url", url]) == 2
    assert "was never sent" in capsys.readouterr().err
    assert cli_main(["notices", "send", "--org", "guanliban", "--database-url", url,
                     "--instance", str(tmp_path / "inst")]) == 0
    assert f"queued {planned}; written {planned}" in capsys.readouterr().out
    assert cli_main(["notices", "reply", str(answer), "--database-url", url]) == 0
    assert capsys.readouterr().out == f"{CHAIR} TENTATIVE {ZRB}\n"
    replies = store.notices.notice_replies()
    assert [(a.recipient, a.partstat) for a in replies] == [(CHAIR, "TENTATIVE")]


@pytest.mark.parametrize(("argv", "message"), [
    (["notices", "send", "--smtp-url", "http://mail"], "CALSYNC_SMTP_URL must look like"),
    (["notices", "send", "--smtp-url", "smtp://mail:x"], "bad port or timeout"),
    (["notices", "reply", "/nonexistent/reply.ics"], "cannot read /nonexistent/reply.ics"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, sqlite_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main([*argv, "--database-url", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
