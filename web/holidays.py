"""节假日: a secretary pastes the State Council's holiday notice, sees which meetings move,
and applies it (``<instance>/holidays/YYYY.toml``); the scheduler then republishes.

The table is the instance's: every organization's meetings follow it. The preview lists every
organization's changes (another organization's, or a confidential one the secretary is not
invited to, as 忙碌 with its time), and a notice that moves another organization's meetings
waits until a secretary of each of them confirms it (calsync.access.may_apply_holiday_table).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_required
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from calsync import access
from calsync.app.holiday_overlay import Change, affected_orgs, notice_changes
from calsync.app.scheduler import EXTENSION
from calsync.calendar import applications
from calsync.calendar.notice import Notice, NoticeRefused, parse_notice
from calsync.errors import CalsyncError
from calsync.policy import PolicySet, load
from calsync.policy.holiday_tables import write_table

from .core import core, now, secretary_required, user
from .forms import Form

bp = Blueprint("holidays", __name__, url_prefix="/holidays")


class NoticeForm(Form):
    text = TextAreaField("通知全文", validators=[DataRequired(), Length(max=50000)])
    preview = SubmitField("查看会议变动")
    apply = SubmitField("确认应用")


def instance() -> Path:
    return Path(current_app.config["CALSYNC_INSTANCE"])


def instance_holidays() -> Path:
    return instance() / "holidays"


def _years() -> list[tuple[int, str]]:
    c, folder = core(), instance_holidays()
    out = []
    for year in (now().year, now().year + 1):
        if c.policies.calendar.is_law_only(year):
            source = "law-only"
        elif (folder / f"{year}.toml").exists():
            source = "notice"
        else:
            source = "policies"
        out.append((year, source))
    return out


def _org_names(orgs: Iterable[str]) -> str:
    known = core().policies.organizations
    return "、".join(known[o].short_name or known[o].name if o in known else o
                    for o in sorted(orgs))


def _person_name(username: str) -> str:
    record = core().store.users.get_user(username)
    return record.display_name if record is not None and record.display_name else username


def _page(form: NoticeForm, status: int = 200, **context: object):
    u = user()
    waiting = []
    for a in applications.pending(instance()):
        requester = access.Viewer(a.requested_by, a.organization, "secretary")
        todo = access.holiday_orgs_to_confirm(requester, a.affected, a.confirmed)
        waiting.append({
            "app": a, "who": _person_name(a.requested_by),
            "org": _org_names([a.organization]), "todo": _org_names(todo),
            "confirmed": _org_names(a.confirmed),
            "may_confirm": access.may_confirm_holiday_table(u.viewer, a.affected)
            and u.org.id not in a.confirmed,
            "may_withdraw": access.may_withdraw_holiday_table(u.viewer, a.requested_by,
                                                              a.affected)})
    context.setdefault("notice", None)
    return render_template("holidays.html", form=form, years=_years(), pending=waiting,
                           **context), status


def _changes(notice: Notice) -> tuple[list[Change], int]:
    """Every organization's changes: the table is the instance's."""
    c = core()
    return notice_changes(c.policies, c.store, notice, sorted(c.policies.organizations))


@bp.route("", methods=["GET", "POST"])
@login_required
@secretary_required
def index():
    form = NoticeForm()
    if not form.validate_on_submit():
        return _page(form)
    try:
        notice = parse_notice(form.text.data or "")
    except NoticeRefused as exc:
        form.text.errors = [*form.text.errors, str(exc)]
        return _page(form, 400)
    u = user()
    changes, settled = _changes(notice)
    affected = affected_orgs(changes)
    if form.apply.data:
        if access.may_apply_holiday_table(u.viewer, affected):
            return _apply(form, notice, {u.org.id: u.username})
        return _propose(form.text.data or "", notice, affected)
    rows = []
    for ch in changes:
        occ = ch.before or ch.after
        assert occ is not None
        shown = access.holiday_change_visibility(u.viewer, occ) == access.FULL
        rows.append((ch, shown, _org_names([occ.organization])))
    todo = access.holiday_orgs_to_confirm(u.viewer, affected)
    return _page(form, notice=notice, rows=rows, settled=settled, todo=_org_names(todo))


def _apply(form: NoticeForm, notice: Notice, confirmed: dict[str, str]):
    c, u = core(), user()
    try:
        write_table(notice, instance_holidays())
        # the calendar as every command now reads it; the rest waits for a reload
        c.policies = replace(c.policies, calendar=load(c.policies.root, instance()).calendar)
    except CalsyncError as exc:
        form.text.errors = [*form.text.errors, " ".join(exc.lines())]
        return _page(form, 500)
    applications.drop(instance(), notice.year)
    _republish(c.policies)
    c.store.audit.record(u.username, "holidays.apply", f"holidays:{notice.year}",
                         after={"source": notice.source, "organization": u.org.id,
                         "confirmed": confirmed})
    flash(f"已应用{notice.year}年节假日安排（{notice.source}），日历将重新发布。", "info")
    return redirect(url_for("holidays.index"))


def _propose(text: str, notice: Notice, affected: frozenset[str]):
    c, u = core(), user()
    todo = access.holiday_orgs_to_confirm(u.viewer, affected)
    applications.save(instance(), applications.Application(
        notice.year, text, notice.source, u.username, u.org.id,
        now().isoformat(timespec="seconds"), tuple(sorted(affected)), {u.org.id: u.username}))
    c.store.audit.record(u.username, "holidays.propose", f"holidays:{notice.year}",
                         after={"source": notice.source, "organization": u.org.id,
                         "waiting": sorted(todo)})
    flash(f"该通知将调整{_org_names(todo)}的会议，已提交，需{_org_names(todo)}秘书确认后生效。",
          "info")
    return redirect(url_for("holidays.index"))


def _pending(year: int) -> tuple[applications.Application, Notice, frozenset[str]]:
    """The application, its notice and the organizations it changes now; 404 if none."""
    a = applications.load(instance(), year)
    if a is None:
        abort(404)
    try:
        notice = parse_notice(a.text)
    except NoticeRefused:
        abort(409)
    changes, _ = _changes(notice)
    return a, notice, affected_orgs(changes) | frozenset(a.affected)


@bp.route("/pending/<int:year>/confirm", methods=["POST"])
@login_required
@secretary_required
def confirm(year: int):
    u = user()
    a, notice, affected = _pending(year)
    if not access.may_confirm_holiday_table(u.viewer, affected):
        abort(403)
    confirmed = {**a.confirmed, u.org.id: u.username}
    core().store.audit.record(u.username, "holidays.confirm", f"holidays:{year}",
                              after={"source": a.source, "organization": u.org.id})
    requester = access.Viewer(a.requested_by, a.organization, "secretary")
    if access.may_apply_holiday_table(requester, affected, confirmed):
        return _apply(NoticeForm(), notice, confirmed)
    applications.save(instance(), replace(a, confirmed=confirmed))
    todo = access.holiday_orgs_to_confirm(requester, affected, confirmed)
    flash(f"已确认；仍需{_org_names(todo)}秘书确认后生效。", "info")
    return redirect(url_for("holidays.index"))


@bp.route("/pending/<int:year>/withdraw", methods=["POST"])
@login_required
@secretary_required
def withdraw(year: int):
    u = user()
    a, _notice, affected = _pending(year)
    if not access.may_withdraw_holiday_table(u.viewer, a.requested_by, affected):
        abort(403)
    applications.drop(instance(), year)
    core().store.audit.record(u.username, "holidays.withdraw", f"holidays:{year}",
                              before={"source": a.source, "requested_by": a.requested_by},
                              after={"organization": u.org.id})
    flash(f"{year}年节假日安排申请已{'撤回' if u.username == a.requested_by else '退回'}。",
          "info")
    return redirect(url_for("holidays.index"))


def _republish(policies: PolicySet) -> None:
    """The publishing scheduler (``calsync serve``) takes the new calendar and runs soon."""

    scheduler = current_app.extensions.get(EXTENSION)
    if scheduler is not None:
        scheduler.policies = replace(scheduler.policies, calendar=policies.calendar)
        scheduler.poke()

