"""纪要与议定事项: one occurrence's minutes and decisions, and the follow-up list.

Rules in calsync.meetings.minutes; who sees goes through calsync.access (minutes: the
meeting's invitees; a decision: like its meeting); every POST through authorize(). Minutes or
a decision one may not see is a 404, like an unknown id (not even its existence)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from calsync import access
from calsync.errors import ConcurrentChange
from calsync.meetings import minutes as rules
from calsync.occurrence import TZ, Occurrence
from calsync.settings import MINUTES_FILES_DIR

from . import occurrences as occ_mod
from . import uploads
from .core import authorize, core, person_name, user

bp = Blueprint("minutes", __name__, url_prefix="/minutes")
FILES = MINUTES_FILES_DIR       # under the instance folder, never under static/


def _occurrence(series_uid: str, rid: str) -> Occurrence:
    """The occurrence if the user may read its minutes (calsync.access.sees_minutes: its
    invitees); else 404, like an unknown id — whoever may not read them is not told whether
    the meeting or its minutes exist."""
    occ = occ_mod.find(series_uid, rid)
    if occ is None or not access.sees_minutes(user().viewer, occ):
        abort(404)
    return occ


def _back(occ: Occurrence):
    return redirect(url_for("minutes.page", series_uid=occ.uid, rid=occ_mod.rid(occ)))


@bp.route("/<path:series_uid>/<rid>")
@login_required
def page(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    c, u = core(), user()
    key = occ_mod.rid(occ)
    org = c.policies.organizations[occ.organization]
    record = c.store.minutes.get_minutes(occ.uid, occ.nominal_start)
    items = c.store.minutes.action_items(occ.organization, series_uid=occ.uid,
                                         recurrence_id=occ.nominal_start)
    today = c.now().date()
    return render_template(
        "minutes.html", occ=occ, rid=key, org=org, record=record,
        html=rules.render_minutes(record.text) if record else "",
        items=items, notes=c.store.minutes.action_notes([i.id for i in items]), today=today,
        can_write=access.may_act(u.viewer, occ.organization, "minutes"),
        can_progress=lambda i: access.may_act(u.viewer, i.organization, "decision-progress",
                                              owner=i.section),
        overdue=lambda i: rules.overdue(i.status, i.due, today),
        sections=sorted(org.sections.values(), key=lambda s: s.id),
        section_name=lambda sid: org.sections[sid].name if sid in org.sections else sid,
        labels=rules.STATUS_LABELS, name=lambda pid: person_name(org, pid),
        file_types="、".join(rules.FILE_TYPES), max_mb=_max_bytes() // (1024 * 1024))


@bp.route("/<path:series_uid>/<rid>", methods=["POST"])
@login_required
def save(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    authorize("minutes", occ.organization)
    try:
        text = rules.clean_text(request.form.get("text", ""), rules.MAX_TEXT, "纪要")
        version = int(request.form.get("version", "0"))
    except ValueError:
        abort(400)
    except rules.MinutesError as exc:
        flash(str(exc), "warn")
        return _back(occ)
    try:
        stored = _store_file(request.files.get("file"))
    except rules.MinutesError as exc:
        flash(str(exc), "warn")
        return _back(occ)
    before = core().store.minutes.get_minutes(occ.uid, occ.nominal_start)
    if not text and stored is None and not (before and before.file_name):
        flash("请填写纪要内容或上传纪要文件", "warn")
        return _back(occ)
    try:
        core().store.minutes.save_minutes(
            occ.organization, occ.uid, occ.nominal_start, text=text,
            confidential=occ.klass == "CONFIDENTIAL", actor=user().username,
            expected_version=version, file_name=stored[0] if stored else None,
            file_label=stored[1] if stored else None)
    except ConcurrentChange as exc:
        if stored:
            (_files() / stored[0]).unlink(missing_ok=True)
        flash(str(exc), "warn")
    else:
        if stored and before and before.file_name:  # the new file replaced the old one
            (_files() / before.file_name).unlink(missing_ok=True)
        flash("纪要已保存", "ok")
    return _back(occ)


@bp.route("/<path:series_uid>/<rid>/decisions", methods=["POST"])
@login_required
def add_decision(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    authorize("minutes", occ.organization)
    org = core().policies.organizations[occ.organization]
    try:
        item = rules.check_decision(request.form.get("title", ""),
                                    request.form.get("section", ""),
                                    request.form.get("due", ""), org.sections)
    except rules.MinutesError as exc:
        flash(str(exc), "warn")
        return _back(occ)
    core().store.minutes.add_action_item(occ.organization, occ.uid, occ.nominal_start, item,
                                         meeting=occ.summary,
                                         confidential=occ.klass == "CONFIDENTIAL",
                                         actor=user().username)
    tasks = f"{org.short_name or org.name}会议议定事项"
    flash(f"已添加议定事项：{item.title}，将发布到“{tasks}”任务列表", "ok")
    return _back(occ)


def _item_occurrence(item) -> Occurrence | None:
    return occ_mod.find(item.series_uid, item.recurrence_id)


@bp.route("/decision/<int:item_id>/progress", methods=["POST"])
@login_required
def progress(item_id: int):
    c, u = core(), user()
    item = c.store.minutes.action_item(item_id)
    if item is None or item.organization != u.org.id:
        abort(404)
    if not access.sees_decision(u.viewer, item.organization, _item_occurrence(item),
                                item.confidential):
        abort(404)
    authorize("decision-progress", item.organization, owner=item.section)
    try:
        status, note = rules.check_progress(request.form.get("status", ""),
                                            request.form.get("note", ""))
        version = int(request.form.get("version", "0"))
    except ValueError:
        abort(400)
    except rules.MinutesError as exc:
        flash(str(exc), "warn")
        return _after_progress(item)
    try:
        c.store.minutes.report_progress(item.id, status=status, note=note, actor=u.username,
                                        expected_version=version)
    except ConcurrentChange as exc:
        flash(str(exc), "warn")
    else:
        flash(f"已更新：{item.title}（{rules.STATUS_LABELS[status]}）", "ok")
    return _after_progress(item)


def _after_progress(item):
    target = request.form.get("back")
    if target == "list":
        return redirect(url_for("minutes.decisions"))
    return redirect(url_for("minutes.page", series_uid=item.series_uid,
                            rid=item.recurrence_id.isoformat()))


@bp.route("/decisions")
@login_required
def decisions():
    """议定事项: the follow-up list. The organizer section and the leaders see every decision
    they may see (overdue ones first); everyone else their own section's."""
    c, u = core(), user()
    org = u.org
    viewer = u.viewer
    leaders = {s.supervisor for s in org.sections.values() if s.supervisor}
    if org.director:
        leaders.add(org.director)
    follows = access.follows_up(viewer, org.id, leaders)
    today = c.now().date()
    cache: dict[tuple[str, dt.datetime], Occurrence | None] = {}
    shown = []
    for item in c.store.minutes.action_items(org.id):
        if not access.lists_decision(viewer, follows, item.section):
            continue
        k = (item.series_uid, item.recurrence_id)
        if k not in cache:
            cache[k] = _item_occurrence(item)
        if access.sees_decision(viewer, org.id, cache[k], item.confidential):
            shown.append(item)
    late = [i for i in shown if rules.overdue(i.status, i.due, today)]
    rest = [i for i in shown if not rules.overdue(i.status, i.due, today)]
    return render_template(
        "decisions.html", org=org, late=late, rest=rest, follows=follows, today=today,
        notes=c.store.minutes.action_notes([i.id for i in shown]), labels=rules.STATUS_LABELS,
        can_progress=lambda i: access.may_act(viewer, i.organization, "decision-progress",
                                              owner=i.section),
        may_open=lambda i: cache.get((i.series_uid, i.recurrence_id)) is not None
        and access.sees_minutes(viewer, cache[(i.series_uid, i.recurrence_id)]),
        section_name=lambda sid: org.sections[sid].name if sid in org.sections else sid,
        name=lambda pid: person_name(org, pid), when=_when)


def _when(recurrence_id: dt.datetime) -> str:
    return f"{recurrence_id.astimezone(TZ):%Y-%m-%d %H:%M}"


@bp.route("/<path:series_uid>/<rid>/file")
@login_required
def download(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    record = core().store.minutes.get_minutes(occ.uid, occ.nominal_start)
    if record is None or not record.file_name:
        abort(404)
    path = _files() / record.file_name
    if not path.is_file():
        abort(404)
    return uploads.download(path, record.file_label or record.file_name)


# -- the uploaded file ----------------------------------------------------------------------

def _max_bytes() -> int:
    return int(current_app.config.get("CALSYNC_MINUTES_MAX_BYTES") or rules.MAX_FILE_BYTES)


def _files() -> Path:
    return Path(current_app.config["CALSYNC_INSTANCE"]) / FILES


def _store_file(upload) -> tuple[str, str] | None:
    """(stored name, the name it was sent as), or None when no file was sent."""
    if upload is None or not upload.filename:
        return None
    name = uploads.label(upload.filename)
    try:
        return uploads.save(upload.stream, _files(), rules.file_type(name), _max_bytes()), name
    except uploads.UploadTooLarge as exc:
        raise rules.MinutesError(f"纪要文件超过{exc.megabytes}MB，请压缩后再上传") from None
    except uploads.UploadEmpty:
        raise rules.MinutesError("纪要文件是空的") from None
