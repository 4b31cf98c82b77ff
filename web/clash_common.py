"""What the 冲突 page and its merge page share: the blueprint, the week's clashes, a decision's
version and the way back to the week."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, redirect, url_for

from calsync.app.service import clash_view

from . import occurrences as occ_mod
from .core import core

bp = Blueprint("clashes", __name__, url_prefix="/clashes")

CONCURRENT = ("另一位秘书刚刚对此会议作出了决定（{who}）。"
              "您填写的内容已保留，请核对最新情况后再提交。")


def decision_version(series_uid: str | None, rid: str | dt.datetime | None) -> int:
    """The active decision's version on an occurrence (0: none); ``rid`` a clash item's
    recurrence id (ISO text) or an occurrence's nominal start."""
    nominal = occ_mod.parse_instant(rid)
    if not series_uid or nominal is None:
        return 0
    d = core().store.decisions.active_decision(series_uid, nominal)
    return d.version if d else 0


def week_clashes(org_id: str, week: occ_mod.Week):
    c = core()
    clashes, occs = clash_view(c.policies, c.store, week.monday, week.sunday, [org_id])
    return clashes, occs


def back_to_week(org_id: str, week: str | None):
    return redirect(url_for("clashes.index", org=org_id, week=week or None))
