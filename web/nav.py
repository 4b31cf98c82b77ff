"""What the navigation bar offers a user: 待我审批 only to people who approve something."""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from calsync.approvers import approves_by_position

from .core import core, user


def approves_anything() -> bool:
    if not current_user.is_authenticated:
        return False
    u = user()
    if approves_by_position(u.org, u.username, u.role):
        return True
    # Anyone an item is actually addressed to (e.g. the chair of a requested meeting).
    store = core().store
    return any(n.status == "pending" and (
        (n.chair_id == u.username and n.chair_status == "pending")
        or (n.needs_director and n.director_id == u.username))
        for n in store.leave_notes(u.org.id, status="pending")) or any(
        r.approver_id == u.username for r in store.meeting_requests(u.org.id, status="pending"))


def register(app: Flask) -> None:
    app.jinja_env.globals["approves_anything"] = approves_anything
