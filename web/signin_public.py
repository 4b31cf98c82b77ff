"""Signing in (签到, 篇二 四.1): recording one person's sign-in, and the QR code's page that
needs no login (registered on the ``signin`` blueprint as ``signin.public``).

A person is recognised only by logging in. Without a login the page takes the short code
shown in the room and a typed name; calsync.access decides what the page shows
(:func:`calsync.access.signin_code_view`) and whom a typed name may sign in
(:func:`calsync.access.may_sign_in_by_name`: nobody who could log in). Wrong codes and
refused names count in the login limiter (calsync.app.login_limit), per sheet and address.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, render_template, request
from flask_login import current_user

from calsync import access
from calsync.app.login_limit import LoginLimiter, wait_text
from calsync.meetings import attendance as att
from calsync.meetings import attendance_report as report
from calsync.occurrence import TZ, Attendee, Occurrence
from calsync.policy import PolicySet

from . import occurrences as occ_mod
from .core import core, now, user

# One answer for every refused name (an account holder, a name not on the list, two people
# of that name, no such person), so the page cannot be used to read the list.
REFUSED = ("未能凭此姓名签到。本单位有账号的人员请登录后签到；"
           "其他人员请核对姓名，或请会务人员手工登记。")
KIND = "code"   # calsync.app.login_limit: a sheet's short code, never an account's password
WRONG_CODE = "签到码不正确，请核对会场显示的 6 位签到码。"
LIMITED = "签到码或姓名错误次数过多，请 {wait} 后再试，或请会务人员登记。"


def clock(at: dt.datetime) -> str:
    return at.astimezone(TZ).strftime("%H:%M")


def window_text(w: att.Window, at: dt.datetime) -> str:
    state = w.state(at)
    if state == "early":
        return (f"签到尚未开始：{w.opens.astimezone(TZ):%m月%d日 %H:%M} 开放签到，"
                f"{clock(w.late_from)} 后签到记为迟到。")
    if state == "closed":
        return f"签到已于 {w.closes.astimezone(TZ):%m月%d日 %H:%M} 结束。如需更正，请联系会务人员。"
    return f"签到进行中，{clock(w.late_from)} 后签到记为迟到，{clock(w.closes)} 结束。"


def person_key_of(occ: Occurrence, viewer: access.Viewer) -> tuple[str, str] | None:
    """The attendee the logged-in viewer is, as (key, name)."""
    for a in occ.attendees:
        if (a.person_id and a.person_id == viewer.person_id) or (
                viewer.email and a.email.strip().lower() == viewer.email):
            return att.person_key(a), a.name
    return None


def sign(occ: Occurrence, key: str, name: str, method: str, actor: str) -> tuple[str, str]:
    """Record a sign-in now; (flash category, message)."""
    at = now()
    w = report.window(core().policies, occ)
    if w.state(at) != "open":
        return "warn", window_text(w, at)
    status = w.status_at(at)
    mark, new = core().store.attendance.sign_in(occ.organization, occ.uid, occ.nominal_start, key,
                                                name=name, status=status, method=method,
                                                actor=actor,
                                                at=at)
    if not new and mark.status == att.ABSENT:
        return "warn", f"会务人员已将 {name} 登记为缺席；如已到场，请联系会务人员更正。"
    if not new:
        return "info", f"{name} 已于 {clock(mark.signed_at or mark.updated_at)} 签到（" \
                       f"{att.STATUS_LABELS.get(mark.status, mark.status)}），无需重复签到。"
    late = "，记为迟到" if status == att.LATE else ""
    return "ok", f"签到成功：{name}，{clock(at)}{late}。"


def account_holders(policies: PolicySet, store, matches: list[Attendee]) -> set[str]:
    """Person ids and e-mail addresses among ``matches`` of people who can log in: a web
    user with a password (username = person id; an attendee known only by e-mail is looked
    up among the directories' internal people)."""
    out: set[str] = set()
    for a in matches:
        email = a.email.strip().lower()
        ids = {a.person_id} if a.person_id else set()
        if email:
            ids |= {p.id for org in policies.organizations.values() for p in org.staff
                    if p.email.strip().lower() == email}
        for pid in ids:
            u = store.users.get_user(pid)
            if u is not None and u.password_hash:
                out |= {pid, email} - {""}
    return out


def page(token: str):
    """The QR code's page. Logged in and invited: one button. Otherwise the short code and
    a name (external attendees, 列席, people without an account)."""
    c = core()
    sheet = c.store.attendance.signin_sheet_by_token(token)
    occ = occ_mod.find(sheet.series_uid, sheet.recurrence_id) if sheet else None
    if sheet is None or occ is None or not att.signable(occ):
        abort(404)
    at = now()
    logged_in = current_user.is_authenticated
    viewer = user().viewer if logged_in else None
    me = person_key_of(occ, viewer) if viewer and access.may_sign_in(viewer, occ) else None
    w = report.window(c.policies, occ)
    done: tuple[str, str] | None = None
    status = 200
    if request.method == "POST":
        if me is not None and viewer is not None:
            done = sign(occ, me[0], me[1], "self", viewer.person_id)
        elif logged_in:
            abort(403)   # logged in but not on the list: they sign for nobody else
        else:
            done, status = _code_sign_in(occ, sheet, at)
    seen = access.signin_code_view(viewer, occ, signed_by_name=bool(
        done and done[0] in ("ok", "info")))
    shown = occ if seen == access.FULL else (
        access.busy_block(occ) if seen == access.BUSY_ONLY else None)
    return render_template(
        "signin_public.html", token=token, occ=shown, me=me, logged_in=logged_in,
        done=done, window_text=window_text(w, at), window_state=w.state(at)), status


def _code_sign_in(occ: Occurrence, sheet, at: dt.datetime) -> tuple[tuple[str, str], int]:
    c, address = core(), request.remote_addr
    # The sheet's code is the secret guessed: counted per (sheet, address), per address (all
    # doors), and for the sheet as a whole (a slow-down, never a lock of the room).
    limiter, key = LoginLimiter(c.store), f"signin:{sheet.id}"
    until = limiter.blocked(key, address, at, kind=KIND)
    if until is not None:
        return ("warn", LIMITED.format(wait=wait_text(until, at))), 429
    code = "".join(request.form.get("code", "").split())
    name = request.form.get("name", "").strip()[:50]
    current = c.store.attendance.signin_sheet_by_token(sheet.token)
    if current is None or code != current.code:
        limiter.failed(key, address, at, kind=KIND)
        return ("warn", WRONG_CODE), 400
    found = att.match_name(occ, name)
    if not access.may_sign_in_by_name(occ, found,
                                      account_holders(c.policies, c.store, found)):
        limiter.failed(key, address, at, kind=KIND)
        return ("warn", REFUSED), 400
    limiter.succeeded(key, address, kind=KIND)
    a = found[0]
    return sign(occ, att.person_key(a), a.name, "code", f"code:{a.name}"), 200
