"""节假日: a secretary pastes the State Council's holiday notice, sees which meetings move,
and applies it (``<instance>/holidays/YYYY.toml``); the scheduler then republishes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import login_required
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from calsync.calendar.notice import NoticeRefused, parse_notice
from calsync.calendar.overlay import notice_changes, with_holiday_folder
from calsync.calendar.tables import write_table
from calsync.errors import CalsyncError
from calsync.policy import PolicySet

from .core import core, now, secretary_required, user, visible
from .forms import Form

bp = Blueprint("holidays", __name__, url_prefix="/holidays")


class NoticeForm(Form):
    text = TextAreaField("通知全文", validators=[DataRequired(), Length(max=50000)])
    preview = SubmitField("查看会议变动")
    apply = SubmitField("确认应用")


def instance_holidays() -> Path:
    return Path(current_app.config["CALSYNC_INSTANCE"]) / "holidays"


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


@bp.route("", methods=["GET", "POST"])
@login_required
@secretary_required
def index():
    form = NoticeForm()
    if not form.validate_on_submit():
        return render_template("holidays.html", form=form, years=_years(), notice=None)
    try:
        notice = parse_notice(form.text.data or "")
    except NoticeRefused as exc:
        form.text.errors = [*form.text.errors, str(exc)]
        return render_template("holidays.html", form=form, years=_years(), notice=None), 400
    c, u = core(), user()
    if form.apply.data:
        try:
            write_table(notice, instance_holidays())
            c.policies = with_holiday_folder(c.policies, instance_holidays())
        except CalsyncError as exc:
            form.text.errors = [*form.text.errors, " ".join(exc.lines())]
            return render_template("holidays.html", form=form, years=_years(),
                                   notice=None), 500
        _republish(c.policies)
        c.store.audit(u.username, "holidays.apply", f"holidays:{notice.year}",
                      after={"source": notice.source, "organization": u.org.id})
        flash(f"已应用{notice.year}年节假日安排（{notice.source}），日历将重新发布。", "info")
        return redirect(url_for("holidays.index"))
    changes, settled = notice_changes(c.policies, c.store, notice, [u.org.id])
    rows = [(ch, visible(u, ch.before or ch.after)) for ch in changes]
    return render_template("holidays.html", form=form, years=_years(), notice=notice,
                           rows=rows, settled=settled)


def _republish(policies: PolicySet) -> None:
    """The publishing scheduler (``calsync serve``) takes the new calendar and runs soon."""
    from calsync.scheduler import EXTENSION

    scheduler = current_app.extensions.get(EXTENSION)
    if scheduler is not None:
        scheduler.policies = replace(scheduler.policies, calendar=policies.calendar)
        scheduler.poke()
