"""合并: one meeting from two that clash (篇二 二.3), unless it would widen a confidential one.

calsync.access.may_merge decides: merging a confidential meeting with people who do not read
it would show it to them (篇二 四.5), so the page says why and offers 调整 instead — on the
clashes page (no 合并 button) and here (no 确认合并). The core ignores such a merge whoever
stored it (calsync.meetings.adjust); the clashes page lists any left in the store for withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import flash, render_template, request
from flask_login import login_required

from calsync import access
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings.merge import cancelled_note, merged
from calsync.occurrence import TZ, Occurrence

from . import occurrences as occ_mod
from .clash_common import CONCURRENT, back_to_week, bp, decision_version, week_clashes
from .core import authorize, core, org_choice, secretary_required, user
from .forms import MergeForm, options


def refusal(org_id: str, a: Occurrence | None, b: Occurrence | None) -> str | None:
    """Why these two may not be merged (the reason shown to the secretary), or None."""
    if a is None or b is None:
        return None
    org = core().policies.organizations[org_id]
    return access.may_merge(a, b, access.secretaries_of(org))


def item_refusal(org_id: str, items: Iterable) -> str | None:
    """For a clash row of the clashes page: why its two meetings may not be merged."""
    occs = [iv.occ for iv in items]
    return refusal(org_id, occs[0], occs[1]) if len(occs) == 2 else None


def refused_merges(org_id: str, decisions: Iterable, idx: dict) -> list[tuple[object, str]]:
    """Stored merges the core ignores (an older page, a script): (decision, reason)."""
    out = []
    for d in decisions:
        other = (d.payload or {}).get("other") if d.action == "merge" else None
        if not other or len(other) != 2:
            continue
        why = refusal(org_id, occ_mod.lookup(idx, d.series_uid, d.recurrence_id),
                      occ_mod.lookup(idx, other[0], other[1]))
        if why is not None:
            out.append((d, why))
    return out


@bp.route("/<clash_id>/merge", methods=["GET", "POST"])
@login_required
@secretary_required
def merge(clash_id: str):
    org_id = org_choice(request.values.get("org"))
    week = occ_mod.parse_week(request.values.get("week"))
    clashes, occs = week_clashes(org_id, week)
    clash = next((x for x in clashes if x.id == clash_id), None)
    idx = occ_mod.by_key(occs)
    pair = [occ_mod.lookup(idx, it.series_uid, it.recurrence_id)
            for it in (clash.items if clash else ())]
    if clash is None or len(pair) != 2 or None in pair:
        flash("该冲突已不存在（可能已被其他秘书处理），请查看最新列表。", "warn")
        return back_to_week(org_id, week.label)
    a, b = pair
    assert a is not None and b is not None
    authorize("decide", a.organization)
    authorize("decide", b.organization)
    refused = refusal(org_id, a, b)
    if refused is not None:   # nothing is stored; 调整 is offered for either meeting
        page = render_template("merge_refused.html", clash=clash, a=a, b=b, org_id=org_id,
                               week=week, refused=refused)
        return (page, 409) if request.method == "POST" else page
    org = core().policies.organizations[org_id]
    form = MergeForm()
    form.time.choices = options([("a", f"{a.start:%m月%d日 %H:%M}（{a.summary}，较早）"),
                                 ("b", f"{b.start:%m月%d日 %H:%M}（{b.summary}）"),
                                 ("custom", "自定义时间")])
    if request.method == "GET":
        form.time.data = "a"
        form.version_a.data = decision_version(a.uid, a.nominal_start)
        form.version_b.data = decision_version(b.uid, b.nominal_start)
    keep, other, start = a, b, a.start
    concurrent = None
    if request.method == "POST" and form.validate():
        if form.time.data == "b":
            keep, other, start = b, a, b.start
        elif form.time.data == "custom":
            if form.start.data is None:
                form.start.errors.append("请填写自定义时间。")
            else:
                start = form.start.data.replace(tzinfo=TZ)
        if not form.start.errors and request.form.get("action") == "merge":
            preview = merged(keep, other, org, start)
            versions = ((form.version_a.data, form.version_b.data) if keep is a
                        else (form.version_b.data, form.version_a.data))
            try:
                core().store.decisions.add_merge(
                    org_id, keep=(keep.uid, keep.nominal_start),
                    other=(other.uid, other.nominal_start), new_start=start,
                    new_end=preview.end, actor=user().username, source="web",
                    expected_versions=versions,
                    note=form.note.data or cancelled_note(preview, start))
            except ConcurrentChange:
                concurrent = CONCURRENT.format(who="请查看会议页面的决定记录")
                form.version_a.data = decision_version(a.uid, a.nominal_start)
                form.version_b.data = decision_version(b.uid, b.nominal_start)
            else:
                flash(f"已合并：{preview.summary}，{start:%Y-%m-%d %H:%M}", "ok")
                return back_to_week(org_id, week.label)
    preview = merged(keep, other, org, start)
    page = render_template("merge.html", form=form, clash=clash, a=a, b=b, keep=keep,
                           other=other, preview=preview, org_id=org_id, week=week,
                           other_note=cancelled_note(preview, start), concurrent=concurrent)
    return (page, 409) if concurrent else page


def withdraw_partner(decision, actor: str) -> bool:
    """Withdrawing a merge also withdraws its own cancel of the other meeting (add_merge
    wrote both): otherwise that meeting would stay cancelled with nothing merged into it."""
    other = (decision.payload or {}).get("other") if decision.action == "merge" else None
    if not other or len(other) != 2:
        return False
    store = core().store
    other_rid = occ_mod.parse_instant(other[1])    # the payload keeps it as ISO text
    d = store.decisions.active_decision(other[0], other_rid) if other_rid else None
    if (d is None or other_rid is None or d.action != "cancel"
            or (d.payload or {}).get("merged_into")
            != [decision.series_uid, decision.recurrence_id.isoformat()]):
        return False
    try:
        store.decisions.withdraw_decision(other[0], other_rid, actor=actor,
                                          expected_version=d.version)
    except (ConcurrentChange, StoreError):
        return False
    return True
