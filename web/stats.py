"""统计: meetings each section held, per month and per semester (篇二 二.3: the office counts
them and reports to the director). Secretaries and leaders of the organization; staff 403."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from .core import core, now, user

bp = Blueprint("stats", __name__, url_prefix="/stats")

ROLES = ("secretary", "leader")


def _year(text: str | None) -> int:
    if not text:
        return now().year
    try:
        year = int(text)
    except ValueError:
        abort(400)
    if not 2000 <= year <= 2100:
        abort(400)
    return year


@bp.route("")
@login_required
def index():
    from calsync.cli_stats import org_stats

    u = user()
    if u.role not in ROLES:
        abort(403)
    # Counts are reported to the unit's own director: other organizations' are not shown.
    org_id = request.args.get("org") or u.org.id
    if org_id != u.org.id:
        abort(403)
    year = _year(request.args.get("year"))
    c = core()
    stats = org_stats(c.policies, c.store, org_id, dt.date(year, 1, 1), dt.date(year, 12, 31))
    return render_template("stats.html", stats=stats, year=year, org_id=org_id,
                           org=c.policies.organizations[org_id])
