"""发布: the dry-run plan first, then a button applies it (secretaries, own organization)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from calsync.errors import CalsyncError

from .core import authorize, core, now, secretary_required, user
from .forms import PlainForm

bp = Blueprint("publish", __name__, url_prefix="/publish")


def _target():
    from calsync.sync.client import Target

    conf = core().caldav
    if not conf or not conf.get("url"):
        return None
    return Target(url=conf["url"], username=conf.get("username"),
                  password=conf.get("password"), server_kind=conf.get("server_kind"))


@bp.route("", methods=["GET", "POST"])
@login_required
@secretary_required
def index():
    from calsync.service import default_horizon, publish_orgs

    form = PlainForm()
    target = _target()
    org_id = user().org.id
    authorize("publish", org_id)
    if target is None:
        return render_template("publish.html", form=form, configured=False, result=None)
    apply = request.method == "POST" and form.validate_on_submit()
    start, end = default_horizon(now().date())
    c = core()
    try:
        _, result = publish_orgs(c.policies, c.store, target, [org_id], start, end,
                                 dry_run=not apply)
    except CalsyncError as exc:
        return render_template("publish.html", form=form, configured=True, result=None,
                               failure=" ".join(exc.lines())), 502
    return render_template("publish.html", form=form, configured=True, result=result,
                           start=start, end=end, failure=None)
