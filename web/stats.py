"""统计: meetings each section held beside those it had scheduled, per month and per semester
(half-year without semesters) (篇二 二.3: the office counts them and reports to the director;
篇一 四.4 考核). Charts (server-rendered SVG), CSV and XLSX exports, a printable monthly report.
Who reads them is calsync.access.may_read_stats (secretaries and leaders of the organization;
staff 403; another organization 403); the menu asks the same rule (:func:`stats_reader`).
"""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from calsync import access
from calsync.app.held_inputs import org_held
from calsync.meetings import charts, held_report
from calsync.meetings.held import Cell, HeldStats

from . import occurrences as occ_mod
from .core import core, now, org_choice, user

bp = Blueprint("stats", __name__, url_prefix="/stats")



def _year(text: str | None) -> int:
    if not text:
        return now().year
    try:
        year = int(text)
    except ValueError:
        abort(400)
    if not occ_mod.MIN_YEAR <= year <= occ_mod.MAX_YEAR:
        occ_mod.out_of_range()
    return year


def _month(text: str | None) -> tuple[int, int]:
    if not text:
        today = now().date()
        return today.year, today.month
    occ_mod.check_month(text)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if not m:
        abort(400)
    return int(m[1]), int(m[2])


def _org_id() -> str:
    # Counts are reported to the unit's own director: other organizations' are not shown.
    org_id = org_choice(request.args.get("org"))
    if not access.may_read_stats(user().viewer, org_id):
        abort(403)
    return org_id


@bp.app_template_global()
def stats_reader() -> bool:
    """The 统计 menu item: exactly those the views admit (calsync.access.may_read_stats)."""
    if not current_user.is_authenticated:
        return False
    u = user()
    return access.may_read_stats(u.viewer, u.org.id)


def _stats(org_id: str, start: dt.date, end: dt.date) -> HeldStats:
    c = core()
    return org_held(c.policies, c.store, org_id, start, end, c.now())


def _year_stats() -> tuple[str, int, HeldStats]:
    org_id = _org_id()
    year = _year(request.args.get("year"))
    return org_id, year, _stats(org_id, dt.date(year, 1, 1), dt.date(year, 12, 31))


@bp.route("")
@login_required
def index():
    org_id, year, stats = _year_stats()
    month_chart = charts.bars([f"{int(m[5:])}月" for m in stats.months], stats.month_totals,
                              title=f"{stats.name}{year}年各月会议：计划与召开",
                              chart_id="chart-months")
    section_chart = charts.hbars([r.section_name for r in stats.rows],
                                [r.total for r in stats.rows],
                                title=f"{stats.name}{year}年各{stats.section_word}会议：计划与召开",
                                chart_id="chart-sections")
    return render_template("stats.html", stats=stats, year=year, org_id=org_id,
                           org=core().policies.organizations[org_id], month_chart=month_chart,
                           section_chart=section_chart, percent=held_report.percent,
                           this_month=f"{now():%Y-%m}")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    from urllib.parse import quote

    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"stats.{name.rsplit('.', 1)[1]}\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store"})


@bp.route("/export.csv")
@login_required
def export_csv():
    _, year, stats = _year_stats()
    return _download(held_report.to_csv(stats, user().viewer), "text/csv; charset=utf-8",
                     f"{stats.name}{year}年会议统计.csv")


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    _, year, stats = _year_stats()
    return _download(held_report.to_xlsx(stats, user().viewer),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"{stats.name}{year}年会议统计.xlsx")


@bp.route("/report")
@login_required
def report():
    """The monthly report to the director: each section's held/scheduled, attendance, the
    meetings themselves (as the reader may see them), and the period so far."""
    org_id = _org_id()
    year, month = _month(request.args.get("month"))
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    stats = _stats(org_id, first, last)
    label = f"{year:04d}-{month:02d}"
    prev = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    nxt = (last + dt.timedelta(days=1)).strftime("%Y-%m")
    return render_template("stats_report.html", stats=stats, org=core().policies.organizations[
                           org_id], org_id=org_id, year=year, month=month, label=label,
                           prev=prev, next=nxt, percent=held_report.percent,
                           meetings=held_report.meeting_rows(user().viewer, stats, label),
                           total=sum((r.months[0] for r in stats.rows), Cell()))
