"""签到 and 考勤 (篇二 四.1–2): an occurrence's sign-in page for the people it invites and its
keepers, the public page the QR code opens (a short code and a name for people without an
account), and the attendance reports. Every door asks calsync.access; the policy's keepers
and report_to come from ``<org>/attendance.toml`` (calsync.meetings.attendance_policy).
"""

from __future__ import annotations

import datetime as dt

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
from calsync.errors import ConcurrentChange
from calsync.login_limit import Limit, after_failure, locked_until
from calsync.meetings import attendance as att
from calsync.meetings import attendance_mail as mail
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

bp = Blueprint("signin", __name__)

# Code guesses: per client address, and per sheet (spread over many addresses).
CODE_BY_ADDRESS = Limit(10, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
CODE_BY_SHEET = Limit(60, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
# calsync.access.may_act's organization gate (logged in, same organization, not external);
# the occurrence-level rules (may_sign_in, may_keep_attendance) follow it.
ATTENDANCE = "attendance"
STATUS_CHOICES = (("present", "出席"), ("late", "迟到"), ("absent", "缺席"))


@bp.record_once
def _check_policies(state) -> None:
    # A broken attendance.toml stops the start-up with the file and key, like any policy.
    policy.check_all(state.app.extensions["calsync"].policies)


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
    return core().store.signin_sheet(occ.organization, occ.uid, occ_mod.rid(occ),
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


def _clock(at: dt.datetime) -> str:
    return at.astimezone(TZ).strftime("%H:%M")


def window_text(w: att.Window, at: dt.datetime) -> str:
    state = w.state(at)
    if state == "early":
        return (f"签到尚未开始：{w.opens.astimezone(TZ):%m月%d日 %H:%M} 开放签到，"
                f"{_clock(w.late_from)} 后签到记为迟到。")
    if state == "closed":
        return f"签到已于 {w.closes.astimezone(TZ):%m月%d日 %H:%M} 结束。如需更正，请联系会务人员。"
    return f"签到进行中，{_clock(w.late_from)} 后签到记为迟到，{_clock(w.closes)} 结束。"


def _public_url(token: str) -> str:
    return url_for("signin.public", token=token, _external=True)


def _qr(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, omitsize=True, border=2)


def _person_key(occ: Occurrence, viewer: access.Viewer) -> tuple[str, str] | None:
    """The attendee the logged-in viewer is, as (key, name)."""
    for a in occ.attendees:
        if (a.person_id and a.person_id == viewer.person_id) or (
                viewer.email and a.email.strip().lower() == viewer.email):
            return att.person_key(a), a.name
    return None


def _sign(occ: Occurrence, key: str, name: str, method: str, actor: str) -> tuple[str, str]:
    """Record a sign-in now; (flash category, message)."""
    at = now()
    w = report.window(core().policies, occ)
    if w.state(at) != "open":
        return "warn", window_text(w, at)
    status = w.status_at(at)
    mark, new = core().store.sign_in(occ.organization, occ.uid, occ_mod.rid(occ), key,
                                     name=name, status=status, method=method, actor=actor,
                                     at=at)
    if not new and mark.status == att.ABSENT:
        return "warn", f"会务人员已将 {name} 登记为缺席；如已到场，请联系会务人员更正。"
    if not new:
        return "info", f"{name} 已于 {_clock(mark.signed_at or mark.updated_at)} 签到（" \
                       f"{att.STATUS_LABELS.get(mark.status, mark.status)}），无需重复签到。"
    late = "，记为迟到" if status == att.LATE else ""
    return "ok", f"签到成功：{name}，{_clock(at)}{late}。"


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
    rep = report.occurrence_report(c.policies, c.store, occ)
    me = _person_key(occ, v) if access.may_sign_in(v, occ) else None
    marks = {m.person_key: m for m in c.store.attendance_marks(occ.uid, rep.rid)}
    sheet = _sheet(occ) if keep else None
    audit = [e for e in c.store.audit_log(target=target(occ.uid, rep.rid))
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
        labels=att.STATUS_LABELS, methods=att.METHOD_LABELS,
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
        core().store.mark_attendance(occ.organization, occ.uid, occ_mod.rid(occ), key,
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
        c.store.renew_signin_code(sheet.id, actor=user().username,
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
    rep = report.occurrence_report(core().policies, core().store, occ)
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
    rep = report.occurrence_report(c.policies, c.store, occ)
    to = policy.report_to(c.policies, occ)
    sent = mail.send(c.policies, c.store, occ.organization, f"{occ.uid}-{rep.rid}", to,
                     lambda viewer: mail.masked_for(viewer, rep), now(), _instance(),
                     smtp_url())
    _flash_sent(sent)
    return _back(occ)


# -- the QR code's page: no login needed ---------------------------------------------------

def _limited(sheet_id: int, address: str | None, at: dt.datetime) -> bool:
    store = core().store
    return any(locked_until(store.throttle_state(k), at) is not None
               for k in (f"signin:{sheet_id}", f"signin-addr:{address or 'unknown'}"))


def _failed(sheet_id: int, address: str | None, at: dt.datetime) -> None:
    store = core().store
    store.throttle_update(f"signin:{sheet_id}", lambda s: after_failure(s, at, CODE_BY_SHEET))
    store.throttle_update(f"signin-addr:{address or 'unknown'}",
                          lambda s: after_failure(s, at, CODE_BY_ADDRESS))


@bp.route("/s/<token>", methods=["GET", "POST"])
def public(token: str):
    """The QR code's page. Logged in and invited: one button. Otherwise the short code and a
    name from the list (external attendees, 列席). Nothing about the meeting is shown to
    someone who has not signed in as one of its attendees."""
    c = core()
    sheet = c.store.signin_sheet_by_token(token)
    occ = occ_mod.find(sheet.series_uid, sheet.recurrence_id) if sheet else None
    if sheet is None or occ is None or not att.signable(occ):
        abort(404)
    at = now()
    logged_in = current_user.is_authenticated
    viewer = user().viewer if logged_in else None
    me = _person_key(occ, viewer) if viewer and access.may_sign_in(viewer, occ) else None
    w = report.window(c.policies, occ)
    done: tuple[str, str] | None = None
    status = 200
    if request.method == "POST":
        if me is not None:
            done = _sign(occ, me[0], me[1], "self", viewer.person_id)
        elif logged_in:
            abort(403)   # logged in but not on the list: they sign for nobody else
        else:
            done, status = _code_sign_in(occ, sheet, at)
    return render_template(
        "signin_public.html", token=token, occ=occ if me or (done and done[0] in
                                                             ("ok", "info")) else None,
        me=me, logged_in=logged_in, done=done, window_text=window_text(w, at),
        window_state=w.state(at)), status


def _code_sign_in(occ: Occurrence, sheet, at: dt.datetime) -> tuple[tuple[str, str], int]:
    address = request.remote_addr
    if _limited(sheet.id, address, at):
        return ("warn", "签到码错误次数过多，请 15 分钟后再试，或请会务人员登记。"), 429
    code = "".join(request.form.get("code", "").split())
    name = request.form.get("name", "").strip()[:50]
    if code != core().store.signin_sheet_by_token(sheet.token).code:
        _failed(sheet.id, address, at)
        return ("warn", "签到码不正确，请核对会场显示的 6 位签到码。"), 400
    found = att.match_name(occ, name)
    if len(found) != 1:
        why = "名单中有同名人员" if found else "参会名单中没有此姓名"
        return ("warn", f"{why}，请向会务人员说明，由其手工登记。"), 400
    a = found[0]
    return _sign(occ, att.person_key(a), a.name, "code", f"code:{a.name}"), 200
