"""Subscription feeds (no login: the secret token in the URL is the credential) and the page
我的日历订阅 with the links, their QR codes and the button that rotates the token.

    GET /feeds/<token>/me.ics
    GET /feeds/<token>/section/<section_id>.ics
    GET /feeds/<token>/org/<org_id>.ics

The organization feed covers a window of months (ORG_MONTHS_BACK before this month to
ORG_MONTHS_AHEAD after it), not the whole publishing horizon: ``?all=1`` gives the horizon,
``?from=YYYY-MM-DD&to=YYYY-MM-DD`` any days in it (every feed takes these two).
While a feed is being re-rendered after a change, other readers get the last good bytes with a
short max-age (stale-while-revalidate); a feed never rendered yet answers 503 + Retry-After
when every render slot is busy (web/feed_cache.py).

An unknown or rotated token, an unknown scope or one the person may not see all get the same
bare 404. ETags are strong: the sha256 of the identity bytes, with "-gzip" appended for the
gzip representation (RFC 9110 8.8.3: each representation has its own strong validator);
If-None-Match compares weakly (RFC 9110 13.1.2), so either spelling gives a 304.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from email.utils import format_datetime, parsedate_to_datetime

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from werkzeug.http import parse_accept_header

from calsync.access import external_viewer, may_read_feed
from calsync.ical.feeds import Scope, Viewer, Window, parse_scope, viewer_for, window_months
from calsync.meetings.accounts import role_for
from calsync.occurrence import default_horizon

from .core import core, user
from .feed_cache import RENDERERS, WAIT_SECONDS, FeedCache, Rendered
from .links import external_url

bp = Blueprint("feeds", __name__)

GZIP_SUFFIX = "-gzip"
ORG_MONTHS_BACK = 3
ORG_MONTHS_AHEAD = 15
STALE_MAX_AGE = 60        # seconds: come back soon for the bytes being rendered
RETRY_AFTER = 10          # seconds, on 503 (a first render while every slot is busy)

_cache_lock = threading.Lock()


def cache() -> FeedCache:
    app = current_app
    found = app.extensions.get("calsync_feeds")
    if found is None:
        with _cache_lock:
            found = app.extensions.get("calsync_feeds")
            if found is None:
                c = core()
                # Tests (TESTING) wait long for the inputs: a loaded CI machine must not
                # turn "this client sees its own change" into a stale answer.
                wait = app.config.get("CALSYNC_FEED_WAIT_SECONDS") or (
                    120.0 if app.testing else WAIT_SECONDS)
                found = FeedCache(lambda: c.policies, c.store, c.now,
                                  renderers=app.config.get("CALSYNC_FEED_RENDERERS")
                                  or RENDERERS, wait_seconds=float(wait))
                app.extensions["calsync_feeds"] = found
    return found


def _not_found() -> Response:
    return Response("Not Found\n", 404, {"Content-Type": "text/plain; charset=utf-8",
                                         "Cache-Control": "no-store"})


@bp.route("/feeds/<token>/me.ics")
def feed_me(token: str) -> Response:
    return _serve(token, parse_scope("me"))


@bp.route("/feeds/<token>/section/<section_id>.ics")
def feed_section(token: str, section_id: str) -> Response:
    return _serve(token, parse_scope("section", section_id))


@bp.route("/feeds/<token>/org/<org_id>.ics")
def feed_org(token: str, org_id: str) -> Response:
    return _serve(token, parse_scope("org", org_id))


def _serve(token: str, scope: Scope | None) -> Response:
    feeds = cache()
    stamp = feeds.stamp()
    viewer = feeds.viewer(token, stamp, _viewer)
    if viewer is None or scope is None or not may_read_feed(feeds.policies, viewer, scope):
        return _not_found()
    try:
        window = _window(scope)
    except ValueError as exc:
        return Response(f"{exc}\n", 400, {"Content-Type": "text/plain; charset=utf-8",
                                          "Cache-Control": "no-store"})
    rendered = feeds.feed(viewer, scope, stamp, window)
    if rendered is None:
        return Response("busy rendering feeds, try again shortly\n", 503,
                        {"Content-Type": "text/plain; charset=utf-8",
                         "Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"})
    gz = gzip_ok(request.headers.get("Accept-Encoding", ""))
    sent = dt.datetime.now(dt.UTC).replace(microsecond=0)
    headers = dict(not_modified_headers(rendered, gz, sent))
    if _not_modified(rendered):
        return Response(status=304, headers=headers)
    # RFC 9110 8.8.2.1: Last-Modified is never later than Date. The stored stamp can be
    # (it moves a second forward per change, and past a clock that went back); the 304 check
    # above still compares against the stored one, so no change is ever hidden.
    headers["Last-Modified"] = _http_date(min(rendered.last_modified, sent))
    headers["Content-Type"] = "text/calendar; charset=utf-8"
    body = rendered.gzipped if gz else rendered.body
    if gz:
        headers["Content-Encoding"] = "gzip"
    return Response(body, 200, headers)


def _window(scope: Scope) -> Window | None:
    """The days the feed covers: ``?all=1`` the horizon, ``?from=&to=`` those days; the
    organization feed defaults to a window of months around today, the others to the horizon."""
    if not request.query_string:   # what calendar apps poll: no parsing on the 304 path
        return default_window(scope, core().now().date())
    args = request.args
    if args.get("all") in ("1", "true", "yes"):
        return None
    if "from" in args or "to" in args:
        try:
            first = dt.date.fromisoformat(args.get("from") or "0001-01-01")
            last = dt.date.fromisoformat(args.get("to") or "9999-12-31")
        except ValueError:
            raise ValueError("from and to are days: ?from=YYYY-MM-DD&to=YYYY-MM-DD") from None
        if last < first:
            raise ValueError(f"to={last} is before from={first} (swap them)")
        start, end = default_horizon(core().now().date())
        first, last = max(first, start), min(last, end)   # one key per distinct feed
        return None if (first, last) == (start, end) else (first, last)
    if scope != "me" and scope[0] == "org":
        return window_months(core().now().date(), ORG_MONTHS_BACK, ORG_MONTHS_AHEAD)
    return None


def default_window(scope: Scope, today: dt.date) -> Window | None:
    """The days of a feed asked for without a query: a window of months for the
    organization's, the horizon (None) for the others."""
    if scope != "me" and scope[0] == "org":
        return window_months(today, ORG_MONTHS_BACK, ORG_MONTHS_AHEAD)
    return None


def not_modified_headers(rendered: Rendered, gz: bool, sent: dt.datetime
                         ) -> list[tuple[str, str]]:
    """What a 304 must carry (RFC 9110 15.4.5): ETag, Date, Vary and Cache-Control."""
    return [("ETag", f'"{rendered.etag}{GZIP_SUFFIX if gz else ""}"'),
            ("Date", _http_date(sent)),
            ("Cache-Control", "private, max-age="
                              f"{STALE_MAX_AGE if rendered.stale else rendered.max_age}"),
            ("Vary", "Accept-Encoding")]


@functools.lru_cache(maxsize=64)
def gzip_ok(accept_encoding: str) -> bool:
    """Whether gzip is acceptable (RFC 9110 12.5.3), parsed once per distinct header: calendar
    apps send the same one on every poll."""
    return parse_accept_header(accept_encoding).quality("gzip") > 0


@functools.lru_cache(maxsize=64)
def _http_date(when: dt.datetime) -> str:
    return format_datetime(when, usegmt=True)


def _viewer(person_id: str, organization: str) -> Viewer | None:
    policies = core().policies
    org = policies.organizations.get(organization)
    person = org.people.get(person_id) if org is not None else None
    if org is None or person is None or not person.present(core().now().date()):
        return None  # a person who left: their feed links end with their login
    if person.external:   # a link passed on by the secretary (web/external_feeds.py)
        return external_viewer(organization, person)
    return viewer_for(policies, person_id, organization, role_for(org, person))


def _not_modified(rendered: Rendered) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
        return etag_matches(inm, rendered.etag)
    ims = request.headers.get("If-Modified-Since")
    if not ims:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return rendered.last_modified <= since


def etag_matches(if_none_match: str, etag: str) -> bool:
    return any(_same(tag, etag) for tag in if_none_match.split(","))


def _same(tag: str, etag: str) -> bool:
    tag = tag.strip()
    if tag == "*":
        return True
    tag = tag.removeprefix("W/").strip('"')
    return tag.removesuffix(GZIP_SUFFIX) == etag


# -- the page ---------------------------------------------------------------------------------

@bp.route("/subscriptions")
@login_required
def subscriptions():
    u = user()
    token = core().store.feeds.feed_token(u.username, u.org.id, actor=u.username)
    links = []
    scopes: list[tuple[str, str, dict[str, str]]] = [("我的会议（含截止事项和我的请假状态）",
                                                      "feeds.feed_me", {})]
    section = u.org.sections.get(u.person.section or "") if u.person else None
    if section is not None:
        scopes.append((f"本科室：{section.name}", "feeds.feed_section",
                       {"section_id": section.id}))
    scopes.append((f"本单位：{u.org.calendar_name or u.org.name}", "feeds.feed_org",
                   {"org_id": u.org.id}))
    for title, endpoint, args in scopes:
        https = external_url(endpoint, token=token, **args)
        webcal = "webcal://" + https.split("://", 1)[1]
        links.append({"title": title, "https": https, "webcal": webcal,
                      "qr_https": _qr(https), "qr_webcal": _qr(webcal)})
    refresh = u.org.feed_refresh_minutes
    return render_template("subscriptions.html", links=links, refresh=refresh)


@bp.route("/subscriptions/rotate", methods=["POST"])
@login_required
def rotate():
    u = user()
    store = core().store
    store.feeds.feed_token(u.username, u.org.id, actor=u.username)
    store.feeds.rotate_feed_token(u.username, actor=u.username)
    flash("订阅地址已更换，原地址立即失效。请在日历应用中删除旧订阅，用下面的新地址重新订阅。",
          "info")
    return redirect(url_for("feeds.subscriptions"))


@functools.lru_cache(maxsize=2048)
def _qr(text: str) -> str:
    """The QR code of a link (cached: 6 codes per view of 我的日历订阅, same links each time)."""
    return segno.make(text, error="m").svg_data_uri(scale=3, border=2)
