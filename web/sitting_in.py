"""列席 on one occurrence (篇一 二.1 "根据议题应参会的同志列席会议，列席人员由会议主持人
确定"): the chair of the occurrence, or a secretary of its organization, adds people as
NON-PARTICIPANT. The check is calsync.access.may_act's ``sit-in`` with the chair as owner.

The meeting page shows the panel through the template global ``sitting_in_panel``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from calsync import access
from calsync.errors import ConcurrentChange, StoreError
from calsync.occurrence import Occurrence

from . import occurrences as occ_mod
from .core import authorize, core, user

bp = Blueprint("sitting_in", __name__)


def _chair_id(occ: Occurrence) -> str | None:
    return occ.chair.person_id if occ.chair else None


def _back(occ: Occurrence):
    return redirect(url_for("meetings.meeting", series_uid=occ.uid, rid=occ_mod.rid(occ)))


@bp.app_template_global()
def sitting_in_panel(occ: Occurrence) -> dict[str, Any]:
    """What the meeting page shows: the stored 列席 rows, and whether (and whom) the reader
    may add."""
    u = user()
    may = (current_user.is_authenticated and occ.kind == "meeting"
           and access.may_act(u.viewer, occ.organization, access.SIT_IN, owner=_chair_id(occ)))
    org = core().policies.organizations[occ.organization]
    rows = core().store.adhoc.sitting_in(occ.organization, occ.uid, occ.nominal_start)
    named = {a.person_id for a in occ.attendees if a.person_id}
    choices = [p for p in org.people.values() if p.id not in named] if may else []
    return {"may": may, "rows": rows, "choices": choices,
            "name": lambda pid: org.people[pid].name if pid in org.people else pid}


@bp.route("/meetings/<path:series_uid>/<rid>/sitting-in", methods=["POST"])
@login_required
def add(series_uid: str, rid: str):
    occ = occ_mod.find(series_uid, rid)
    if occ is None:
        abort(404)
    authorize(access.SIT_IN, occ.organization, owner=_chair_id(occ))
    org = core().policies.organizations[occ.organization]
    person_id = request.form.get("person", "")
    if person_id not in org.people or occ.kind != "meeting":
        flash("请选择通讯录中的人员。", "warn")
        return _back(occ)
    if any(a.person_id == person_id for a in occ.attendees):
        flash(f"{org.people[person_id].name}已在参会人员中。", "warn")
        return _back(occ)
    try:
        core().store.adhoc.add_sitting_in(occ.organization, occ.uid, occ.nominal_start, person_id,
                                          actor=user().username)
    except StoreError:
        flash(f"{org.people[person_id].name}已列席。", "warn")
    else:
        flash(f"已增加列席人员：{org.people[person_id].name}", "ok")
    return _back(occ)


@bp.route("/sitting-in/<int:sitting_id>/withdraw", methods=["POST"])
@login_required
def withdraw(sitting_id: int):
    store = core().store
    row = store.adhoc.get_sitting_in(sitting_id)
    if row is None:
        abort(404)
    occ = occ_mod.find(row.series_uid, row.recurrence_id)
    authorize(access.SIT_IN, row.organization, owner=_chair_id(occ) if occ else None)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    try:
        store.adhoc.withdraw_sitting_in(sitting_id, expected_version=version, actor=user().username)
    except ConcurrentChange:
        flash("列席人员刚被他人修改，请核对后再操作。", "warn")
    except StoreError:
        flash("该列席人员已撤销。", "warn")
    else:
        flash("已撤销列席。", "ok")
    if occ is None:
        return redirect(url_for("meetings.week"))
    return _back(occ)
