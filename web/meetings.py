"""会议: the week view and one meeting's page (attendees, leave, decisions)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from calsync.leave import reason_visible
from calsync.occurrence import TZ

from . import occurrences as occ_mod
from .core import core, invited, org_choice, person_name, user, visible
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
        if d in days:
            days[d].append((occ, visible(u, occ)))
    return render_template("meetings.html", days=days, week=wk, org_id=org_id,
                           orgs=core().policies.organizations)


@bp.route("/<path:series_uid>/<rid>")
@login_required
def meeting(series_uid: str, rid: str):
    occ = occ_mod.find(series_uid, rid)
    if occ is None:
        abort(404)
    u = user()
    if not visible(u, occ):
        return render_template("meeting.html", occ=occ, shown=False)
    c = core()
    org = c.policies.organizations[occ.organization]
    key = occ_mod.rid(occ)
    notes = c.store.leave_for_occurrence(occ.uid, key)
    chair_id = occ.chair.person_id if occ.chair else None
    role = "secretary" if u.secretary_of(occ.organization) else u.role
    leave_rows = [(n, reason_visible(u.username, role, n.person_id,
                                     (n.chair_id, n.director_id, chair_id)))
                  for n in notes]
    open_by_person = {n.person_id: n for n in notes if n.is_open}
    return render_template(
        "meeting.html", occ=occ, shown=True, org=org, leave_rows=leave_rows,
        open_by_person=open_by_person, name=lambda pid: person_name(org, pid),
        history=c.store.decision_history(occ.uid, key),
        audit=c.store.audit_log(target=f"decision:{occ.uid}@{key}"),
        can_ask_leave=occ.kind == "meeting" and invited(u, occ), rid=key,
        replies=replies_for(occ.uid, key))
