"""临时会议: the organizer section adds an extra occurrence of any policy meeting type
(篇一 二.2 "遇有重大事项可随时召开", 五.2 "可临时增加").

Before saving, the clashes of the new meeting with the week's occurrences are shown
(calsync.app.service.policy_clashes); the secretary may save anyway with a note, which the
event's description then carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from calsync.app.service import generation, policy_clashes, stored_busy
from calsync.errors import ConcurrentChange, StoreError
from calsync.meetings import adhoc
from calsync.occurrence import TZ
from calsync.policy.model import Organization

from .core import authorize, core, user

bp = Blueprint("adhoc", __name__, url_prefix="/adhoc")

LOCAL = "%Y-%m-%dT%H:%M"   # what <input type="datetime-local"> sends


def _when(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.strptime((text or "").strip()[:16], LOCAL).replace(tzinfo=TZ)
    except ValueError:
        return None


def _form(org: Organization) -> tuple[adhoc.AdhocForm | None, dict[str, str], dict[str, Any]]:
    f = request.form
    raw = {k: f.get(k, "") for k in ("meeting_type", "section_id", "title", "start", "end",
                                      "room", "note")}
    raw["extra"] = [p for p in f.getlist("extra") if p]
    start, end = _when(raw["start"]), _when(raw["end"])
    errors: dict[str, str] = {}
    if start is None:
        errors["start"] = "请填写开始时间。"
    if end is None:
        errors["end"] = "请填写结束时间。"
    if len(raw["note"]) > adhoc.MAX_NOTE:
        errors["note"] = f"说明不超过{adhoc.MAX_NOTE}个字。"
    if start is None or end is None:
        return None, errors, raw
    form = adhoc.AdhocForm(raw["meeting_type"], start, end, raw["title"].strip(),
                           raw["section_id"] or None, raw["room"] or None, tuple(raw["extra"]))
    errors.update(adhoc.validate(org, form))
    return form, errors, raw


def _clashes(org: Organization, form: adhoc.AdhocForm) -> list[Any]:
    """The clashes the new meeting would have with its week (the store's inputs applied)."""
    c = core()
    day = form.start.date()
    monday = day - dt.timedelta(days=day.weekday())
    sunday = monday + dt.timedelta(days=6)
    occs = generation(c.policies, c.store, monday, sunday, [org.id]).occurrences()
    new = adhoc.candidate(org, form)
    found = policy_clashes(c.policies, [*occs, new], stored_busy(c.store, monday, sunday))
    return [cl for cl in found if any(it.series_uid == new.uid for it in cl.items)]


def _page(org: Organization, raw: dict[str, Any], errors: dict[str, str],
          clashes: list[Any] | None = None, status: int = 200):
    rows = core().store.adhoc.adhoc_meetings(org.id)
    return render_template("adhoc.html", org=org, raw=raw, errors=errors, clashes=clashes,
                           types=adhoc.meeting_types(org), rows=rows,
                           uid=lambda r: adhoc.series_uid(org, r.id),
                           people=[p for p in org.people.values()]), status


@bp.route("", methods=["GET"])
@login_required
def index():
    u = user()
    authorize("adhoc", u.org.id)
    return _page(u.org, {"extra": []}, {})


@bp.route("", methods=["POST"])
@login_required
def create():
    u = user()
    org = u.org
    authorize("adhoc", org.id)
    form, errors, raw = _form(org)
    if form is None or errors:
        return _page(org, raw, errors, status=400)
    clashes = _clashes(org, form)
    note = raw["note"].strip()
    if clashes and not request.form.get("confirm"):
        return _page(org, raw, {}, clashes)
    if clashes and not note:
        return _page(org, raw, {"note": "与其他会议时间冲突，仍要保存请填写说明。"}, clashes,
                     status=400)
    try:
        row = core().store.adhoc.add_adhoc(
            org.id, meeting_type=form.meeting_type, start=form.start.isoformat(),
            end=form.end.isoformat(), actor=u.username, title=form.title,
            section_id=form.section_id, room=form.room, extra=form.extra,
            note=note if clashes else "")
    except StoreError as exc:
        return _page(org, raw, {"meeting_type": f"未能保存：{exc}"}, status=400)
    flash(f"已增加临时会议（第{row.id}号）" + ("，已记录冲突说明。" if clashes else "。"), "ok")
    return redirect(url_for("meetings.meeting", series_uid=adhoc.series_uid(org, row.id),
                            rid=form.start.isoformat()))


@bp.route("/<int:adhoc_id>/withdraw", methods=["POST"])
@login_required
def withdraw(adhoc_id: int):
    store = core().store
    row = store.adhoc.get_adhoc(adhoc_id)
    if row is None:
        abort(404)
    authorize("adhoc", row.organization)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    try:
        store.adhoc.withdraw_adhoc(adhoc_id, expected_version=version, actor=user().username)
    except ConcurrentChange:
        flash("另一位秘书刚刚修改了这项临时会议，请核对后再操作。", "warn")
    except StoreError:
        flash("这项临时会议已经取消。", "warn")
    else:
        flash(f"已取消临时会议（第{adhoc_id}号），日历中显示为已取消。", "ok")
    return redirect(url_for("adhoc.index"))
