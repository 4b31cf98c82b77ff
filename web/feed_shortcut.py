"""The 304 of a subscription feed, answered before Flask.

Calendar apps poll their feeds every hour, nearly always with the ETag they have. When the
feed is cached and current (web/feed_cache.FeedCache.current: dictionaries, no I/O), the answer
is a 304 built here from the WSGI environ, without Flask's routing, hooks and request and
response objects: a conditional GET is a dictionary lookup. Anything else (no If-None-Match, a
query, a feed not cached or out of date, an unknown token, a changed ETag) goes to the Flask
view (web/feeds.py), which decides exactly as before: this adds no second rule, only an early
"not modified" that the view would have given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from calsync.ical.feeds import Scope, parse_scope

from .feeds import default_window, etag_matches, gzip_ok, not_modified_headers

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PREFIX = "/feeds/"


class FeedShortcut:
    def __init__(self, flask_app: Any, inner: WSGIApp) -> None:
        self.flask_app, self.inner = flask_app, inner

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if (inm and environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING")
                and environ.get("PATH_INFO", "").startswith(PREFIX)):
            headers = self._not_modified(environ["PATH_INFO"], inm,
                                         environ.get("HTTP_ACCEPT_ENCODING", ""))
            if headers is not None:
                start_response("304 Not Modified", headers)
                return []
        return self.inner(environ, start_response)

    def _not_modified(self, path: str, inm: str, accept_encoding: str
                      ) -> list[tuple[str, str]] | None:
        feeds = self.flask_app.extensions.get("calsync_feeds")
        found = _route(path)
        if feeds is None or found is None:
            return None
        token, scope = found
        core = self.flask_app.extensions["calsync"]
        stamp = feeds.stamp()
        rendered = feeds.current(token, scope, default_window(scope, core.now().date()), stamp)
        if rendered is None or rendered.stale or not etag_matches(inm, rendered.etag):
            return None
        sent = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return not_modified_headers(rendered, gzip_ok(accept_encoding), sent)


def _route(path: str) -> tuple[str, Scope] | None:
    """``/feeds/<token>/me.ics``, ``…/section/<id>.ics``, ``…/org/<id>.ics`` (as the view's
    routes; anything else is the view's to answer)."""
    parts = path[len(PREFIX):].split("/")
    if len(parts) == 2 and parts[1] == "me.ics":
        scope = parse_scope("me")
    elif len(parts) == 3 and parts[2].endswith(".ics") and len(parts[2]) > 4:
        scope = parse_scope(parts[1], parts[2][:-4])
    else:
        return None
    if not parts[0] or scope is None:
        return None
    return parts[0], scope
