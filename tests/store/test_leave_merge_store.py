"""Leave, merges and requests read from the store by build(): what reaches the rendered
calendar, and a decision rewrites only its own series' bytes."""

from __future__ import annotations

import datetime as dt

from calsync.occurrence import TZ
from tests.support.gen_helpers import shipped
from tests.unit.test_leave_merge import MARCH, MON


def test_stored_inputs_reach_the_rendered_calendar(store) -> None:  # type: ignore[no-untyped-def]
    """Approved leave, an approved request and a merge, read from the store by build()."""
    from calsync.app.service import build

    uid = "zhoulihui@guanliban.calsync"
    note = store.leave.add_leave("guanliban", uid, MON, "sun_keyuan", category="病假",
                                 reason="私人原因-不应出现", substitute_id="fu_mishuzhang",
                                 late=False,
                                 needs_director=False, chair_id="wang_fuzhuren", director_id=None,
                                 actor="chen_mishu")
    pending = build(shipped(), store, *MARCH, ["guanliban"])
    assert "DELEGATED" not in b"".join(r.ics for r in pending.resources).decode()
    store.leave.decide_leave(note.id, "chair", True, actor="wang_fuzhuren",
                             expected_version=note.version)
    req = store.requests.add_request("jiaoyuju", section_id="jiaoyugu", category="jiceng",
                                     title="开学工作布置<b>", audience=["school_1", "school_2"],
                                     start="2026-03-10T09:00:00+08:00",
                                     end="2026-03-10T11:00:00+08:00",
                                     room=None, important=False, approver_id="song_fujuzhang",
                                     actor="x")
    store.requests.decide_request(req.id, True, actor="song_fujuzhang",
                                  expected_version=req.version)
    fri = dt.datetime(2026, 3, 6, 9, 0, tzinfo=TZ)
    store.decisions.add_merge("guanliban", keep=(uid, MON),
                              other=("kewuhui-zonghe-fri@guanliban.calsync", fri),
                              new_start=MON, new_end=MON + dt.timedelta(hours=2),
                              actor="chen_mishu", note="已并入周例会")
    built = build(shipped(), store, *MARCH, ["guanliban", "jiaoyuju"])
    text = b"".join(r.ics for r in built.resources).decode().replace("\r\n ", "")  # unfolded
    assert "PARTSTAT=DELEGATED" in text and "私人原因" not in text
    assert f"UID:request-{req.id}@jiaoyuju.calsync" in text
    assert "开学工作布置<b>（基层业务工作会）" in text
    assert "（合并召开）" in text and "已并入周例会" in text
    assert not built.generation.stale
    again = build(shipped(), store, *MARCH, ["guanliban", "jiaoyuju"])
    assert [r.ics for r in again.resources] == [r.ics for r in built.resources]


def test_a_decision_changes_only_its_own_series_bytes(store) -> None:  # type: ignore[no-untyped-def]
    """DTSTAMP comes from each series' own newest input: a publish after one decision
    rewrites (and bumps SEQUENCE on) that series only."""
    from calsync.app.service import build

    before = {r.uid: r.ics for r in build(shipped(), store, *MARCH, ["guanliban"]).resources}
    store.decisions.add_decision("guanliban", "zhoulihui@guanliban.calsync", MON,
                                 "cancel",
                                 actor="chen_mishu", source="web", note="改期")
    after = {r.uid: r.ics for r in build(shipped(), store, *MARCH, ["guanliban"]).resources}
    changed = {uid for uid in before if before[uid] != after[uid]}
    # 周例会 itself, and the Monday 科务会 that follow it (a cancelled 周例会 leaves them
    # where the rule put them: their start moves back from 周例会's end)
    # (in March 周例会 is its duty leader's part: zhoulihui--<leader>@…)
    weekly = {u for u in before if u.startswith("zhoulihui--")}
    assert weekly and weekly <= changed
    assert changed <= {*weekly, *(u for u in before if u.startswith("kewuhui-") and "-mon@" in u)}
