"""What the navigation bar offers a user: 待我审批 only to people who approve something."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from calsync import access

from .core import core, user


def approves_anything() -> bool:
    if not current_user.is_authenticated:
        return False
    u = user()
    if access.approves_by_position(u.org, u.username, u.role):
        return True
    # Anyone an item is actually addressed to (e.g. the chair of a requested meeting): the
    # same rules the 待我审批 page lists by (calsync.access).
    viewer = u.viewer
    store = core().store
    return any(access.leave_step(viewer, n) is not None
               for n in store.leave.leave_notes(u.org.id, status="pending")) or any(
        access.may_decide_request(viewer, r)
        for r in store.requests.meeting_requests(u.org.id, status="pending"))


def register(app: Flask) -> None:
    app.jinja_env.globals["approves_anything"] = approves_anything
