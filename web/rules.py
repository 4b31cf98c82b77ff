"""Every endpoint's access rule, declared in one table beside the blueprints.

A rule has two halves:

- ``door``: who may reach the endpoint at all, enforced here before any view runs —
  ``public`` (anyone: the login page, static files, sign-in by code), ``token`` (whoever
  holds the feed link; the view checks the token), ``signed-in`` (a logged-in person), or
  ``secretary`` (a logged-in 秘书科/办公室 member; which organization is the view's check).
- ``decides``: the rule in :mod:`calsync.access` that the view asks about its object — the
  occurrence, note, topic or organization named in the URL. ``"visibility"`` is the one
  visibility rule; ``"may_act:<action>"`` is :func:`calsync.access.may_act` with that action;
  other names are functions of :mod:`calsync.access`. ``tests/test_access_rules.py`` checks that
  every name exists there and walks ``app.url_map``: a route missing from this table fails the
  suite, and at run time it is refused (fail closed), never served unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask import Flask, abort, request
from flask_login import current_user

from .core import login_manager

Door = Literal["public", "token", "signed-in", "secretary"]


@dataclass(frozen=True)
class Rule:
    door: Door
    decides: str


def _r(door: Door, decides: str) -> Rule:
    return Rule(door, decides)


PUBLIC, TOKEN, SIGNED_IN, SECRETARY = "public", "token", "signed-in", "secretary"

RULES: dict[str, Rule] = {
    # -- no login ------------------------------------------------------------------------
    "static": _r(PUBLIC, "nothing: the page's CSS and scripts"),
    "auth.index": _r(PUBLIC, "nothing: sends to the week or to the login form"),
    "auth.login": _r(PUBLIC, "login limiter (calsync.app.login_limit)"),
    "signin.public": _r(PUBLIC, "signin_code_view"),
    "feeds.feed_me": _r(TOKEN, "may_read_feed"),
    "feeds.feed_org": _r(TOKEN, "may_read_feed"),
    "feeds.feed_section": _r(TOKEN, "may_read_feed"),
    # -- any logged-in person: the view asks calsync.access about the object --------------
    "auth.logout": _r(SIGNED_IN, "nothing: one's own session"),
    "accounts.password": _r(SIGNED_IN, "may_act:change-password"),
    "meetings.week": _r(SIGNED_IN, "visibility"),
    "meetings.month": _r(SIGNED_IN, "visibility"),
    "meetings.meeting": _r(SIGNED_IN, "knows"),
    "meetings.confirm": _r(SIGNED_IN, "may_act:decide"),
    "weekly.sheet": _r(SIGNED_IN, "visibility"),
    "weekly.docx": _r(SIGNED_IN, "visibility"),
    "leave.index": _r(SIGNED_IN, "may_file_leave"),
    "leave.withdraw": _r(SIGNED_IN, "knows_leave_note"),
    "requests.index": _r(SIGNED_IN, "may_request"),
    "approvals.index": _r(SIGNED_IN, "leave_step"),
    "approvals.leave": _r(SIGNED_IN, "may_decide_leave"),
    "approvals.request_decision": _r(SIGNED_IN, "may_decide_request"),
    "sitting_in.add": _r(SIGNED_IN, "may_act:sit-in"),
    "sitting_in.withdraw": _r(SIGNED_IN, "may_act:sit-in"),
    "feeds.subscriptions": _r(SIGNED_IN, "may_read_feed"),
    "feeds.rotate": _r(SIGNED_IN, "nothing: one's own feed link"),
    "agenda.page": _r(SIGNED_IN, "knows"),
    "agenda.submit": _r(SIGNED_IN, "may_act:agenda-submit"),
    "agenda.decide": _r(SIGNED_IN, "sees_topic"),
    "agenda.order": _r(SIGNED_IN, "may_act:agenda-order"),
    "agenda.approve": _r(SIGNED_IN, "may_act:agenda-approve"),
    "agenda.download": _r(SIGNED_IN, "sees_topic"),
    "minutes.page": _r(SIGNED_IN, "sees_minutes"),
    "minutes.save": _r(SIGNED_IN, "may_act:minutes"),
    "minutes.add_decision": _r(SIGNED_IN, "may_act:minutes"),
    "minutes.download": _r(SIGNED_IN, "sees_minutes"),
    "minutes.decisions": _r(SIGNED_IN, "sees_decision"),
    "minutes.progress": _r(SIGNED_IN, "may_act:decision-progress"),
    "signin.page": _r(SIGNED_IN, "may_keep_attendance"),
    "signin.poster": _r(SIGNED_IN, "may_keep_attendance"),
    "signin.renew_code": _r(SIGNED_IN, "may_keep_attendance"),
    "signin.mark": _r(SIGNED_IN, "may_keep_attendance"),
    "signin.send_occurrence": _r(SIGNED_IN, "may_keep_attendance"),
    "signin.sign_self": _r(SIGNED_IN, "may_sign_in"),
    "signin.occurrence_export": _r(SIGNED_IN, "may_read_attendance"),
    "attendance.month": _r(SIGNED_IN, "may_read_monthly_attendance"),
    "attendance.month_export": _r(SIGNED_IN, "may_read_monthly_attendance"),
    "attendance.month_send": _r(SECRETARY, "may_act:attendance"),
    "stats.index": _r(SIGNED_IN, "may_read_stats"),
    "stats.report": _r(SIGNED_IN, "may_read_stats"),
    "stats.export_csv": _r(SIGNED_IN, "may_read_stats"),
    "stats.export_xlsx": _r(SIGNED_IN, "may_read_stats"),
    # -- secretaries (秘书科 / 办公室) of the object's organization ------------------------
    "accounts.people": _r(SECRETARY, "may_act:reset-password"),
    "accounts.reset": _r(SECRETARY, "may_act:reset-password"),
    "adhoc.index": _r(SECRETARY, "may_act:adhoc"),
    "adhoc.create": _r(SECRETARY, "may_act:adhoc"),
    "adhoc.withdraw": _r(SECRETARY, "may_act:adhoc"),
    "external_feeds.index": _r(SECRETARY, "may_act:external-feeds"),
    "external_feeds.rotate": _r(SECRETARY, "may_act:external-feeds"),
    "directory.index": _r(SECRETARY, "may_act:directory-import"),
    "directory.upload": _r(SECRETARY, "may_act:directory-import"),
    "directory.confirm": _r(SECRETARY, "may_act:directory-import"),
    "clashes.index": _r(SECRETARY, "may_act:view-clashes"),
    "clashes.keep": _r(SECRETARY, "may_act:ack"),
    "clashes.merge": _r(SECRETARY, "may_merge"),
    "clashes.move": _r(SECRETARY, "may_act:decide"),
    "clashes.cancel": _r(SECRETARY, "may_act:decide"),
    "clashes.series": _r(SECRETARY, "may_act:decide"),
    "clashes.series_withdraw": _r(SECRETARY, "may_act:withdraw-decision"),
    "clashes.withdraw": _r(SECRETARY, "may_act:withdraw-decision"),
    "clashes.resolve": _r(SECRETARY, "may_act:resolve"),
    "holidays.index": _r(SECRETARY, "may_apply_holiday_table"),
    "holidays.confirm": _r(SECRETARY, "may_confirm_holiday_table"),
    "holidays.withdraw": _r(SECRETARY, "may_withdraw_holiday_table"),
    "notices.index": _r(SECRETARY, "notice_visibility"),
    "notices.send": _r(SECRETARY, "may_act:notices"),
    "notices.reply": _r(SECRETARY, "may_record_reply"),
    "publish.index": _r(SECRETARY, "may_act:publish"),
}


def rule_for(endpoint: str | None) -> Rule | None:
    return RULES.get(endpoint or "")


def enforce(app: Flask) -> None:
    """Check each request's door before its view runs. An endpoint with no declared rule is
    refused: a route added without a rule is never served unchecked."""

    @app.before_request
    def _door():
        endpoint = request.endpoint
        if endpoint is None:   # no route matched: Flask answers 404/405 itself
            return None
        rule = RULES.get(endpoint)
        if rule is None:
            app.logger.error("calsync: endpoint %s has no access rule (web/rules.py)", endpoint)
            abort(403)
        if rule.door in (PUBLIC, TOKEN):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if rule.door == SECRETARY and getattr(current_user, "role", None) != "secretary":
            abort(403)
        return None


def markdown_table() -> str:
    """The table of every endpoint's rule, as docs/security.md prints it (kept current by a
    test)."""
    rows = ["| endpoint | door | the rule the view asks (calsync.access) |", "|---|---|---|"]
    for endpoint in sorted(RULES):
        rule = RULES[endpoint]
        rows.append(f"| `{endpoint}` | {rule.door} | {rule.decides} |")
    return "\n".join(rows) + "\n"
