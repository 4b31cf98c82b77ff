"""请假: my leave notes, asking leave for one occurrence, withdrawing a note.

Who files leave for whom is calsync.access.may_file_leave (a person for themselves, a secretary
of the meeting's organization for anyone it names); a meeting or note the user may not know
exists answers 404, like an unknown id."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from calsync import access
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings.leave import LATE_LABEL, approvers, due_people, is_late
from calsync.occurrence import Occurrence
from calsync.store.health import StoreUnavailable

from . import occurrences as occ_mod
from .core import authorize, core, now, person_name, user
from .forms import LeaveForm, VersionForm, options

bp = Blueprint("leave", __name__, url_prefix="/leave")

WINDOW_DAYS = 28


def _value(occ: Occurrence) -> str:
    return f"{occ.uid}|{occ_mod.rid(occ)}"


def _label(occ: Occurrence) -> str:
    return f"{occ.start:%m月%d日 %H:%M} {occ.summary}"


def _mine(occ: Occurrence) -> bool:
    """May the user file leave for anyone at ``occ`` (themselves, or as its secretary)?"""
    viewer = user().viewer
    return any(access.may_file_leave(viewer, occ, pid) for pid in due_people(occ))


def _choices(form: LeaveForm, extra: Occurrence | None) -> dict[str, Occurrence]:
    u = user()
    today = now().date()
    occs = [o for o in occ_mod.in_range(today - dt.timedelta(days=1),
                                        today + dt.timedelta(days=WINDOW_DAYS), [u.org.id])
            if o.kind == "meeting" and o.status == "CONFIRMED" and _mine(o)]
    if extra is not None and _mine(extra) and _value(extra) not in {_value(o) for o in occs}:
        occs.insert(0, extra)
    by_value = {_value(o): o for o in occs}
    form.occurrence.choices = options([("", "请选择会议")]
                                      + [(v, _label(o)) for v, o in by_value.items()])
    # Everyone in the directory: secretaries record leave for outside attendees too (a school
    # head, 一把手, is external and has no account); _create checks the person is due.
    people = [(p.id, p.name) for p in u.org.people.values()]
    form.person.choices = options(people if u.is_secretary else [(u.username, u.name)])
    form.substitute.choices = options([("", "无"), *people])
    return by_value


def _requested() -> Occurrence | None:
    """The occurrence the form or the link names. A POST naming one the user may not know
    exists is a 404, like an unknown one; a link (GET) to it is ignored, like an unknown one."""
    raw = request.form.get("occurrence") if request.method == "POST" else None
    series, _, rid = (raw or "").partition("|")
    if not raw:
        series, rid = request.args.get("series", ""), request.args.get("rid", "")
    if not (series and rid):
        return None
    occ = occ_mod.find(series, rid)
    if occ is None or not access.knows(user().viewer, occ):
        if request.method == "POST":
            abort(404)
        return None
    return occ


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    u = user()
    form = LeaveForm()
    extra = _requested()
    by_value = _choices(form, extra)
    if request.method == "GET":
        form.person.data = u.username
        if extra is not None and _value(extra) in by_value:
            form.occurrence.data = _value(extra)
    elif form.validate() and _create(form, by_value):
        return redirect(url_for("leave.index"))
    store = core().store
    notes = (store.leave.leave_notes(u.org.id) if u.is_secretary
             else store.leave.leave_notes(u.org.id, person_id=u.username))
    return render_template("leave.html", form=form, notes=list(reversed(notes)),
                           name=lambda pid: person_name(u.org, pid), late_label=LATE_LABEL,
                           director_title=u.org.words.director_title)


def _create(form: LeaveForm, by_value: dict[str, Occurrence]) -> bool:
    u = user()
    occ = by_value.get(form.occurrence.data or "")
    if occ is None:
        form.occurrence.errors.append("请从列表中选择会议。")
        return False
    person = form.person.data if u.is_secretary else u.username
    authorize("leave", occ.organization, owner=person)
    if not access.may_file_leave(u.viewer, occ, person):
        form.person.errors.append("该人员不在此会议的参会名单中。")
        return False
    substitute = form.substitute.data or None
    if substitute == person:
        form.substitute.errors.append("代会人不能是请假人本人。")
        return False
    chair, director = approvers(u.org, occ, person)
    late = is_late(occ, now())
    try:
        core().store.leave.add_leave(
            occ.organization, occ.uid, occ.nominal_start, person,
            category=form.category.data, reason=(form.reason.data or "").strip(),
            substitute_id=substitute, late=late, needs_director=director is not None,
            chair_id=chair, director_id=director, actor=u.username)
    except StoreUnavailable:
        raise  # the database, not a duplicate: a 503 page says so
    except StoreError:
        form.occurrence.errors.append("此会议已有未完成的请假，请勿重复提交。")
        return False
    flash(f"已提交请假：{_label(occ)}" + (f"（{LATE_LABEL}）" if late else "")
          + f"，等待{person_name(u.org, chair)}审批。", "ok")
    return True


@bp.route("/<int:note_id>/withdraw", methods=["POST"])
@login_required
def withdraw(note_id: int):
    u = user()
    store = core().store
    note = store.leave.get_leave(note_id)
    if note is None or not access.knows_leave_note(u.viewer, note):
        abort(404)
    authorize("withdraw-leave", note.organization, owner=note.person_id)
    form = VersionForm()
    if not form.validate():
        abort(400)
    try:
        store.leave.withdraw_leave(note_id, actor=u.username, expected_version=form.version.data)
    except ConcurrentChange:
        flash("这条请假刚刚被审批或修改，请查看最新状态后再操作。", "warn")
    except StoreError:
        flash("这条请假已结束，无法撤回。", "warn")
    else:
        flash("已撤回请假。", "ok")
    return redirect(url_for("leave.index"))
