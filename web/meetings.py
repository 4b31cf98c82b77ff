"""会议: the week view and one meeting's page (attendees, leave, decisions)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from calsync import access, agenda
from calsync.errors import ConcurrentChange
from calsync.leave import reason_visible
from calsync.occurrence import TZ

from . import occurrences as occ_mod
from .core import authorize, core, invited, org_choice, person_name, user
from .notices import replies_for

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.route("")
@login_required
def week():
    org_id = org_choice(request.args.get("org"))
    wk = occ_mod.parse_week(request.args.get("week"))
    u = user()
    days = {d: [] for d in wk.days}
    for occ in occ_mod.in_range(wk.monday, wk.sunday, [org_id]):
        d = occ.start.astimezone(TZ).date()
        seen = access.visibility(u.viewer, occ)
        if d in days and seen != access.NONE:
            days[d].append((occ, seen == access.FULL))
    return render_template("meetings.html", days=days, week=wk, org_id=org_id,
                           orgs=core().policies.organizations)


@bp.route("/<path:series_uid>/<rid>")
@login_required
def meeting(series_uid: str, rid: str):
    occ = occ_mod.find(series_uid, rid)
    if occ is None:
        abort(404)
    u = user()
    seen = access.visibility(u.viewer, occ)
    if seen == access.NONE:  # another organization's meeting: not even its existence
        abort(404)
    if seen != access.FULL:
        return render_template("meeting.html", occ=occ, shown=False)
    c = core()
    org = c.policies.organizations[occ.organization]
    key = occ_mod.rid(occ)
    notes = c.store.leave_for_occurrence(occ.uid, key)
    chair_id = occ.chair.person_id if occ.chair else None
    # A role counts in its own organization only: another unit's secretary is no secretary here.
    role = u.role if u.org.id == occ.organization else "staff"
    leave_rows = [(n, reason_visible(u.username, role, n.person_id,
                                     (n.chair_id, n.director_id, chair_id)))
                  for n in notes]
    open_by_person = {n.person_id: n for n in notes if n.is_open}
    pending = [mt.needs_confirmation for mt in
               (org.meeting_types.get(t) for t in occ.meeting_types)
               if mt is not None and mt.needs_confirmation]
    return render_template(
        "meeting.html", occ=occ, shown=True, org=org, leave_rows=leave_rows,
        open_by_person=open_by_person, name=lambda pid: person_name(org, pid),
        history=c.store.decision_history(occ.uid, key),
        audit=c.store.audit_log(target=f"decision:{occ.uid}@{key}"),
        can_ask_leave=occ.kind == "meeting" and invited(u, occ), rid=key,
        # only what the regulation says waits for a decision (not a 暂定 holiday date)
        can_confirm=bool(pending) and occ.status == "TENTATIVE"
        and u.secretary_of(occ.organization),
        pending=pending, replies=replies_for(occ.uid, key),
        takes_topics=agenda.spec_for(org, occ) is not None,
        can_read_minutes=access.invited(u.viewer, occ))  # 纪要: invitees only


@bp.route("/<path:series_uid>/<rid>/confirm", methods=["POST"])
@login_required
def confirm(series_uid: str, rid: str):
    """篇一 五.1 / 六.1: a secretary records the 主任办公会's decision or the city's approval;
    the meeting stops being TENTATIVE (a stored decision, applied at every generation)."""
    from .forms import ConfirmForm

    occ = occ_mod.find(series_uid, rid)
    if occ is None:
        abort(404)
    authorize("decide", occ.organization)
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    try:
        core().store.add_decision(occ.organization, occ.uid, occ_mod.rid(occ), "confirm",
                                  actor=user().username, source="web",
                                  note=form.note.data or "", expected_version=form.version.data)
    except ConcurrentChange:
        flash("另一位秘书刚刚对此会议作出了决定，请核对后再提交。", "warn")
    else:
        flash(f"已确认：{occ.summary}", "ok")
    return redirect(url_for("meetings.meeting", series_uid=occ.uid, rid=occ_mod.rid(occ)))
