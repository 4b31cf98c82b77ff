"""Accounts on the page: a person changes their own password; a secretary gives a person of
their own organization a temporary password (shown once) that must be changed at the next
login. Every password change ends the person's other sessions (web/core.py's user loader)."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask import render_template as render
from flask_login import current_user, login_required, login_user
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from calsync.meetings.accounts import hash_password, password_ok

from .core import authorize, core, load_user, secretary_required, user
from .forms import REQUIRED, Form, PlainForm

bp = Blueprint("accounts", __name__)

MIN_LENGTH = 10
# Pages a person with a temporary password may still open: everything else sends them to
# the change form first.
OPEN_WHILE_TEMPORARY = frozenset({"accounts.password", "auth.logout", "static"})


class PasswordForm(Form):
    current = PasswordField("当前密码", validators=[DataRequired(REQUIRED), Length(max=200)])
    new = PasswordField("新密码", validators=[
        DataRequired(REQUIRED),
        Length(min=MIN_LENGTH, max=200, message=f"新密码至少{MIN_LENGTH}位。")])
    confirm = PasswordField("再次输入新密码", validators=[
        DataRequired(REQUIRED), EqualTo("new", message="两次输入的新密码不一致。")])
    submit = SubmitField("修改密码")


@bp.before_app_request
def temporary_password_first():
    if request.blueprint == "feeds":    # token-authenticated: no session to load (latency)
        return None
    if (current_user.is_authenticated and user().record.must_change_password
            and request.endpoint not in OPEN_WHILE_TEMPORARY):
        flash("您正在使用秘书科设置的临时密码，请先设置自己的密码。", "warn")
        return redirect(url_for("accounts.password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    me = user()
    if form.validate_on_submit():
        authorize("change-password", me.org.id, owner=me.username)
        if not password_ok(me.record.password_hash, form.current.data or ""):
            form.current.errors.append("当前密码不正确。")
        elif form.new.data == form.current.data:
            form.new.errors.append("新密码不能与当前密码相同。")
        else:
            core().store.users.set_password(me.username, hash_password(form.new.data or ""),
                                            actor=me.username)
            # The store bumped the session version: every other session of this person is
            # over; this one continues under the new version.
            fresh = load_user(me.username)
            if fresh is None:
                abort(403)
            login_user(fresh)
            flash("密码已修改；您在其他设备上的登录已失效。", "info")
            return redirect(url_for("meetings.week"))
    return render("account_password.html", form=form,
                  temporary=me.record.must_change_password)


@bp.route("/people")
@secretary_required
def people():
    me = user()
    users = core().store.users.list_users(me.org.id)
    return render("people.html", users=users, form=PlainForm())


@bp.route("/people/<username>/reset", methods=["POST"])
@login_required
def reset(username: str):
    PlainForm()  # CSRF is checked by CSRFProtect before we get here
    record = core().store.users.get_user(username)
    if record is None:
        abort(404)
    # Only a secretary of the person's own organization (calsync.access.may_act).
    authorize("reset-password", record.organization)
    temporary = secrets.token_urlsafe(9)
    core().store.users.set_password(username, hash_password(temporary), actor=user().username,
                                    temporary=True)
    response = make_response(render("people_reset.html", person=record,
                                     temporary=temporary))
    # The password is shown once: no cache may keep the page.
    response.headers["Cache-Control"] = "no-store"
    return response
