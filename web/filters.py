"""Jinja filters: Chinese dates and labels (all output stays autoescaped)."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from calsync.occurrence import TZ

WEEKDAYS = "一二三四五六日"
LABELS = {
    "pending": "待审批", "approved": "已批准", "rejected": "未批准", "withdrawn": "已撤回",
    "move": "调整", "cancel": "取消", "merge": "合并", "confirm": "确认召开",
    "TENTATIVE": "待定", "offset": "错开时间", "delegate": "委派代会",
    "person": "人员冲突", "room": "会场冲突", "audience": "参会人员重合",
    "non-working-day": "非工作日",
    "CHAIR": "主持", "REQ-PARTICIPANT": "参加", "OPT-PARTICIPANT": "可选参加",
    "NON-PARTICIPANT": "列席",
    "NEEDS-ACTION": "", "ACCEPTED": "已确认", "DECLINED": "请假", "DELEGATED": "请假（委派代会）",
    "CONFIRMED": "", "CANCELLED": "已取消",
    "web": "网页", "calendar-app": "日历应用", "cli": "命令行",
    "edited": "在日历应用中被修改", "deleted": "在日历应用中被删除",
    "edited-and-changed": "日历应用和制度都有修改",
}


def _as_dt(value: object) -> dt.datetime | None:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(TZ) if value.tzinfo else value
    return None


def when(value: object) -> str:
    d = _as_dt(value)
    return f"{d:%Y-%m-%d} 周{WEEKDAYS[d.weekday()]} {d:%H:%M}" if d else ""


def hm(value: object) -> str:
    d = _as_dt(value)
    return f"{d:%H:%M}" if d else ""


def day(value: object) -> str:
    if isinstance(value, dt.datetime):
        value = value.astimezone(TZ).date()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.date):
        return f"{value.month}月{value.day}日 周{WEEKDAYS[value.weekday()]}"
    return ""


def label(value: object) -> str:
    return LABELS.get(str(value), str(value)) if value is not None else ""


def local_input(value: object) -> str:
    """Value for an <input type="datetime-local">."""
    d = _as_dt(value)
    return f"{d:%Y-%m-%dT%H:%M}" if d else ""


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(when=when, hm=hm, day=day, label=label,
                                 local_input=local_input)
