"""待我审批: leave notes waiting for me (as chair or director) and meeting requests.

Whose step a note waits for, who decides a request and who may know either exists are
calsync.access's rules (leave_step, may_decide_leave, knows_leave_note, sees_request,
may_decide_request); a note or request one may not know answers 404 like an unknown id."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from calsync import access
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings.requests import categories

from . import occurrences as occ_mod
from .core import authorize, core, person_name, user
from .forms import DecideForm

bp = Blueprint("approvals", __name__, url_prefix="/approvals")

STALE = "此事项刚刚被他人处理或修改，请查看最新状态。"


@bp.route("")
@login_required
def index():
    u = user()
    viewer = u.viewer
    store = core().store
    leave = []
    for n in store.leave.leave_notes(u.org.id, status="pending"):
        step = access.leave_step(viewer, n)
        if step:
            occ = occ_mod.find(n.series_uid, n.recurrence_id)
            # an approver not invited to a confidential meeting decides by person, category,
            # reason and time: the meeting itself is not named to them (篇二 四.5)
            leave.append((n, step, occ if occ is not None and access.knows(viewer, occ)
                          else None))
    reqs = [r for r in store.requests.meeting_requests(u.org.id, status="pending")
            if access.may_decide_request(viewer, r)]
    return render_template("approvals.html", leave=leave, reqs=reqs,
                           name=lambda pid: person_name(u.org, pid),
                           kinds=dict(categories(u.org)), sections=u.org.sections,
                           director_title=u.org.words.director_title)


@bp.route("/leave/<int:note_id>", methods=["POST"])
@login_required
def leave(note_id: int):
    u = user()
    store = core().store
    note = store.leave.get_leave(note_id)
    if note is None or not access.knows_leave_note(u.viewer, note):
        abort(404)
    authorize("approve", note.organization)
    form = DecideForm()
    step = form.step.data or ""
    if not access.may_decide_leave(u.viewer, note, step):
        abort(403)
    if not form.validate():
        abort(400)
    approve = form.approve.data == "1"
    try:
        store.leave.decide_leave(note_id, step, approve, actor=u.username,
                                 expected_version=form.version.data)
    except ConcurrentChange:
        flash(STALE, "warn")
    except StoreError:
        flash("这条请假已结束，无需审批。", "warn")
    else:
        who = person_name(u.org, note.person_id)
        flash(f"已{'批准' if approve else '驳回'}{who}的请假。", "ok")
    return redirect(url_for("approvals.index"))


@bp.route("/requests/<int:request_id>", methods=["POST"])
@login_required
def request_decision(request_id: int):
    u = user()
    store = core().store
    req = store.requests.get_request(request_id)
    if req is None or not access.sees_request(u.viewer, req):
        abort(404)
    authorize("approve", req.organization)
    if not access.may_decide_request(u.viewer, req):
        abort(403)
    form = DecideForm()
    if not form.validate():
        abort(400)
    approve = form.approve.data == "1"
    try:
        store.requests.decide_request(request_id, approve, actor=u.username,
                                      expected_version=form.version.data, note=form.note.data or "")
    except ConcurrentChange:
        flash(STALE, "warn")
    except StoreError:
        flash("该申请已处理，无需审批。", "warn")
    else:
        flash(f"已{'批准' if approve else '驳回'}会议申请第{request_id}号。", "ok")
    return redirect(url_for("approvals.index"))
