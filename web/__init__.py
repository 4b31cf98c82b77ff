"""The secretaries' web page: a Flask app factory with one blueprint per page.

Views are thin: they parse a form, call the core (calsync.app.service, the store,
calsync.meetings.leave, calsync.meetings.requests, calsync.meetings.slots) and render a
server-side Jinja template.
"""

from __future__ import annotations

import atexit
import os
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest

from calsync.app.scheduler import attach as attach_scheduler
from calsync.settings import SETTINGS, SETTINGS_KEY, Settings

from . import (
    accounts,
    adhoc,
    agenda,
    approvals,
    attendance,
    auth,
    clashes,
    directory,
    external_feeds,
    feeds,
    holidays,
    leave,
    meetings,
    minutes,
    names,
    nav,
    notices,
    ops_guard,
    publish,
    requests_bp,
    rules,
    signin,
    sitting_in,
    stats,
    weekly,
)
from .core import Core, csrf, current_user_loader, login_manager
from .feed_shortcut import FeedShortcut
from .filters import register_filters
from .sessions import FeedlessSessions

# One blueprint per page, registered in this order (the nav and url_map follow it).
BLUEPRINTS = (
    auth, clashes, meetings, leave, requests_bp, approvals, publish, stats, feeds, holidays,
    notices,      # 会议通知: the iMIP outbox
    adhoc, sitting_in, external_feeds,  # 临时会议, 列席, 外部订阅
    agenda,       # 议题与议程 (篇一 二.4, 三.4)
    weekly,       # 一周会议安排 (issue 12 item 5)
    accounts,     # passwords on the page (issue 13)
    minutes,      # 纪要与议定事项 (issue 12)
    directory,    # 导入通讯录 (issue 13)
    signin,       # 签到 and 考勤 (篇二 四.1–2, issue 12)
    attendance,   # 会议考勤 by month (篇二 四.2)
)

DEFAULTS: dict[str, object] = {
    "CALSYNC_DATABASE_URL": None,
    "CALSYNC_INSTANCE": None,
    "CALSYNC_POLICIES": None,
    "CALSYNC_CALDAV": None,
    "CALSYNC_NOW": None,
    "CALSYNC_LISTEN_URL": None,   # set by `calsync serve`: links without CALSYNC_PUBLIC_URL
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": None,   # a page left open over lunch still submits
}


class CalsyncFlask(Flask):
    """Flask, with the coroutine check of each hook and view remembered: Flask asks
    ``inspect.iscoroutinefunction`` for every before/after hook and the view on every request,
    about a sixth of a feed's 304 (measured: bench/serve_latency.py, web/feeds.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ensured: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        hit = self._ensured.get(func)
        if hit is None:
            hit = self._ensured[func] = super().ensure_sync(func)
        return hit


def create_app(config: dict | None = None) -> Flask:
    """Build the app; one Store is opened here and closed at exit (or ``app.calsync.close``).

    Its settings (calsync.settings, kept as ``app.config["CALSYNC_SETTINGS"]``): the
    ``CALSYNC_SETTINGS`` given (``calsync serve``), else the ``CALSYNC_*`` variables; a config
    key named like a variable (``CALSYNC_INSTANCE`` …) wins over either."""
    config = dict(config or {})
    settings = app_settings(config)
    instance = settings.instance_dir
    app = CalsyncFlask(__name__, instance_path=str(instance), instance_relative_config=True)
    app.session_interface = FeedlessSessions()   # feeds are token-authenticated: no cookie
    app.wsgi_app = FeedShortcut(app, app.wsgi_app)   # a current feed's 304 before Flask
    app.config.update(DEFAULTS)
    app.config.update(config)
    app.config[SETTINGS_KEY] = settings
    app.config["CALSYNC_INSTANCE"] = str(instance)
    app.config["CALSYNC_DATABASE_URL"] = settings.database_url
    app.config["CALSYNC_POLICIES"] = str(settings.policies) if settings.policies else None
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(settings)
    # Flask's defaults hold these keys (SameSite as None), so setdefault would change nothing;
    # Secure follows CALSYNC_PUBLIC_URL (web/ops_guard.py)
    app.config["SESSION_COOKIE_HTTPONLY"] = config.get("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE") or "Lax"

    core = Core.open(app.config)
    app.extensions["calsync"] = core
    atexit.register(core.close)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(current_user_loader)

    for page in BLUEPRINTS:
        app.register_blueprint(page.bp)
    register_filters(app)
    names.register(app)  # the `who` filter: user ids as names
    nav.register(app)  # 待我审批 only for approvers
    rules.enforce(app)  # every endpoint's declared door (web/rules.py), checked before its view
    _error_pages(app)
    ops_guard.register(app)  # public URL, ProxyFix, NUL in forms, database unavailable
    attach_scheduler(app)  # successful POSTs poke the publishing scheduler
    return app


def app_settings(config: Mapping[str, Any]) -> Settings:
    """The settings of an app built with ``config`` (see :func:`create_app`)."""
    base = config.get(SETTINGS_KEY) or Settings.from_env()
    return base.override(**{s.name: config.get(s.env) for s in SETTINGS if s.env in config})


def _secret_key(settings: Settings) -> str:
    """$CALSYNC_SECRET_KEY, else a random key kept in the instance folder, so a restart keeps
    everyone logged in. Written to a temporary file and linked into place: of several
    workers starting at once exactly one key wins and every worker reads that one."""
    if settings.secret_key:
        return settings.secret_key
    instance = settings.instance_dir
    path = settings.secret_key_file
    for _ in range(50):
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
            time.sleep(0.01)  # unreadable for a moment (a file someone truncated by hand)
            continue
        instance.mkdir(parents=True, exist_ok=True)
        tmp = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another worker linked first: then read theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


def _error_pages(app: Flask) -> None:
    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError):
        return page(400, "请求无效",
                    "表单已过期或缺少安全校验（CSRF），请返回上一页刷新后重新提交。")

    @app.errorhandler(400)
    def bad_request(exc):
        # A view that knows what was wrong says it (abort(400, description="…"), in Chinese).
        said = getattr(exc, "description", None)
        return page(400, "请求无效", said if said and said != BadRequest.description
                    else "提交的内容无法识别，请返回上一页重新填写。")

    @app.errorhandler(403)
    def forbidden(_exc):
        return page(403, "无权操作",
                    "您没有权限查看或执行此操作。如有疑问，请联系秘书科（办公室）。")

    @app.errorhandler(404)
    def not_found(_exc):
        return page(404, "未找到", "没有找到该页面或会议，可能已被调整或取消。")
