"""Request-level guards of the service (issue 14): the public URL every generated link uses
(web/links.py), ProxyFix only behind a configured proxy, NUL characters cleaned from forms, and
a database that cannot be used answered with one clear page (503) instead of a 500 or a form
error. Issue 20: the session cookie is Secure behind an https public URL, and no page may be
framed (clickjacking)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, flash, render_template
from werkzeug.datastructures import ImmutableMultiDict

from calsync.errors import UsageError
from calsync.settings import ENV_PUBLIC_URL, ENV_TRUSTED_PROXIES, SETTINGS_KEY
from calsync.store.health import StoreUnavailable

log = logging.getLogger("calsync.web")

NUL_CLEANED = "提交的内容含有空字符（NUL），已自动删除；请核对后再保存。"
CSP = "Content-Security-Policy"
NO_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def public_url(value: str | None) -> str | None:
    """``CALSYNC_PUBLIC_URL`` checked: ``https://host[:port][/prefix]``, without a trailing
    slash; None when unset."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise UsageError(f"{ENV_PUBLIC_URL}={value!r} is not an address like "
                         f"https://calendar.example.org (fix or unset it)")
    return value.strip().rstrip("/")


def trusted_proxies(value: str | None) -> int:
    if not value:
        return 0
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise UsageError(f"{ENV_TRUSTED_PROXIES}={value!r} is not a number of proxies "
                         f"(e.g. 1 behind one nginx; unset without a proxy)")
    return n


class NulCleaningRequest(Request):
    """PostgreSQL text cannot hold NUL and SQLite keeps it invisibly: every form field is
    cleaned of it when the form is parsed, and the person is told."""

    def _load_form_data(self) -> None:
        parsed = "form" in self.__dict__
        super()._load_form_data()
        if parsed:
            return
        form = self.__dict__["form"]
        if not any("\x00" in k or "\x00" in v for k, v in form.items(multi=True)):
            return
        self.__dict__["form"] = ImmutableMultiDict(
            [(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in form.items(multi=True)])
        flash(NUL_CLEANED, "warn")


def register(app: Flask) -> None:
    settings = app.config[SETTINGS_KEY]   # the app config's keys over the variables
    public = public_url(settings.public_url)
    # web/links.py builds every feed, webcal, sign-in and QR link from this key (else from
    # the listen address); never from the request's Host header
    app.config[ENV_PUBLIC_URL] = public
    if public and public.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True  # never sent over plain http
    proxies = trusted_proxies(str(settings.trusted_proxies or "") or None)
    app.config[ENV_TRUSTED_PROXIES] = proxies  # calsync/serve.py reads it (waitress_options)
    if proxies and not public:
        log.warning("calsync: %s is set but %s is not: links use the address calsync listens "
                    "on, not the proxy's (set %s)", ENV_TRUSTED_PROXIES, ENV_PUBLIC_URL,
                    ENV_PUBLIC_URL)
    if proxies:  # X-Forwarded-* believed only from that many proxies in front
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies, x_port=proxies, x_prefix=proxies)

    # forms are cleaned when a view first reads them, so a view may still set its own upload
    # limit (request.max_content_length) before the body is parsed
    app.request_class = NulCleaningRequest
    app.after_request(_no_framing)

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable):
        log.error("calsync: %s", exc)
        return render_template(
            "error.html", code=503, title="数据库暂时无法使用",
            message="数据库暂时无法读写，您的操作没有保存。"
                    "请稍后重试，或联系管理员查看服务日志。"), 503


def _no_framing(response: Response) -> Response:
    """Every HTML page, error pages included: no other site may frame it (a click on a
    framed 合并 or 发送 button is the secretary's click). A view's own policy, if any, keeps its
    directives and gains this one."""
    if response.mimetype == "text/html":
        csp = response.headers.get("Content-Security-Policy")
        if csp and "frame-ancestors" not in csp:
            response.headers["Content-Security-Policy"] = f"{csp}; {NO_FRAMING[CSP]}"
        elif not csp:
            response.headers[CSP] = NO_FRAMING[CSP]
        response.headers["X-Frame-Options"] = NO_FRAMING["X-Frame-Options"]
    return response


def waitress_options(app: Flask) -> dict[str, Any]:
    """What ``calsync serve`` tells waitress: behind trusted proxies, leave X-Forwarded-* in
    the request for ProxyFix (waitress 3 drops them unless told otherwise); else waitress drops
    them, and nothing would believe them anyway. One mechanism, ProxyFix, decides what is
    believed under waitress and gunicorn alike."""
    if app.config.get(ENV_TRUSTED_PROXIES):
        return {"clear_untrusted_proxy_headers": False}
    return {}
