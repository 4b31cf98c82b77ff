"""发布: the last dry-run plan (refreshed in the background, web/publish_plans.py), then a
button applies a publish (secretaries, own organization)."""

from __future__ import annotations

import datetime as dt
import threading

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from calsync.app.service import publish_orgs
from calsync.errors import CalsyncError
from calsync.occurrence import TZ, default_horizon
from calsync.store.changes import ChangeWatch
from calsync.sync.client import Target

from .core import authorize, core, now, secretary_required, user
from .forms import PlainForm
from .publish_plans import PlanBoard

bp = Blueprint("publish", __name__, url_prefix="/publish")

_board_lock = threading.Lock()


def _target():

    conf = core().caldav
    if not conf or not conf.get("url"):
        return None
    return Target(url=conf["url"], username=conf.get("username"),
                  password=conf.get("password"), server_kind=conf.get("server_kind"))


def board() -> PlanBoard:
    """The app's PlanBoard (created on first use; its dry runs use this app's core)."""
    app = current_app
    found = app.extensions.get("calsync_plans")
    if found is not None:
        return found
    with _board_lock:
        found = app.extensions.get("calsync_plans")
        if found is None:

            c = core()
            target = _target()
            watch = ChangeWatch(c.store.engine)

            def make(org: str):
                start, end = default_horizon(c.now().date())
                _, result = publish_orgs(c.policies, c.store, target, [org], start, end,
                                         dry_run=True)
                return start, end, result

            found = PlanBoard(make, watch.stamp, lambda: dt.datetime.now(TZ))
            app.extensions["calsync_plans"] = found
    return found


@bp.route("", methods=["GET", "POST"])
@login_required
@secretary_required
def index():
    form = PlainForm()
    target = _target()
    org_id = user().org.id
    authorize("publish", org_id)
    if target is None:
        return render_template("publish.html", form=form, configured=False, result=None)
    if request.method == "POST" and form.validate_on_submit():
        start, end = default_horizon(now().date())
        c = core()
        try:
            _, result = publish_orgs(c.policies, c.store, target, [org_id], start, end)
        except CalsyncError as exc:
            return render_template("publish.html", form=form, configured=True, result=None,
                                   failure=" ".join(exc.lines())), 502
        board().forget(org_id)
        board().refresh(org_id)       # the next view shows what is left to do
        return render_template("publish.html", form=form, configured=True, result=result,
                               start=start, end=end, failure=None)
    plan, refreshing = board().view(org_id)
    if plan is not None and plan.failure:
        return render_template("publish.html", form=form, configured=True, result=None,
                               failure=plan.failure, refreshing=refreshing), 502
    return render_template("publish.html", form=form, configured=True,
                           result=plan.result if plan else None, plan=plan,
                           refreshing=refreshing, start=plan.start if plan else None,
                           end=plan.end if plan else None, failure=None)
