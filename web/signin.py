"""签到 and 考勤 (篇二 四.1–2): an occurrence's sign-in page for the people it invites and its
keepers, the public page the QR code opens (web/signin_public.py: a short code and a name
for people without an account), and the attendance reports. Every door asks calsync.access;
the policy's keepers and report_to come from ``<org>/attendance.toml``
(calsync.meetings.attendance_policy).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from calsync import access
from calsync.app import attendance_mail as mail
from calsync.app import attendance_reports as reports
from calsync.errors import ConcurrentChange
from calsync.meetings import attendance as att
from calsync.meetings import attendance_policy as policy
from calsync.meetings import attendance_report as report
from calsync.occurrence import TZ, Occurrence
from calsync.store.attendance import target

from . import occurrences as occ_mod
from .attendance import download as _download
from .attendance import flash_sent as _flash_sent
from .attendance import instance as _instance
from .attendance import mail_on, smtp_url
from .core import authorize, core, now, user
from .links import external_url
from .signin_public import clock as _clock
from .signin_public import page as _public_page
from .signin_public import person_key_of as _person_key
from .signin_public import sign as _sign
from .signin_public import window_text

bp = Blueprint("signin", __name__)

# calsync.access.may_act's organization gate (logged in, same organization, not external);
# the occurrence-level rules (may_sign_in, may_keep_attendance) follow it.
ATTENDANCE = "attendance"
STATUS_CHOICES = (("present", "出席"), ("late", "迟到"), ("absent", "缺席"))


# -- helpers ------------------------------------------------------------------------------

def _occurrence(series_uid: str, rid: str) -> Occurrence:
    """The occurrence for a logged-in reader who may see it in full; 404 otherwise (another
    organization's meeting, a confidential one they are not invited to, no such meeting)."""
    occ = occ_mod.find(series_uid, rid)
    if occ is None or not att.signable(occ) or not access.shows(user().viewer, occ):
        abort(404)
    return occ


def _sheet(occ: Occurrence):
    """The occurrence's sign-in sheet (made the first time a keeper opens it)."""
    return core().store.attendance.signin_sheet(occ.organization, occ.uid, occ.nominal_start,
                                                actor=user().username, at=now())


def _keepers(occ: Occurrence) -> frozenset[str]:
    return policy.keepers(core().policies, occ)


def _readers(occ: Occurrence) -> frozenset[str]:
    return _keepers(occ) | policy.report_to(core().policies, occ)


def _may_keep(occ: Occurrence) -> bool:
    return access.may_keep_attendance(user().viewer, occ, _keepers(occ))


def _authorize_keep(occ: Occurrence) -> None:
    authorize(ATTENDANCE, occ.organization)   # the organization gate every POST passes
    if not _may_keep(occ):                     # then the policy's keepers of this occurrence
        abort(403)


def _back(occ: Occurrence):
    return redirect(url_for("signin.page", series_uid=occ.uid, rid=occ_mod.rid(occ)))


def _public_url(token: str) -> str:
    return external_url("signin.public", token=token)  # never the request's Host


def _qr(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, omitsize=True, border=2)


# -- the meeting page's link --------------------------------------------------------------

@bp.app_template_global()
def signin_link(occ: Occurrence) -> str | None:
    """The sign-in page's URL for the meeting page, when the reader has anything there."""
    if not current_user.is_authenticated or not att.signable(occ):
        return None
    v = user().viewer
    if access.may_sign_in(v, occ) or _may_keep(occ) or access.may_read_attendance(
            v, occ, _readers(occ)):
        return url_for("signin.page", series_uid=occ.uid, rid=occ_mod.rid(occ))
    return None


# -- one occurrence -----------------------------------------------------------------------

@bp.route("/signin/<path:series_uid>/<rid>")
@login_required
def page(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    c, v, at = core(), user().viewer, now()
    keep = _may_keep(occ)
    read = access.may_read_attendance(v, occ, _readers(occ))
    if not (access.may_sign_in(v, occ) or keep or read):
        abort(403)
    rep = reports.occurrence_report(c.policies, c.store, occ)
    me = _person_key(occ, v) if access.may_sign_in(v, occ) else None
    marks = {m.person_key: m
             for m in c.store.attendance.attendance_marks(occ.uid, occ.nominal_start)}
    sheet = _sheet(occ) if keep else None
    audit = [e for e in c.store.audit.audit_log(target=target(occ.uid, occ.nominal_start))
             if e.action == "attendance.hand"] if (keep or read) else []
    org = c.policies.organizations[occ.organization]
    extra = [a for a in occ.attendees if att.is_substitute_only(a)]
    return render_template(
        "signin.html", occ=occ, rid=rep.rid, rep=rep, keep=keep, read=read, me=me,
        my_mark=marks.get(me[0]) if me else None, marks=marks, sheet=sheet,
        window_state=rep.window.state(at), window_text=window_text(rep.window, at),
        qr=_qr(_public_url(sheet.token)) if sheet else "",
        public_url=_public_url(sheet.token) if sheet else "", audit=audit,
        before_after=_before_after, substitutes=extra, statuses=STATUS_CHOICES,
        labels=att.STATUS_LABELS, methods=att.METHOD_LABELS, typed_name=att.TYPED_NAME,
        report_to=[org.people[p].name for p in sorted(policy.report_to(c.policies, occ))
                   if p in org.people],
        rules=policy.rules(c.policies, occ), mail_on=mail_on())


def _before_after(entry) -> str:
    import json

    def label(raw: str | None) -> str:
        if not raw:
            return "未登记"
        data = json.loads(raw)
        return att.STATUS_LABELS.get(data.get("status"), data.get("status", ""))

    name = json.loads(entry.after).get("name", "") if entry.after else ""
    return f"{name}：{label(entry.before)} → {label(entry.after)}"


@bp.route("/signin/<path:series_uid>/<rid>/poster")
@login_required
def poster(series_uid: str, rid: str):
    """For the projector or the printer: the QR code big, the short code, the title."""
    occ = _occurrence(series_uid, rid)
    _authorize_keep(occ)
    c = core()
    sheet = _sheet(occ)
    w = report.window(c.policies, occ)
    return render_template("signin_poster.html", occ=occ, sheet=sheet,
                           qr=_qr(_public_url(sheet.token)), url=_public_url(sheet.token),
                           window=w, clock=_clock)


@bp.route("/signin/<path:series_uid>/<rid>/self", methods=["POST"])
@login_required
def sign_self(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    authorize(ATTENDANCE, occ.organization)
    v = user().viewer
    if not access.may_sign_in(v, occ):
        abort(403)
    me = _person_key(occ, v)
    if me is None:
        abort(403)
    category, text = _sign(occ, me[0], me[1], "self", v.person_id)
    flash(text, category)
    return _back(occ)


@bp.route("/signin/<path:series_uid>/<rid>/mark", methods=["POST"])
@login_required
def mark(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    _authorize_keep(occ)
    key, status = request.form.get("person", ""), request.form.get("status", "")
    people = {att.person_key(a): a for a in occ.attendees}
    if key not in people or status not in dict(STATUS_CHOICES):
        abort(400)
    try:
        version = int(request.form.get("version", "0"))
    except ValueError:
        abort(400)
    try:
        core().store.attendance.mark_attendance(occ.organization, occ.uid, occ.nominal_start, key,
                                                name=people[key].name, status=status,
                                                actor=user().username, expected_version=version,
                                                at=now())
    except ConcurrentChange:
        flash(f"{people[key].name} 的考勤刚被他人更改或已签到，请核对后再登记。", "warn")
    else:
        flash(f"已登记：{people[key].name} {att.STATUS_LABELS[status]}。", "ok")
    return _back(occ)


@bp.route("/signin/<path:series_uid>/<rid>/code", methods=["POST"])
@login_required
def renew_code(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    _authorize_keep(occ)
    c = core()
    sheet = _sheet(occ)
    try:
        c.store.attendance.renew_signin_code(sheet.id, actor=user().username,
                                             expected_version=int(request.form.get("version", "0")),
                                             at=now())
    except (ConcurrentChange, ValueError):
        flash("签到码刚被他人更换，请使用页面上的新签到码。", "warn")
    else:
        flash("已更换签到码，旧签到码作废。", "ok")
    return _back(occ)


@bp.route("/signin/<path:series_uid>/<rid>/report.<fmt>")
@login_required
def occurrence_export(series_uid: str, rid: str, fmt: str):
    occ = _occurrence(series_uid, rid)
    if not access.may_read_attendance(user().viewer, occ, _readers(occ)):
        abort(403)
    rep = reports.occurrence_report(core().policies, core().store, occ)
    name = f"考勤-{occ.summary}-{occ.start.astimezone(TZ):%Y%m%d}"
    return _download(rep, fmt, name)


@bp.route("/signin/<path:series_uid>/<rid>/send", methods=["POST"])
@login_required
def send_occurrence(series_uid: str, rid: str):
    occ = _occurrence(series_uid, rid)
    authorize(ATTENDANCE, occ.organization)
    v = user().viewer
    if not (_may_keep(occ) or (v.role == "secretary" and v.organization == occ.organization)):
        abort(403)
    c = core()
    rep = reports.occurrence_report(c.policies, c.store, occ)
    to = policy.report_to(c.policies, occ)
    sent = mail.send(c.policies, c.store, occ.organization, f"{occ.uid}-{rep.rid}", to,
                     lambda viewer: mail.masked_for(viewer, rep), now(), _instance(),
                     smtp_url())
    _flash_sent(sent)
    return _back(occ)


# -- the QR code's page: no login needed (web/signin_public.py) ---------------------------

bp.add_url_rule("/s/<token>", "public", _public_page, methods=["GET", "POST"])
