"""Absolute links that leave the page (feed and webcal links, sign-in links, their QR codes,
the week links in mails): all built here, from one configured address.

The address is ``CALSYNC_PUBLIC_URL`` when set; else the address ``calsync serve`` listens on
(``CALSYNC_LISTEN_URL``, put in the app config by calsync/serve.py); else ``http://localhost``.
Never the request's Host header (nor X-Forwarded-Host): a Host a stranger chose must not end up
in a QR code or an e-mail (issue 20, item 10).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for

LISTEN_URL = "CALSYNC_LISTEN_URL"
FALLBACK = "http://localhost"


def configured_base() -> str | None:
    """The public or listen address, without a trailing slash; None when neither is known
    (a mail then carries no link rather than a localhost one)."""
    config = current_app.config
    found = config.get("CALSYNC_PUBLIC_URL") or config.get(LISTEN_URL)
    return found.rstrip("/") if found else None


def base() -> str:
    """The address links on the page start with, without a trailing slash."""
    return configured_base() or FALLBACK


def absolute(path: str) -> str:
    """``path`` (as url_for gives it) under :func:`base`. A prefix a proxy announced
    (SCRIPT_NAME) is dropped first: the configured address already carries its own."""
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root + "/"):
        path = path[len(root):]
    return base() + path


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` as an absolute link under the configured address."""
    return absolute(url_for(endpoint, **values))
