"""Login and logout (Flask-Login, werkzeug password hashes)."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from calsync.app.login_limit import LoginLimiter, wait_text
from calsync.meetings.accounts import hash_password, password_ok

from .core import core, load_user, now
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
        limiter, at, address = LoginLimiter(core().store), now(), request.remote_addr
        until = limiter.blocked(name, address, at)
        if until is not None:
            # Counted per name whether or not the account exists: the lock tells nothing.
            form.password.errors.append(f"登录失败次数过多，请 {wait_text(until, at)}后再试。")
            return render_template("login.html", form=form), 429
        record = core().store.users.get_user(name)
        u = load_user(name) if record is not None else None
        # One message for a wrong password, an unknown name and an account without a
        # password: the login page must not tell strangers which accounts exist.
        if u is None:
            # Hash anyway, so an unknown name answers as slowly as a wrong password.
            password_ok(_dummy_hash(), form.password.data or "")
        if u is None or not password_ok(record.password_hash, form.password.data or ""):
            limiter.failed(name, address, at)
            form.password.errors.append("用户名或密码不正确。")
        else:
            limiter.succeeded(name, address)
            login_user(u)
            if u.record.must_change_password:
                return redirect(url_for("accounts.password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


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
    # Every session of this person ends, not only this browser's: a copied session cookie
    # (or a phone left logged in) stops working too (web/core.py's user loader).
    core().store.users.end_sessions(current_user.username)
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))
