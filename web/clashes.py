"""冲突: the week's clashes of one organization and the secretaries' decisions on them.

Keep (acknowledge), cancel, move (to a suggested free slot or a custom time) and merge. Every
write carries the decision version(s) the secretary saw; a concurrent change re-renders the
form with what was typed and a message, never a silent overwrite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort, flash, render_template, request
from flask_login import login_required

from calsync import access
from calsync.app.service import resolve_and_record
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings.series_decisions import group_uid
from calsync.meetings.slots import suggest_slots
from calsync.occurrence import TZ, Occurrence, default_horizon

from . import clash_merge, names
from . import occurrences as occ_mod
from .clash_common import CONCURRENT, back_to_week, bp, decision_version, week_clashes
from .core import authorize, core, now, org_choice, secretary_required, user, visible
from .filters import label
from .forms import CancelForm, KeepForm, MoveForm, SeriesDecisionForm


@dataclass(frozen=True)
class ItemView:
    item: object
    occ: Occurrence | None
    version: int
    decidable: bool
    shown: bool            # False: confidential, shown as 忙碌


def _items(clash, index) -> list[ItemView]:
    u = user()
    out = []
    for it in clash.items:
        occ = occ_mod.lookup(index, it.series_uid, it.recurrence_id)
        decidable = occ is not None and u.secretary_of(occ.organization)
        out.append(ItemView(it, occ, decision_version(it.series_uid, it.recurrence_id), decidable,
                            occ is None or visible(u, occ)))
    return out


@bp.route("")
@login_required
@secretary_required
def index():
    org_id = org_choice(request.args.get("org"))
    week = occ_mod.Week.of(occ_mod.chosen_day(request.args.get("date"),
                                              request.args.get("week")))
    clashes, occs = week_clashes(org_id, week)
    idx = occ_mod.by_key(occs)
    by_rid = {(o.uid, occ_mod.rid(o)): o for o in occs}
    rows = []
    for c in clashes:
        shown = access.clash_for_viewer(user().viewer, c, by_rid)
        if shown is not None:
            rows.append((shown, _items(c, idx)))
    store = core().store
    decided = [d for d in store.decisions.active_decisions(org_id)
               if _in_week(d.recurrence_id, week)]
    stale = [d for d in decided if occ_mod.lookup(idx, d.series_uid, d.recurrence_id) is None]
    org = core().policies.organizations[org_id]
    return render_template("clashes.html", rows=rows, week=week, org_id=org_id,
                           orgs={}, stale=stale,
                           refused_merges=clash_merge.refused_merges(org_id, decided, idx),
                           merge_refusal=lambda items: clash_merge.item_refusal(org_id, items),
                           series_choices=lambda items: _series_choices(org, items),
                           subject_id=lambda clash, items: _subject_id(clash, items),
                           staff=org.staff,
                           series_decisions=store.series_decisions.active_series_decisions(org_id),
                           conflicts=store.conflicts.open_conflicts(org_id),
                           can_decide=user().secretary_of(org_id))


def _series_choices(org, items: list[ItemView]) -> list[tuple[str, str]]:
    """(group UID, label) of the clash's series a secretary may decide as a whole."""

    out: dict[str, str] = {}
    for iv in items:
        if iv.occ is not None and iv.decidable and iv.shown and iv.occ.kind == "meeting":
            out.setdefault(group_uid(org, iv.occ), iv.occ.summary)
    return list(out.items())


def _subject_id(clash, items: list[ItemView]) -> str | None:
    for iv in items:
        for a in iv.occ.attendees if iv.occ is not None else ():
            if a.email == clash.subject and a.person_id:
                return a.person_id
    return None


@bp.route("/series", methods=["POST"])
@login_required
@secretary_required
def series():
    """One decision for every occurrence of a series from a date on (issue 10): stagger it,
    or record that a person sends a substitute. Survives regeneration and policy edits."""


    org_id = request.form.get("org") or ""
    authorize("decide", org_id)
    form = SeriesDecisionForm()
    if not form.validate():
        flash("请填写完整：错开的分钟数（1–720），或代会人员与生效日期。", "warn")
        return back_to_week(org_id, form.week.data)
    org = core().policies.organizations[org_id]
    target = form.series.data
    known = {group_uid(org, o) for o in occ_mod.in_range(
        form.since.data, form.since.data + dt.timedelta(days=35), [org_id])}
    if target not in known:
        abort(400)
    person = form.person.data or None
    substitute = form.substitute.data or None
    if form.action.data == "delegate" and (person not in org.people
                                           or (substitute and substitute not in org.people)):
        abort(400)
    try:
        core().store.series_decisions.add_series_decision(
            org_id, target, form.action.data, since=form.since.data.isoformat(),
            actor=user().username, offset_minutes=form.offset.data or 0, person_id=person,
            substitute_id=substitute, note=form.note.data or "")
    except StoreError as exc:
        flash(f"无法保存：{exc}", "warn")
    else:
        flash("已对整个系列作出决定：此后每次会议都按此安排。", "ok")
    return back_to_week(org_id, form.week.data)


@bp.route("/series/<int:decision_id>/withdraw", methods=["POST"])
@login_required
@secretary_required
def series_withdraw(decision_id: int):
    org_id = request.form.get("org") or ""
    authorize("withdraw-decision", org_id)
    active = core().store.series_decisions.active_series_decisions(org_id)
    if not any(d.id == decision_id for d in active):
        abort(404)
    core().store.series_decisions.withdraw_series_decision(decision_id, actor=user().username)
    flash("已撤销对整个系列的决定。", "ok")
    return back_to_week(org_id, request.form.get("week"))


def _in_week(rid: dt.datetime, week: occ_mod.Week) -> bool:
    at = occ_mod.parse_instant(rid)
    return at is not None and week.monday <= at.astimezone(TZ).date() <= week.sunday


def _occurrence_for_decision(series_uid: str | None, rid: str | None) -> Occurrence:
    occ = occ_mod.find(series_uid or "", rid or "")
    if occ is None:
        abort(404)
    authorize("decide", occ.organization)
    return occ


@bp.route("/keep/<clash_id>", methods=["POST"])
@login_required
@secretary_required
def keep(clash_id: str):
    form = KeepForm()
    org_id = user().org.id
    authorize("ack", org_id)
    if not form.validate():
        abort(400)
    # Only a clash of the secretary's own organization, as found in the week they looked at:
    # an id from elsewhere would hide another unit's clash.
    week = occ_mod.parse_week(request.form.get("week"))
    if clash_id not in {c.id for c in week_clashes(org_id, week)[0]}:
        abort(403)
    core().store.acks.ack_clash(clash_id, form.fingerprint.data, actor=user().username,
                                note=form.note.data or "")
    flash("已保留：此冲突不再提示，除非相关会议再有变化。", "ok")
    return back_to_week(org_id, request.form.get("week"))


@bp.route("/cancel", methods=["GET", "POST"])
@login_required
@secretary_required
def cancel():
    form = CancelForm()
    series, rid = (form.series.data, form.rid.data) if request.method == "POST" else (
        request.args.get("series"), request.args.get("rid"))
    occ = _occurrence_for_decision(series, rid)
    week = request.values.get("week")
    if request.method == "GET":
        form.series.data, form.rid.data = occ.uid, occ_mod.rid(occ)
        form.version.data = decision_version(occ.uid, occ.nominal_start)
    elif form.validate():
        try:
            core().store.decisions.add_decision(occ.organization, occ.uid, occ.nominal_start,
                                                "cancel", actor=user().username, source="web",
                                                note=form.note.data or "",
                                                expected_version=form.version.data)
        except ConcurrentChange:
            return _concurrent("cancel.html", form, occ, week)
        flash(f"已取消：{occ.summary}（{occ.start:%m-%d %H:%M}）", "ok")
        return back_to_week(occ.organization, week)
    return render_template("cancel.html", form=form, occ=occ, week=week)


def _concurrent(template: str, form, occ: Occurrence, week: str | None, **extra):
    latest = core().store.decisions.active_decision(occ.uid, occ.nominal_start)
    # The person's name and what they decided (周敏，取消), never a user id (web/names.py).
    who = (f"{names.who(latest.created_by)}，{label(latest.action)}" if latest
           else "决定已撤销")
    form.version.data = latest.version if latest else 0
    return render_template(template, form=form, occ=occ, week=week,
                           concurrent=CONCURRENT.format(who=who), **extra), 409


@bp.route("/move", methods=["GET", "POST"])
@login_required
@secretary_required
def move():
    form = MoveForm()
    series, rid = (form.series.data, form.rid.data) if request.method == "POST" else (
        request.args.get("series"), request.args.get("rid"))
    occ = _occurrence_for_decision(series, rid)
    week = request.values.get("week")
    c = core()
    day = occ.start.astimezone(TZ).date()
    after = max(now(), dt.datetime.combine(day, dt.time(0), tzinfo=TZ))
    others = occ_mod.in_range(after.date(), after.date() + dt.timedelta(days=28),
                              [occ.organization])
    slots = suggest_slots(occ, others, (), calendar=c.policies.calendar, after=after)
    if request.method == "GET":
        form.series.data, form.rid.data = occ.uid, occ_mod.rid(occ)
        form.version.data = decision_version(occ.uid, occ.nominal_start)
    elif form.validate():
        start = occ_mod.parse_instant(form.slot.data) if form.slot.data else None
        if start is None and form.start.data is not None:
            start = form.start.data.replace(tzinfo=TZ)
        if start is None:
            form.start.errors.append("请选择一个建议时间，或填写自定义时间。")
        else:
            end = start + (occ.end - occ.start)
            try:
                c.store.decisions.add_decision(occ.organization, occ.uid, occ.nominal_start,
                                               "move", actor=user().username, source="web",
                                               new_start=start, new_end=end,
                                               note=form.note.data or "",
                                               expected_version=form.version.data)
            except ConcurrentChange:
                return _concurrent("move.html", form, occ, week, slots=slots)
            flash(f"已调整：{occ.summary} → {start:%Y-%m-%d %H:%M}", "ok")
            return back_to_week(occ.organization, week)
    return render_template("move.html", form=form, occ=occ, week=week, slots=slots)


@bp.route("/withdraw", methods=["POST"])
@login_required
@secretary_required
def withdraw():
    """Withdraw a stale decision (its occurrence no longer exists) or a merge the core
    ignores (calsync.meetings.adjust): back to the policy."""
    series = request.form.get("series", "")
    rid = occ_mod.parse_instant(request.form.get("rid"))
    decision = core().store.decisions.active_decision(series, rid) if rid else None
    if decision is None or rid is None:
        abort(404)
    org_id = decision.organization
    authorize("withdraw-decision", org_id)
    try:
        version = int(request.form.get("version", ""))
        core().store.decisions.withdraw_decision(series, rid, actor=user().username,
                                                 expected_version=version)
    except ConcurrentChange:
        flash(CONCURRENT.format(who="请刷新后查看"), "warn")
    except (ValueError, StoreError):
        flash("无法撤销该决定：它可能已被撤销，请刷新页面。", "warn")
    else:
        both = clash_merge.withdraw_partner(decision, user().username)
        flash("已撤销该合并及其对另一会议的取消。" if both else "已撤销过期的决定。", "ok")
    return back_to_week(org_id, request.form.get("week"))


@bp.route("/conflicts/<int:conflict_id>", methods=["POST"])
@login_required
@secretary_required
def resolve(conflict_id: int):
    """A calendar-app edit: keep the calendar's version or the policy's."""

    c = core()
    conflict = c.store.conflicts.get_conflict(conflict_id)
    if conflict is None:
        abort(404)
    authorize("resolve", conflict.organization)
    keep = request.form.get("keep")
    if keep not in ("server", "policy"):
        abort(400)
    if not conflict.is_open:
        flash("该修改已由他人处理。", "warn")
    else:
        start, end = default_horizon(now().date())
        _, recorded = resolve_and_record(c.policies, c.store, conflict_id, keep,
                                         user().username, start, end)
        flash(f"已保留日历中的修改，记录了{recorded}项决定。" if keep == "server"
              else "已保留制度规定，下次发布时覆盖日历中的修改。", "ok")
    return back_to_week(conflict.organization, request.form.get("week"))
