"""The cookie session, skipped for the subscription feeds.

Feeds are authenticated by the token in their URL, never by the login cookie: a calendar app
polling a feed gets no session opened, signed or saved (a quarter of the 304 path's time went
to the session before), and a feed response never sets a cookie."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

FEED_PREFIX = "/feeds/"


class FeedlessSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(FEED_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response) -> None:  # type: ignore[no-untyped-def]
        if self.is_null_session(session):
            return
        super().save_session(app, session, response)
