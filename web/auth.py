"""Login and logout (Flask-Login, werkzeug password hashes)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from calsync.accounts import password_ok

from .core import core, current_user_loader
from .forms import LoginForm, PlainForm

bp = Blueprint("auth", __name__)


@bp.route("/")
def index():
    return redirect(url_for("meetings.week"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        name = (form.username.data or "").strip()
        record = core().store.get_user(name)
        if record is not None and not record.password_hash:
            form.password.errors.append(
                "此账号尚未设置密码，请联系秘书科（calsync user set-password）。")
        elif record is None or not password_ok(record.password_hash, form.password.data or ""):
            form.password.errors.append("用户名或密码不正确。")
        else:
            u = current_user_loader(name)
            if u is None:
                form.username.errors.append("此账号所属单位已不在制度文件中。")
            else:
                login_user(u)
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never redirect to another host after login.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("meetings.week")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    PlainForm()  # CSRF is checked by CSRFProtect before we get here
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
