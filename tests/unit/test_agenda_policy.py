"""The policy key ``agenda_for`` (a weekly deadline names the meeting whose topics it closes,
篇一 三.4/三.5): `calsync validate` reports each misuse as FILE: KEY: problem (fix), exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_policy_errors import (
    GLB_MEET,
    _assert_problem_line,
    _copy_policies,
    _validate,
    set_key,
)

DL = "deadlines.zhoubao.agenda_for"


@pytest.mark.parametrize(("key", "value", "says"), [
    (DL, "nosuch", "'nosuch' is not a scheduled meeting type"),
    (DL, "dangzu", "'dangzu' is not a scheduled meeting type"),     # on demand: no schedule
    (DL, "zhurenbangong", "already close at deadlines.yiti"),        # one deadline per type
    (DL, "Bad Id", "not a valid id"),
    ("deadlines.yiti.agenda_for", "zhoulihui", "only a weekly deadline"),
])
def test_agenda_for_misuse_is_reported(key: str, value: str, says: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_policies(tmp_path)
    set_key(GLB_MEET, key, value)(root)
    code, _out, err = _validate(root, capsys)
    assert code == 2 and "Traceback" not in err
    lines = err.splitlines()
    _assert_problem_line(lines, root / GLB_MEET, key, says)
    assert len(lines) == 1, err


def test_shipped_policy_names_zhoulihui(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _validate(_copy_policies(tmp_path), capsys)
    assert code == 0 and err == "" and "guanliban: ok" in out
