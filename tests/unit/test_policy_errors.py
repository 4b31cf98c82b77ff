"""Malformed policies: `calsync validate` names the file, the key, the problem and the fix.

Every case copies the shipped policies into a temporary folder, breaks exactly one thing and
runs ``calsync validate --policies DIR`` in-process. The contract: exit code 2, one line per
problem on stderr, each ``FILE: KEY: what is wrong (how to fix)`` with FILE the full path,
never a traceback, and nothing on stdout claiming an organization is ok.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from calsync.cli import main
from calsync.policy import shipped_policies

GLB_ORG = "guanliban/organization.toml"
GLB_DIR = "guanliban/directory.toml"
GLB_MEET = "guanliban/meetings.toml"
JYJ_ORG = "jiaoyuju/organization.toml"
JYJ_DIR = "jiaoyuju/directory.toml"
JYJ_MEET = "jiaoyuju/meetings.toml"
HOL_2026 = "holidays/2026.toml"

# --------------------------------------------------------------------------------------------
# A tiny TOML writer: enough for the policy files (tables, arrays of inline tables, scalars).

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_dumps(data: dict[str, Any]) -> str:
    return "\n".join(_toml_table(data, ())) + "\n"


def _toml_table(data: dict[str, Any], prefix: tuple[str, ...]) -> list[str]:
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)
    ]
    for k, v in data.items():
        if isinstance(v, dict):
            header = ".".join(_toml_key(p) for p in (*prefix, k))
            lines += ["", f"[{header}]", *_toml_table(v, (*prefix, k))]
    return lines


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON escapes are valid TOML escapes
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {value!r} as TOML")


# --------------------------------------------------------------------------------------------
# Edits: each takes the copied policies folder and breaks one thing in it.

Edit = Callable[[Path], None]


def _parts(key: str) -> list[str | int]:
    """``a.b[0].c`` → ["a", "b", 0, "c"] (the same spelling the messages use)."""
    out: list[str | int] = []
    for part in key.split("."):
        name, _, rest = part.partition("[")
        out.append(name)
        out += [int(i) for i in re.findall(r"(\d+)\]", rest)]
    return out


def _change(rel: str, change: Callable[[dict[str, Any]], None]) -> Edit:
    def edit(root: Path) -> None:
        path = root / rel
        data = tomllib.loads(path.read_text("utf-8"))
        change(data)
        path.write_text(toml_dumps(data), "utf-8")

    return edit


def _parent(data: dict[str, Any], key: str) -> tuple[Any, str | int]:
    *path, last = _parts(key)
    node: Any = data
    for p in path:
        node = node[p]
    assert isinstance(node, dict | list)
    return node, last


def set_key(rel: str, key: str, value: Any) -> Edit:
    def change(data: dict[str, Any]) -> None:
        node, last = _parent(data, key)
        if isinstance(last, str):
            assert last in node or value is not None
        node[last] = value

    return _change(rel, change)


def del_key(rel: str, key: str) -> Edit:
    def change(data: dict[str, Any]) -> None:
        node, last = _parent(data, key)
        del node[last]  # KeyError if the shipped policy no longer has it: the case must change

    return _change(rel, change)


def rename_key(rel: str, key: str, new_name: str) -> Edit:
    def change(data: dict[str, Any]) -> None:
        node, last = _parent(data, key)
        node[new_name] = node.pop(last)

    return _change(rel, change)


def append_to(rel: str, key: str, item: Any) -> Edit:
    def change(data: dict[str, Any]) -> None:
        node, last = _parent(data, key)
        node[last].append(item)

    return _change(rel, change)


def replace_text(rel: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / rel
        text = path.read_text("utf-8")
        assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
        path.write_text(text.replace(old, new), "utf-8")

    return edit


def reencode(rel: str, encoding: str) -> Edit:
    def edit(root: Path) -> None:
        path = root / rel
        path.write_bytes(path.read_text("utf-8").encode(encoding))

    return edit


def delete_file(rel: str) -> Edit:
    def edit(root: Path) -> None:
        (root / rel).unlink()

    return edit


def rename_file(rel: str, new_rel: str) -> Edit:
    def edit(root: Path) -> None:
        (root / rel).rename(root / new_rel)

    return edit


def remove_folder(root: Path) -> None:
    shutil.rmtree(root)


def empty_folder(root: Path) -> None:
    shutil.rmtree(root)
    root.mkdir()


# --------------------------------------------------------------------------------------------
# The cases.


@dataclass(frozen=True)
class Case:
    edit: Edit
    file: str  # relative to the policies folder; "" is the folder itself
    key: str  # exactly as the message must name it
    says: str  # a fragment of "what is wrong"
    lines: int = 1  # problems this one edit causes (each its own line)


def setting(file: str, key: str, value: Any, says: str) -> Case:
    return Case(set_key(file, key, value), file, key, says)


def removing(file: str, key: str, says: str = "required but missing") -> Case:
    return Case(del_key(file, key), file, key, says)


ZL = "meeting_types.zhoulihui"
ZL0 = f"{ZL}.schedules[0]"
ZRBG0 = "meeting_types.zhurenbangong.schedules[0]"
KWH = "meeting_types.kewuhui"

CASES = [
    # -- the file itself ----------------------------------------------------------------------
    pytest.param(
        Case(
            replace_text(GLB_MEET, 'name = "周例会"', 'name = "周例会'),
            GLB_MEET,
            "(syntax)",
            "not valid TOML",
        ),
        id="toml-syntax-error",
    ),
    pytest.param(Case(reencode(GLB_DIR, "gbk"), GLB_DIR, "(file)", "not UTF-8"), id="not-utf8-gbk"),
    pytest.param(
        Case(delete_file(GLB_MEET), GLB_MEET, "(file)", "missing"), id="missing-meetings-file"
    ),
    pytest.param(
        Case(delete_file(JYJ_DIR), JYJ_DIR, "(file)", "missing"), id="missing-directory-file"
    ),
    pytest.param(
        Case(delete_file(GLB_ORG), GLB_ORG, "(file)", "missing"),
        id="missing-organization-file",
    ),
    pytest.param(
        Case(remove_folder, "", "(folder)", "does not exist"), id="policies-folder-missing"
    ),
    pytest.param(
        Case(empty_folder, "", "(folder)", "holds no organization"), id="policies-folder-empty"
    ),
    # -- required keys ------------------------------------------------------------------------
    pytest.param(removing(GLB_MEET, f"{ZL}.name"), id="missing-meeting-name"),
    pytest.param(removing(GLB_MEET, f"{KWH}.clause"), id="missing-clause"),
    pytest.param(removing(GLB_MEET, f"{ZL0}.time"), id="missing-time"),
    pytest.param(removing(GLB_MEET, f"{KWH}.schedules[1].weekday"), id="missing-weekday"),
    pytest.param(removing(GLB_MEET, "deadlines.zhoubao.time"), id="missing-deadline-time"),
    pytest.param(removing(GLB_ORG, "name"), id="missing-organization-name"),
    pytest.param(removing(JYJ_DIR, "people.du_keyuan.email"), id="missing-person-email"),
    pytest.param(removing(HOL_2026, "holidays[2].name"), id="missing-holiday-name"),
    pytest.param(
        removing(GLB_MEET, f"{KWH}.schedules[1].id", "several schedules"),
        id="missing-schedule-id-among-several",
    ),
    pytest.param(removing(GLB_MEET, f"{ZL}.chair"), id="chair-missing"),
    # -- wrong types --------------------------------------------------------------------------
    pytest.param(
        setting(GLB_MEET, f"{ZL}.duration_minutes", "60", "whole number"), id="string-for-int"
    ),
    pytest.param(
        setting(GLB_MEET, "meeting_types.dangzu.confidential", 1, "true or false"),
        id="int-for-bool",
    ),
    pytest.param(setting(JYJ_ORG, "requests", [1, 3], "must be a table"), id="list-for-table"),
    pytest.param(
        setting(GLB_MEET, f"{ZL}.attendees", {"select": "all_staff"}, "must be a list"),
        id="table-for-list",
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZL}.schedules", {"kind": "weekly"}, "list of tables"),
        id="table-for-schedules",
    ),
    pytest.param(
        setting(GLB_DIR, "people.wang_fuzhuren.roles", "副主任", "list of texts"),
        id="string-for-list",
    ),
    pytest.param(setting(GLB_DIR, "rooms.diyi.name", 1, "non-empty text"), id="int-for-text"),
    pytest.param(
        setting(GLB_ORG, "revised", "2026-11-01T09:00:00+08:00", "offset"), id="quoted-revised"
    ),
    # -- bad values ---------------------------------------------------------------------------
    pytest.param(setting(GLB_MEET, f"{ZL0}.time", "9:3O", "not a time"), id="time-9-3O"),
    pytest.param(setting(GLB_MEET, f"{ZL0}.time", "25:00", "not a time"), id="time-25-00"),
    pytest.param(setting(JYJ_ORG, "semesters[0].start", "2025-09-31", "not a date"), id="bad-date"),
    pytest.param(
        setting(GLB_MEET, f"{ZRBG0}.anchor", "2026-13-07", "not a date"),
        id="bad-anchor-date-reported-once",
    ),
    pytest.param(setting(GLB_MEET, f"{ZL0}.weekday", "MON", "not one of"), id="weekday-MON"),
    pytest.param(
        setting(GLB_MEET, f"{ZL0}.kind", "monthly", "not one of"), id="unknown-schedule-kind"
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZL0}.on_holiday", "next-week", "not one of"), id="unknown-on-holiday"
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZL}.attendees[0].role", "CHAIR", "not one of"),
        id="attendee-role-chair",
    ),
    pytest.param(
        Case(
            rename_key(GLB_MEET, f"{ZL}.duration_minutes", "duraton_minutes"),
            GLB_MEET,
            f"{ZL}.duraton_minutes",
            "not a known key",
        ),
        id="unknown-key-typo",
    ),
    pytest.param(
        Case(
            rename_key(JYJ_ORG, "requests.merge_share", "merge_shares"),
            JYJ_ORG,
            "requests.merge_shares",
            "not a known key",
        ),
        id="unknown-key-in-requests",
    ),
    pytest.param(
        setting(JYJ_ORG, "semesters[0].weeks", 20, "not a known key"),
        id="unknown-key-in-semester",
    ),
    pytest.param(
        Case(
            rename_key(GLB_MEET, f"{KWH}.duration_minutes", "duration\nminutes"),
            GLB_MEET,
            f"{KWH}.duration\\nminutes",
            "not a known key",
        ),
        id="unknown-key-with-newline",
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZL0}.id", "Weekly", "not a valid id"),
        id="bad-id-of-single-schedule-reported-once",
    ),
    # -- schedules ----------------------------------------------------------------------------
    pytest.param(
        removing(GLB_MEET, f"{ZRBG0}.anchor", "interval = 2"), id="interval-2-without-anchor"
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZRBG0}.anchor", dt.date(2026, 1, 8), "not on the schedule's weekday"),
        id="anchor-not-on-weekday",
    ),
    pytest.param(
        setting(GLB_MEET, f"{KWH}.schedules[0].after", "xitong", "not a weekly"),
        id="after-names-non-weekly-type",
    ),
    pytest.param(
        setting(GLB_MEET, f"{KWH}.schedules[0].after", "kewuhui", "not a weekly"),
        id="after-names-per-section-type",
    ),
    pytest.param(
        setting(
            GLB_MEET,
            "meeting_types.zongjie.schedules[0].also_types[0]",
            "nosuch",
            "not another type",
        ),
        id="also-types-unknown",
    ),
    pytest.param(
        removing(GLB_MEET, "meeting_types.xitong.schedules", "no schedule"),
        id="no-schedule-not-on-demand",
    ),
    pytest.param(
        setting(GLB_MEET, "deadlines.yiti.meeting", "nosuch", "not a scheduled"),
        id="deadline-unknown-meeting",
    ),
    pytest.param(
        setting(GLB_MEET, "deadlines.yiti.meeting", "dangzu", "not a scheduled"),
        id="deadline-on-demand-meeting",
    ),
    # -- references ---------------------------------------------------------------------------
    pytest.param(setting(GLB_MEET, f"{ZL}.location", "nowhere", "no room"), id="unknown-room"),
    pytest.param(
        setting(GLB_DIR, "sections.ducha.room", "nowhere", "no room"), id="unknown-section-room"
    ),
    pytest.param(
        setting(GLB_DIR, "people.sun_keyuan.section", "nosuch", "no section"),
        id="unknown-section-of-person",
    ),
    pytest.param(
        setting(GLB_ORG, "organizer", "nosuch", "no section"), id="unknown-organizer-section"
    ),
    pytest.param(
        setting(JYJ_ORG, "director", "nosuch", "no person 'nosuch'"), id="unknown-director"
    ),
    pytest.param(
        setting(
            JYJ_MEET,
            "meeting_types.juzhangbangong.attendees[2].select",
            "section:nosuch",
            "no section",
        ),
        id="unknown-section-selector",
    ),
    pytest.param(
        setting(GLB_DIR, "sections.zonghe.chief", "nobody", "no person"), id="unknown-person-chief"
    ),
    pytest.param(
        setting(GLB_MEET, "meeting_types.xitong.chair", "person:nobody", "no person"),
        id="unknown-person-selector",
    ),
    pytest.param(
        setting(GLB_DIR, "duty_roster.rotation[1]", "nobody", "no person"),
        id="unknown-person-in-roster",
    ),
    pytest.param(
        setting(GLB_MEET, "meeting_types.xitong.chair", "role:局座", "role"), id="unknown-role"
    ),
    pytest.param(
        setting(GLB_MEET, "meeting_types.xitong.attendees[0].select", "group:nosuch", "group"),
        id="unknown-group",
    ),
    pytest.param(
        setting(GLB_MEET, f"{ZL}.chair", "somebody", "does not name anyone"),
        id="chair-names-nobody",
    ),
    pytest.param(
        Case(del_key(GLB_DIR, "duty_roster"), GLB_MEET, f"{ZL}.chair", "duty roster"),
        id="duty-leader-without-roster",
    ),
    pytest.param(
        Case(
            append_to(GLB_MEET, f"{ZL}.attendees", {"select": "section_members"}),
            GLB_MEET,
            f"{ZL}.attendees[1].select",
            "per-section",
        ),
        id="section-members-not-per-section",
    ),
    # -- directory ----------------------------------------------------------------------------
    pytest.param(
        setting(GLB_DIR, "people.wang_fuzhuren.email", "Zhang.Jianguo@glb.example.org", "also"),
        id="duplicate-email",
    ),
    pytest.param(
        setting(JYJ_DIR, "people.pan_keyuan.email", "pan.yun(at)jyj", "mail address"),
        id="bad-email",
    ),
    pytest.param(
        Case(
            rename_key(GLB_DIR, "people.sun_keyuan", "Sun_keyuan"),
            GLB_DIR,
            "people.Sun_keyuan",
            "not a valid id",
        ),
        id="id-upper-case",
    ),
    pytest.param(
        Case(
            rename_key(GLB_MEET, "meeting_types.dangzu", "党组"),
            GLB_MEET,
            "meeting_types.党组",
            "not a valid id",
        ),
        id="id-chinese",
    ),
    pytest.param(setting(GLB_ORG, "id", "管理办", "not a valid id"), id="organization-id-chinese"),
    # -- organization -------------------------------------------------------------------------
    pytest.param(
        setting(GLB_ORG, "id", "guanli", "differs from the folder name"),
        id="organization-id-not-folder",
    ),
    pytest.param(
        setting(GLB_ORG, "revised", dt.datetime(2026, 11, 1, 9), "offset"),
        id="revised-without-offset",
    ),
    pytest.param(
        setting(JYJ_ORG, "semesters[1].end", dt.date(2026, 2, 1), "before start"),
        id="semester-end-before-start",
    ),
    pytest.param(
        setting(JYJ_ORG, "requests.min_lead_days", 5, "more than max_lead_days"),
        id="min-lead-over-max-lead",
    ),
    pytest.param(setting(JYJ_ORG, "requests.merge_share", 1.5, "share"), id="merge-share-1.5"),
    pytest.param(
        setting(GLB_ORG, "alarm_minutes", True, "whole number"), id="bool-for-alarm-minutes"
    ),
    # -- holidays -----------------------------------------------------------------------------
    pytest.param(
        Case(
            rename_file(HOL_2026, "holidays/2027.toml"),
            "holidays/2027.toml",
            "year",
            "differs from the file name",
        ),
        id="holiday-year-not-file-name",
    ),
    pytest.param(
        setting(HOL_2026, "holidays[3].end", dt.date(2026, 4, 30), "before start"),
        id="holiday-end-before-start",
    ),
    pytest.param(
        setting(HOL_2026, "workdays[0].date", dt.date(2026, 1, 5), "weekday"),
        id="makeup-workday-on-weekday",
    ),
    pytest.param(
        setting(HOL_2026, "workdays[1].date", dt.date(2026, 2, 15), "also listed"),
        id="date-both-holiday-and-workday",
    ),
    pytest.param(
        setting(HOL_2026, "holidays[0].start", dt.date(2025, 11, 30), "not in 2026"),
        id="holiday-date-in-wrong-year",
    ),
    pytest.param(
        Case(
            set_key(
                HOL_2026,
                "holidays[0]",
                {"name": "元旦", "start": dt.date(9999, 12, 31), "end": dt.date(9999, 12, 31)},
            ),
            HOL_2026,
            "holidays[0].start",
            "not in 2026",
            lines=2,  # start and end are both wrong: one line each
        ),
        id="holiday-date-9999-no-traceback",
    ),
    # -- issue 10: who chairs, requests and approves; each organization's words --------------
    pytest.param(setting(JYJ_MEET, "meeting_types.jiceng.chair", [], "is an empty list"),
                 id="chair-empty-list"),
    pytest.param(setting(JYJ_MEET, "meeting_types.jiceng.chair[0]", "supervisor:副县长",
                         "nobody in directory.toml has the role"), id="chair-supervisor-role"),
    pytest.param(setting(JYJ_MEET, "meeting_types.dangwei.requested_by", ["everyone"],
                         "does not name who may request it"), id="requested-by-unknown"),
    pytest.param(setting(JYJ_MEET, "meeting_types.dangwei.requested_by[1]", "role:党委秘书",
                         "nobody in directory.toml has the role"), id="requested-by-role"),
    pytest.param(setting(JYJ_MEET, "meeting_types.dangwei.approved_by", "the boss",
                         "does not name an approver"), id="approved-by-unknown"),
    pytest.param(setting(GLB_MEET, "meeting_types.zhoulihui.approved_by", "director",
                         "only on-demand types are requested"), id="requests-on-a-fixed-type"),
    pytest.param(setting(GLB_ORG, "words.sektion", "科室", "is not a known key"),
                 id="words-unknown-key"),
    pytest.param(setting(GLB_MEET, "meeting_types.xitong.needs_confirmation", "",
                         "must be non-empty text"), id="needs-confirmation-empty"),
]


def _copy_policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(
        shipped_policies(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__")
    )
    return root


def _validate(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", "--policies", str(root)])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_problem_line(lines: list[str], file: Path, key: str, says: str) -> None:
    prefix = f"{file}: {key}: "
    mine = [line for line in lines if line.startswith(prefix)]
    assert mine, f"no line starts with {prefix!r}; stderr was:\n" + "\n".join(lines)
    assert any(says in line for line in mine), f"no line for {key} says {says!r}: {mine}"
    for line in mine:
        assert re.search(r" \([^()]*(\([^()]*\)[^()]*)*\)$", line), f"no (fix) at the end: {line}"


@pytest.fixture(autouse=True)
def _no_policy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALSYNC_POLICIES", raising=False)


@pytest.mark.parametrize("case", CASES)
def test_malformed_policy_is_reported(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_policies(tmp_path)
    case.edit(root)
    code, out, err = _validate(root, capsys)
    assert "Traceback" not in err
    assert code == 2, f"exit {code}; stdout:\n{out}\nstderr:\n{err}"
    assert ": ok" not in out
    lines = err.splitlines()
    _assert_problem_line(lines, root / case.file if case.file else root, case.key, case.says)
    assert all(line.startswith(str(root)) for line in lines), err
    assert len(lines) == case.lines, f"expected {case.lines} problem line(s):\n{err}"


def test_utf8_with_byte_order_mark_is_not_a_syntax_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_policies(tmp_path)
    path = root / GLB_MEET
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, _, err = _validate(root, capsys)
    # Either accept it (it *is* UTF-8) or say what is wrong; not "Invalid statement at line 1".
    assert code == 0 or any(w in err for w in ("BOM", "byte-order", "byte order")), err


def test_several_problems_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_policies(tmp_path)
    broken = [
        setting(GLB_MEET, f"{ZL0}.time", "9:3O", "not a time"),
        setting(GLB_MEET, "meeting_types.xitong.duration_minutes", "180", "whole number"),
        setting(GLB_DIR, "people.chen_mishu.email", "chen.jing", "mail address"),
        setting(JYJ_ORG, "requests.merge_share", 1.5, "share"),
        setting(JYJ_DIR, "people.pan_keyuan.email", "pan.yun(at)jyj", "mail address"),
        setting(HOL_2026, "holidays[3].end", dt.date(2026, 4, 30), "before start"),
    ]
    for case in broken:
        case.edit(root)
    code, out, err = _validate(root, capsys)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    for case in broken:
        _assert_problem_line(lines, root / case.file, case.key, case.says)
    assert len(lines) == len(broken), err


def test_shipped_policies_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy_policies(tmp_path)
    for policies in (root, None):
        code = main(["validate", *(["--policies", str(policies)] if policies else [])])
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), err
        lines = out.splitlines()
        assert [line.split(":")[0] for line in lines] == ["guanliban", "jiaoyuju", "holidays"]
        assert lines[0].startswith("guanliban: ok — 市行政服务中心管理办: ")
        assert lines[1].startswith("jiaoyuju: ok — 县教育局: ")
        assert lines[2] == "holidays: 2024, 2025, 2026"


def test_toml_writer_round_trips_the_shipped_files() -> None:
    files = sorted(shipped_policies().glob("*/*.toml"))
    assert len(files) >= 9
    for path in files:
        data = tomllib.loads(path.read_text("utf-8"))
        assert tomllib.loads(toml_dumps(data)) == data, path


