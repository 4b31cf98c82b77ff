"""一周会议安排: the week's meetings of the user's organization as offices post them on the
notice board — a printable page and a Word document. Any logged-in member of the
organization; every line as calsync.access lets them see it. ``board=1`` is the notice-board
version: made for nobody in particular (calsync.access.OPERATOR), so a confidential meeting
is 忙碌 with its time, whoever prints it.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from flask_login import login_required

from calsync.access import OPERATOR
from calsync.app.held_inputs import org_sheet
from calsync.meetings import weekly

from . import occurrences as occ_mod
from .core import core, now, org_choice, user

bp = Blueprint("weekly", __name__, url_prefix="/weekly")

CHOICES_BEFORE, CHOICES_AFTER = 4, 8   # weeks offered in the chooser around the coming week


def _monday() -> dt.date:
    """``week=YYYY-Www`` or ``day=YYYY-MM-DD`` (any day of it); else the coming week."""
    week, day = request.args.get("week"), request.args.get("day")
    if week:
        return occ_mod.parse_week(week).monday
    chosen = occ_mod.parse_day(day)   # a year outside the calendar's: 400
    if chosen is not None:
        return occ_mod.Week.of(chosen).monday
    return weekly.coming_week(now().date())


def _sheet() -> tuple[weekly.Sheet, bool]:
    org_id = org_choice(request.args.get("org"))
    board = request.args.get("board") == "1"
    c = core()
    viewer = OPERATOR if board else user().viewer
    return org_sheet(c.policies, c.store, org_id, _monday(), viewer, public=board), board


def _label(monday: dt.date) -> str:
    return occ_mod.Week.of(monday).label


@bp.route("")
@login_required
def sheet():
    s, board = _sheet()
    coming = weekly.coming_week(now().date())
    choices = [coming + dt.timedelta(days=7 * i)
               for i in range(-CHOICES_BEFORE, CHOICES_AFTER + 1)]
    if s.monday not in choices:
        choices = sorted([*choices, s.monday])
    return render_template("weekly.html", sheet=s, board=board, label=_label(s.monday),
                           prev=_label(s.monday - dt.timedelta(days=7)),
                           next=_label(s.monday + dt.timedelta(days=7)),
                           choices=[(_label(m), m, m + dt.timedelta(days=6)) for m in choices],
                           coming=_label(coming))


@bp.route("/sheet.docx")
@login_required
def docx():
    s, _ = _sheet()
    name = f"{s.title}（{s.monday:%Y%m%d}-{s.sunday:%Y%m%d}）.docx"
    return Response(weekly.to_docx(s), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument."
                        "wordprocessingml.document",
        "Content-Disposition": f"attachment; filename=\"weekly-{s.monday:%Y%m%d}.docx\"; "
                               f"filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-store"})
