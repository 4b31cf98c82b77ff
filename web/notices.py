"""会议通知: the iMIP outbox for secretaries (own organization): what was sent, what waits for
a retry, what failed (5xx, shown with the server's answer) or was written to the outbox folder
for want of an SMTP server; the attendees' replies; a button that queues and sends now.

``POST /imip/reply`` records an attendee's METHOD:REPLY: the page's form (pasted or uploaded
.ics), or a raw ``text/calendar`` body with the session cookie and an ``X-CSRFToken`` header
(a mail gateway logged in as a secretary). Only invitees count: attendees calsync notified
and did not take off the meeting (calsync.notices.answers); the one entering it must be a
secretary of the organization or the attendee (calsync.access.may_record_reply), and the
audit log keeps who it was.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from calsync import access
from calsync.app.notices_queue import queue
from calsync.errors import CalsyncError, UsageError
from calsync.notices.answers import record_answers
from calsync.notices.deliver import OUTBOX_DIR, deliver_due
from calsync.notices.smtp import parse_smtp_url
from calsync.store.outbox import STATUSES

from . import links
from .attendance import mail_settings
from .core import authorize, core, now, secretary_required, user
from .forms import PlainForm

bp = Blueprint("notices", __name__)

STATUS_NAMES = {"queued": "等待发送", "sending": "发送中", "sent": "已发送",
                "written": "已写入发件箱文件夹", "failed": "发送失败"}
PARTSTAT_NAMES = {"ACCEPTED": "接受", "DECLINED": "拒绝", "TENTATIVE": "暂定",
                  "DELEGATED": "委托他人", "NEEDS-ACTION": "未答复"}


def _smtp_url() -> str | None:
    return mail_settings().smtp_url


def _outbox_dir() -> Path:
    return Path(current_app.config["CALSYNC_INSTANCE"]) / OUTBOX_DIR


def replies_for(uid: str, recurrence_id: str) -> dict[str, str]:
    """address -> the attendee's answer (in Chinese) for one occurrence: an answer for the
    occurrence wins over one for the whole series."""
    found: dict[str, str] = {}
    replies = core().store.notices.notice_replies(uid=uid)
    for a in sorted(replies, key=lambda a: a.recurrence_id != ""):
        if a.recurrence_id in ("", recurrence_id):
            found[a.recipient] = PARTSTAT_NAMES.get(a.partstat, a.partstat)
    return found


@bp.route("/notices")
@login_required
@secretary_required
def index():
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400)
    org = user().org
    store = core().store
    url = _smtp_url()
    try:
        transport = parse_smtp_url(url).masked() if url else None
    except UsageError:
        transport = "（CALSYNC_SMTP_URL 格式有误）"
    rows = store.notices.outbox([org.id], status=status)
    failed = rows if status == "failed" else store.notices.outbox([org.id], status="failed")
    subjects = {r.uid: r.summary for r in rows}
    return render_template("notices.html", rows=rows, failed=failed, status=status,
                           replies=store.notices.notice_replies([org.id]), subjects=subjects,
                           transport=transport, folder=_outbox_dir(), form=PlainForm(),
                           status_names=STATUS_NAMES, partstat_names=PARTSTAT_NAMES)


@bp.route("/notices/send", methods=["POST"])
@login_required
@secretary_required
def send():
    if not PlainForm().validate_on_submit():
        abort(400)
    c = core()
    org_id = user().org.id
    authorize("notices", org_id)   # a secretary of the organization (calsync.access)
    try:
        queued = queue(c.policies, c.store, [org_id], now(),   # mails link to the week view
                       web_base=links.configured_base())
        counts = deliver_due(c.store, _smtp_url(), _outbox_dir(), now())
    except CalsyncError as exc:
        flash("发送失败：" + " ".join(exc.lines()), "warn")
        return redirect(url_for("notices.index"))
    names = {"sent": "已发送", "written": "已写入文件夹", "retry": "稍后重试", "failed": "失败"}
    done = "，".join(f"{names.get(k, k)}{v}封" for k, v in sorted(counts.items()))
    flash(f"新增通知{queued}封；{done or '没有待发送的通知'}。", "ok")
    return redirect(url_for("notices.index"))


def _may_answer(org_id: str, address: str) -> bool:
    """The logged-in user may enter the answer of ``address`` (calsync.access)."""
    org = core().policies.organizations.get(org_id)
    person = next((p for p in org.people.values() if p.email == address), None) if org else None
    return access.may_record_reply(user().viewer, org_id, person.id if person else None)


@bp.route("/imip/reply", methods=["POST"])
@login_required
def reply():
    raw = request.mimetype == "text/calendar"
    if raw:
        data = request.get_data()
    elif "file" in request.files and request.files["file"].filename:
        data = request.files["file"].read()
    else:
        data = (request.form.get("ics") or "").encode("utf-8")
    try:
        lines = record_answers(core().store, data, organization=user().org.id,
                               actor=user().username, may_answer=_may_answer)
    except PermissionError:
        abort(403)
    except UsageError as exc:
        if raw:
            return jsonify({"error": str(exc)}), 400
        flash(f"未能记录回复：{exc}", "warn")
        return redirect(url_for("notices.index"))
    if raw:
        return jsonify({"recorded": lines})
    flash(f"已记录{len(lines)}条回复。", "ok")
    return redirect(url_for("notices.index"))
