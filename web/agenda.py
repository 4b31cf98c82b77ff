"""议题与议程: topics for one occurrence, the 分管领导's consent, the organizer section's
agenda and the chair's approval (篇一 二.4, 三.4). Rules in calsync.meetings.agenda; every POST goes
through authorize() with the one person the step belongs to."""

from __future__ import annotations

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
from calsync.meetings import agenda as rules
from calsync.occurrence import Occurrence
from calsync.settings import AGENDA_FILES_DIR

from . import occurrences as occ_mod
from . import uploads
from .core import authorize, core, person_name, user

bp = Blueprint("agenda", __name__, url_prefix="/agenda")
FILES = AGENDA_FILES_DIR       # under the instance folder, never under static/
CONCURRENT = "其他人刚刚修改了议题或议程，请刷新页面核对后再提交。"


def _occurrence(series_uid: str, rid: str) -> tuple[Occurrence, rules.AgendaSpec]:
    """The occurrence if the user may see it in full and it takes topics; else 404, like an
    unknown id (a confidential meeting one is not invited to is not even told apart)."""
    occ = occ_mod.known(series_uid, rid)
    spec = rules.spec_for(core().policies.organizations[occ.organization], occ)
    if spec is None:
        abort(404)
    return occ, spec


def _own(series_uid: str) -> None:
    """POSTs: another organization's user is refused before any lookup (403 whether or not
    the occurrence exists)."""
    if occ_mod.org_of_uid(series_uid) != user().org.id:
        abort(403)


def _topic(topic_id: int):
    """The topic and its occurrence, if the user may see the topic (calsync.access.sees_topic);
    else 404, like an unknown topic id: whether a topic exists is not told by the answer."""
    t = core().store.agenda.topic(topic_id)
    if t is None:
        abort(404)
    occ = occ_mod.find(t.series_uid, t.recurrence_id)
    if occ is None or not access.sees_topic(user().viewer, occ, t.section,
                                            _supervisor(occ.organization, t.section)):
        abort(404)
    return t, occ


def _back(occ: Occurrence):
    return redirect(url_for("agenda.page", series_uid=occ.uid, rid=occ_mod.rid(occ)))


def _supervisor(org_id: str, section: str) -> str | None:
    s = core().policies.organizations[org_id].sections.get(section)
    return s.supervisor if s else None


def _chair(occ: Occurrence) -> str | None:
    return occ.chair.person_id if occ.chair else None


@bp.route("/<path:series_uid>/<rid>")
@login_required
def page(series_uid: str, rid: str):
    occ, spec = _occurrence(series_uid, rid)
    c, u = core(), user()
    org = c.policies.organizations[occ.organization]
    key = occ_mod.rid(occ)
    due = rules.deadline(spec, occ, c.policies.calendar)
    topics = [t for t in c.store.agenda.topics(occ.uid, occ.nominal_start)
              if access.sees_topic(u.viewer, occ, t.section, _supervisor(org.id, t.section))]
    versions = c.store.agenda.agendas(occ.uid, occ.nominal_start)
    viewer = u.viewer
    return render_template(
        "agenda.html", occ=occ, spec=spec, org=org, rid=key, due=due, topics=topics,
        versions=versions, latest=versions[0] if versions else None,
        late=c.now() > due, states=rules.TOPIC_STATES, agenda_states=rules.AGENDA_STATES,
        name=lambda pid: person_name(org, pid), section_name=lambda s: _section_name(org, s),
        can_submit=access.may_act(viewer, org.id, "agenda-submit", owner=viewer.section),
        can_consent=lambda t: t.state == rules.SUBMITTED and access.may_act(
            viewer, org.id, "agenda-consent", owner=_supervisor(org.id, t.section)),
        can_order=access.may_act(viewer, org.id, "agenda-order"),
        can_approve=access.may_act(viewer, org.id, "agenda-approve", owner=_chair(occ)),
        file_types=", ".join(f".{x}" for x in rules.FILE_TYPES),
        max_mb=_max_bytes() // (1024 * 1024))


def _section_name(org, section: str) -> str:
    s = org.sections.get(section)
    return s.name if s else section


@bp.route("/<path:series_uid>/<rid>/topics", methods=["POST"])
@login_required
def submit(series_uid: str, rid: str):
    _own(series_uid)
    occ, spec = _occurrence(series_uid, rid)
    u = user()
    section = u.viewer.section
    authorize("agenda-submit", occ.organization, owner=section)
    assert section is not None  # authorize refuses a person without a section
    if (request.content_length or 0) > _max_bytes() + 64 * 1024:  # refused unread
        return render_template("error.html", code=413, title="材料文件过大",
                               message=f"材料文件不能超过{_max_bytes() // (1024 * 1024)}MB，"
                               "请压缩或改用材料链接。"), 413
    c = core()
    try:
        topic = rules.clean_topic(request.form.get("title", ""),
                                  request.form.get("presenter", "") or u.name,
                                  request.form.get("minutes"), request.form.get("link"))
        stored = _store_file(request.files.get("file"))
    except rules.AgendaError as exc:
        flash(str(exc), "warn")
        return _back(occ)
    due = rules.deadline(spec, occ, c.policies.calendar)
    now = c.now()
    record = c.store.agenda.submit_topic(
        occ.organization, occ.uid, occ.nominal_start, section=section, topic=topic,
        actor=u.username, late_note=rules.late_note(spec, due, now),
        file_name=stored[0] if stored else None, file_label=stored[1] if stored else None,
        at=now)
    flash(f"议题已提交，待分管领导同意：{record.title}"
          + (f"（{record.late_note}）" if record.late_note else ""), "ok")
    return _back(occ)


@bp.route("/topic/<int:topic_id>/<any(consent, decline):action>", methods=["POST"])
@login_required
def decide(topic_id: int, action: str):
    c = core()
    t, occ = _topic(topic_id)
    authorize("agenda-consent", t.organization, owner=_supervisor(t.organization, t.section))
    try:
        c.store.agenda.decide_topic(topic_id, action, actor=user().username,
                                    expected_version=request.form.get("version", type=int),
                                    at=c.now())
    except ConcurrentChange:
        flash(CONCURRENT, "warn")
    except rules.AgendaError as exc:
        flash(str(exc), "warn")
    else:
        flash(("已同意" if action == "consent" else "未同意") + f"议题：{t.title}", "ok")
    return _back(occ)


@bp.route("/<path:series_uid>/<rid>/order", methods=["POST"])
@login_required
def order(series_uid: str, rid: str):
    _own(series_uid)
    occ, _spec = _occurrence(series_uid, rid)
    authorize("agenda-order", occ.organization)
    c = core()
    chosen: list[tuple[int, int]] = []
    for name, value in request.form.items():
        if name.startswith("pos_") and value.strip():
            try:
                chosen.append((int(value), int(name[4:])))
            except ValueError:
                flash("议程序号须为整数", "warn")
                return _back(occ)
    try:
        c.store.agenda.order_agenda(occ.organization, occ.uid, occ.nominal_start,
                                    [tid for _pos, tid in sorted(chosen)], actor=user().username,
                                    expected_agenda=request.form.get("agenda", 0, type=int),
                                    at=c.now())
    except ConcurrentChange:
        flash(CONCURRENT, "warn")
    except rules.AgendaError as exc:
        flash(str(exc), "warn")
    else:
        flash("议程已编排，待审定", "ok")
    return _back(occ)


@bp.route("/<path:series_uid>/<rid>/approve", methods=["POST"])
@login_required
def approve(series_uid: str, rid: str):
    _own(series_uid)
    occ, _spec = _occurrence(series_uid, rid)
    authorize("agenda-approve", occ.organization, owner=_chair(occ))
    c = core()
    try:
        c.store.agenda.approve_agenda(occ.uid, occ.nominal_start,
                                      request.form.get("agenda", 0, type=int),
                                      actor=user().username, at=c.now())
    except ConcurrentChange:
        flash(CONCURRENT, "warn")
    except rules.AgendaError as exc:
        flash(str(exc), "warn")
    else:
        flash("议程已审定，将写入会议说明并发布到各日历", "ok")
    return _back(occ)


@bp.route("/topic/<int:topic_id>/file")
@login_required
def download(topic_id: int):
    t, _occ = _topic(topic_id)
    if not t.file_name:
        abort(404)
    path = _files() / t.file_name
    if not path.is_file():
        abort(404)
    return uploads.download(path, t.file_label or t.file_name)


# -- uploaded materials ----------------------------------------------------------------------

def _max_bytes() -> int:
    return int(current_app.config.get("CALSYNC_AGENDA_MAX_BYTES") or rules.MAX_FILE_BYTES)


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
        raise rules.AgendaError(f"材料文件超过{exc.megabytes}MB，请压缩或改用链接") from None
    except uploads.UploadEmpty:
        raise rules.AgendaError("材料文件是空的") from None
