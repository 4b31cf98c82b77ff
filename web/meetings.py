"""会议: the week view and one meeting's page (attendees, leave, decisions)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from calsync import access
from calsync.errors import ConcurrentChange
from calsync.meetings import agenda, links

from . import calendar_layout as layout
from . import calendar_views as views
from . import occurrences as occ_mod
from .core import authorize, core, invited, now, org_choice, person_name, user
from .forms import ConfirmForm
from .notices import replies_for

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


@bp.route("")
@login_required
def week():
    """The week as a time grid (a day list on phones); ``?date=YYYY-MM-DD`` picks the week
    holding that day (``?week=YYYY-Www`` still works), ``?focus=`` marks one occurrence."""
    org_id = org_choice(request.args.get("org"))
    chosen = occ_mod.chosen_day(request.args.get("date"), request.args.get("week"))
    wk = occ_mod.Week.of(chosen)
    found = views.entries(user().viewer, occ_mod.in_range(wk.monday, wk.sunday, [org_id]),
                          request.args.get("focus"))
    days = views.by_day(wk.days, found, core().policies.calendar, now().date())
    return render_template("meetings.html", days=days, week=wk, chosen=chosen, org_id=org_id,
                           legend_items=views.LEGEND, rows=layout.row_labels(),
                           prev=wk.monday - dt.timedelta(days=7),
                           next=wk.monday + dt.timedelta(days=7), today=now().date())


@bp.route("/month")
@login_required
def month():
    """The month: each day with its meetings, and 休/补班 from the holiday tables."""
    org_id = org_choice(request.args.get("org"))
    chosen = occ_mod.chosen_day(request.args.get("date"), None)
    weeks = layout.month_weeks(chosen)
    first, last = weeks[0][0], weeks[-1][-1]
    found = views.entries(user().viewer, occ_mod.in_range(first, last, [org_id]))
    days = views.by_day([d for w in weeks for d in w], found, core().policies.calendar,
                        now().date())
    return render_template("month.html", weeks=[days[i:i + 7] for i in range(0, len(days), 7)],
                           chosen=chosen, org_id=org_id, legend_items=views.LEGEND,
                           prev=layout.shift_month(chosen, -1),
                           next=layout.shift_month(chosen, 1), today=now().date())


@bp.route("/<path:series_uid>/<rid>")
@login_required
def meeting(series_uid: str, rid: str):
    # 忙碌 or another organization's: answered like an unknown id, so neither a request number
    # nor a series UID tells which busy block is which meeting
    occ = occ_mod.known(series_uid, rid)
    u = user()
    c = core()
    org = c.policies.organizations[occ.organization]
    key = occ_mod.rid(occ)
    notes = c.store.leave.leave_for_occurrence(occ.uid, occ.nominal_start)
    chair_id = occ.chair.person_id if occ.chair else None
    leave_rows = [(n, access.sees_leave_reason(u.viewer, occ.organization, n.person_id,
                                               (n.chair_id, n.director_id, chair_id)))
                  for n in notes]
    open_by_person = {n.person_id: n for n in notes if n.is_open}
    pending = [mt.needs_confirmation for mt in
               (org.meeting_types.get(t) for t in occ.meeting_types)
               if mt is not None and mt.needs_confirmation]
    return render_template(
        "meeting.html", occ=occ, shown=True, org=org, leave_rows=leave_rows,
        open_by_person=open_by_person, name=lambda pid: person_name(org, pid),
        history=c.store.decisions.decision_history(occ.uid, occ.nominal_start),
        audit=c.store.audit.audit_log(target=f"decision:{occ.uid}@{key}"),
        can_ask_leave=occ.kind == "meeting" and invited(u, occ), rid=key,
        # only what the regulation says waits for a decision (not a 暂定 holiday date)
        can_confirm=bool(pending) and occ.status == "TENTATIVE"
        and u.secretary_of(occ.organization),
        pending=pending, replies=replies_for(occ.uid, key),
        takes_topics=agenda.spec_for(org, occ) is not None,
        can_read_minutes=access.sees_minutes(u.viewer, occ),  # 纪要: invitees only
        week_link=request.script_root + links.week_path(occ))  # where it is now, if moved


@bp.route("/<path:series_uid>/<rid>/confirm", methods=["POST"])
@login_required
def confirm(series_uid: str, rid: str):
    """篇一 五.1 / 六.1: a secretary records the 主任办公会's decision or the city's approval;
    the meeting stops being TENTATIVE (a stored decision, applied at every generation)."""

    occ = occ_mod.known(series_uid, rid)
    authorize("decide", occ.organization)
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    try:
        core().store.decisions.add_decision(occ.organization, occ.uid, occ.nominal_start, "confirm",
                                            actor=user().username, source="web",
                                            note=form.note.data or "",
                                            expected_version=form.version.data)
    except ConcurrentChange:
        flash("另一位秘书刚刚对此会议作出了决定，请核对后再提交。", "warn")
    else:
        flash(f"已确认：{occ.summary}", "ok")
    return redirect(url_for("meetings.meeting", series_uid=occ.uid, rid=occ_mod.rid(occ)))
