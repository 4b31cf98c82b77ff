"""外部人员订阅: feed links for the directory's external attendees (county directors, 校长 —
people with ``external = true``, who have no login). A secretary of the organization sees
each one's link (https and webcal) to pass on, and rotates it when it leaked. The feed itself
is web/feeds.py's ``me`` feed for a Viewer built from the external person
(calsync.access.external_viewer): the occurrences naming them, nothing else.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import login_required

from .core import authorize, core, user
from .feeds import _qr
from .links import external_url

bp = Blueprint("external_feeds", __name__, url_prefix="/subscriptions/external")


@bp.route("")
@login_required
def index():
    u = user()
    authorize("external-feeds", u.org.id)
    store = core().store
    links = []
    for p in u.org.people.values():
        if not p.external:
            continue
        token = store.feeds.feed_token(p.id, u.org.id, actor=u.username)
        https = external_url("feeds.feed_me", token=token)
        webcal = "webcal://" + https.split("://", 1)[1]
        links.append({"person": p, "https": https, "webcal": webcal, "qr": _qr(webcal)})
    return render_template("external_feeds.html", links=links, org=u.org)


@bp.route("/<person_id>/rotate", methods=["POST"])
@login_required
def rotate(person_id: str):
    u = user()
    authorize("external-feeds", u.org.id)
    person = u.org.people.get(person_id)
    if person is None or not person.external:
        abort(404)
    store = core().store
    store.feeds.feed_token(person.id, u.org.id, actor=u.username)
    store.feeds.rotate_feed_token(person.id, actor=u.username)
    flash(f"已更换{person.name}的订阅地址，原地址立即失效，请将新地址转交本人。", "info")
    return redirect(url_for("external_feeds.index"))
