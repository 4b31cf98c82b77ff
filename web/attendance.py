"""会议考勤 by month (篇二 四.2 "会议考勤情况须及时向局长报告"): the organization's monthly
attendance report for its secretaries and the person ``attendance.toml`` names, masked per
calsync.access for confidential meetings the reader is not invited to; CSV/XLSX exports and
the e-mail. Also the download and mail helpers web/signin.py shares."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from calsync import access
from calsync.app import attendance_mail as mail
from calsync.app import attendance_reports as reports
from calsync.meetings import attendance_export as export
from calsync.meetings import attendance_policy as policy
from calsync.meetings import attendance_report as report
from calsync.settings import ENV_SMTP_URL, Settings

from . import occurrences as occ_mod
from .core import authorize, core, now, user

bp = Blueprint("attendance", __name__)


def flash_sent(sent: list[str]) -> None:
    if sent:
        flash(f"考勤情况已发送给：{'、'.join(sent)}。", "ok")
    else:
        flash("未发送：未配置邮件（设置 CALSYNC_SMTP_URL 后可发送），请在本页查看或导出。",
              "warn")


def mail_settings() -> Settings:
    """The mail settings when mail goes out: the app's ``CALSYNC_SMTP_URL`` config key, else
    the variables as they are now (calsync.settings), as the 会议通知 page reads them."""
    return Settings.from_env(smtp_url=current_app.config.get(ENV_SMTP_URL))


def smtp_url() -> str | None:
    return mail_settings().smtp_url


def mail_on() -> bool:
    settings = mail_settings()
    return bool(settings.smtp_url) or settings.notices_enabled


def instance() -> Path:
    return Path(current_app.config["CALSYNC_INSTANCE"])


def download(rep, fmt: str, name: str) -> Response:
    from urllib.parse import quote

    if fmt == "csv":
        body, mime = export.to_csv(rep), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = export.to_xlsx(rep)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=attendance.{fmt}; "
                               f"filename*=UTF-8''{quote(name)}.{fmt}",
        "Cache-Control": "no-store"})


# -- the month ------------------------------------------------------------------------------

def _month_readers(org_id: str) -> frozenset[str]:
    return policy.monthly_report_to(core().policies, org_id)


@bp.route("/attendance")
@login_required
def month():
    u = user()
    org_id = u.org.id
    if not access.may_read_monthly_attendance(u.viewer, org_id, _month_readers(org_id)):
        abort(403)
    year, mon = report.parse_month(occ_mod.check_month(request.args.get("month")),
                                   now().date())
    c = core()
    rep = reports.month_report(c.policies, c.store, org_id, year, mon, u.viewer, now())
    org = c.policies.organizations[org_id]
    return render_template("attendance.html", rep=rep, month=f"{year:04d}-{mon:02d}",
                           org=org, mail_on=mail_on(), export=export,
                           report_to=[org.people[p].name for p in
                                      sorted(_month_readers(org_id)) if p in org.people])


@bp.route("/attendance/export.<fmt>")
@login_required
def month_export(fmt: str):
    u = user()
    org_id = u.org.id
    if not access.may_read_monthly_attendance(u.viewer, org_id, _month_readers(org_id)):
        abort(403)
    year, mon = report.parse_month(occ_mod.check_month(request.args.get("month")),
                                   now().date())
    rep = reports.month_report(core().policies, core().store, org_id, year, mon, u.viewer,
                              now())
    return download(rep, fmt, f"考勤-{u.org.short_name or u.org.name}-{year}年{mon}月")


@bp.route("/attendance/send", methods=["POST"])
@login_required
def month_send():
    u = user()
    org_id = u.org.id
    authorize("attendance", org_id)
    if not u.is_secretary:
        abort(403)
    year, mon = report.parse_month(request.form.get("month"), now().date())
    c = core()
    sent = mail.send(c.policies, c.store, org_id, f"{year:04d}{mon:02d}",
                     _month_readers(org_id),
                     lambda viewer: reports.month_report(c.policies, c.store, org_id, year,
                                                        mon, viewer, now()),
                     now(), instance(), smtp_url())
    flash_sent(sent)
    return redirect(url_for("attendance.month", month=f"{year:04d}-{mon:02d}"))


@bp.app_template_global()
def attendance_reader() -> bool:
    """The 考勤 nav item: secretaries and the person the monthly report goes to."""
    if not current_user.is_authenticated:
        return False
    u = user()
    return access.may_read_monthly_attendance(u.viewer, u.org.id, _month_readers(u.org.id))
