"""导入通讯录: a secretary uploads the office's 通讯录 (xlsx/csv), sees what the directory
becomes (added / changed / left), and 确认导入 writes ``<policies>/<org>/directory.toml``;
the service then reloads its policies (no restart).

The upload is kept under ``<instance>/directory-uploads/`` between the preview and the
confirmation, tied to the secretary and the organization; the confirmation applies exactly
the change that was shown (the new file's hash rides in the form), or nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from calsync.app.scheduler import EXTENSION
from calsync.directory import Preview, SheetError, apply, preview
from calsync.directory.plan import section_text
from calsync.directory.sheet import MAX_BYTES
from calsync.directory.tomlfile import LayoutError
from calsync.errors import CalsyncError, PolicyError
from calsync.meetings import accounts
from calsync.policy import load, shipped_policies
from calsync.settings import DIRECTORY_UPLOADS_DIR

from .core import authorize, core, csrf, now, user

bp = Blueprint("directory", __name__, url_prefix="/people/directory")

ACTION = "directory-import"
KEEP_SECONDS = 24 * 3600
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _uploads() -> Path:
    folder = Path(current_app.config["CALSYNC_INSTANCE"]) / DIRECTORY_UPLOADS_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _org_id() -> str:
    """The organization asked for (own by default); anyone else's is refused (403)."""
    org_id = request.values.get("org") or user().org.id
    authorize(ACTION, org_id)
    return org_id


def _writable() -> bool:
    """The shipped example policies are never edited from the page."""
    root = core().policies.root
    return root.resolve() != shipped_policies().resolve()


# The preview lists this many people per table and problems, and counts the rest: a sheet of
# 2,000 people (or 2,000 problems) stays a page, not megabytes (issue 20); an office of a few
# hundred still sees everyone.
PREVIEW_ROWS = 500
PREVIEW_PROBLEMS = 50


def _page(status: int = 200, **context: object):
    return render_template("directory_import.html", writable=_writable(),
                           limit_mb=MAX_BYTES // 1024 // 1024, section_text=section_text,
                           limit=PREVIEW_ROWS, error_limit=PREVIEW_PROBLEMS,
                           **context), status


@bp.route("", methods=["GET"])
@login_required
def index():
    return _page(org_id=_org_id())


@bp.route("", methods=["POST"])
@csrf.exempt   # checked below, after the upload's size limit is in place
@login_required
def upload():
    request.max_content_length = MAX_BYTES + 64 * 1024
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):   # as CSRFProtect decides
            csrf.protect()
        org_id = _org_id()
        sheet = request.files.get("sheet")
    except RequestEntityTooLarge:
        return _page(413, org_id=user().org.id, errors=[
            f"文件过大：通讯录不超过 {MAX_BYTES // 1024 // 1024} MB，请删除图片和其他工作表，"
            "或另存为 CSV 后上传。"])
    if sheet is None or not sheet.filename:
        return _page(400, org_id=org_id, errors=["请选择要上传的通讯录文件（.xlsx 或 .csv）。"])
    data = sheet.stream.read(MAX_BYTES + 1)
    name = Path(sheet.filename).name[:100] or "通讯录"
    shown, errors = _preview(org_id, name, data)
    if shown is None:
        return _page(400, org_id=org_id, errors=errors, file=name)
    token = _keep(org_id, name, data)
    return _page(org_id=org_id, p=shown, token=token, file=name)


def _preview(org_id: str, name: str, data: bytes) -> tuple[Preview | None, list[str]]:
    try:
        return preview(core().policies.root, org_id, name, data, now().date()), []
    except SheetError as exc:
        return None, exc.chinese()
    except LayoutError as exc:
        return None, [f"directory.toml 的格式无法自动改写：{exc}"]
    except PolicyError as exc:
        return None, ["导入后的 directory.toml 无法通过校验：", *exc.lines()]
    except CalsyncError as exc:
        return None, exc.lines()


def _keep(org_id: str, name: str, data: bytes) -> str:
    folder = _uploads()
    cutoff = time.time() - KEEP_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    _write_private(folder / f"{token}.bin", data)
    _write_private(folder / f"{token}.json", json.dumps(
        {"user": user().username, "org": org_id, "file": name},
        ensure_ascii=False).encode("utf-8"))
    return token


def _write_private(path: Path, data: bytes) -> None:
    """The 通讯录 holds people's phones and addresses: 0600, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@bp.route("/apply", methods=["POST"])
@login_required
def confirm():
    org_id = _org_id()
    token = request.form.get("token", "")
    if not token or not set(token) <= _TOKEN_CHARS or len(token) > 64:
        abort(400)
    folder = _uploads()
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    if not meta_path.is_file() or not data_path.is_file():
        flash("上传的通讯录已过期，请重新上传。", "warn")
        return redirect(url_for("directory.index"))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("user") != user().username or meta.get("org") != org_id:
        abort(403)
    if not _writable():
        abort(403)
    shown, _ = _preview(org_id, meta["file"], data_path.read_bytes())
    if shown is None or shown.after_sha != request.form.get("after", ""):
        flash("通讯录或目录在预览后已有变化，请重新上传并核对变动。", "warn")
        return redirect(url_for("directory.index"))
    try:
        backup = apply(shown, now())
    except CalsyncError as exc:
        return _page(500, org_id=org_id, errors=exc.lines())
    meta_path.unlink(missing_ok=True)
    data_path.unlink(missing_ok=True)
    plan = shown.plan
    core().store.audit.record(user().username, "directory.import", f"directory:{org_id}", after={
        "file": meta["file"], "added": [p.id for _, p in plan.added],
        "changed": [c.after.id for c in plan.changed], "left": [p.id for p in plan.left],
        "backup": backup.name if backup else None})
    reload_policies(user().username)
    flash(f"通讯录已导入：新增{len(plan.added)}人，变更{len(plan.changed)}人，"
          f"离职{len(plan.left)}人；日历将重新发布。", "ok")
    return redirect(url_for("accounts.people"))


def reload_policies(actor: str) -> None:
    """The running service takes the new directory: the page, the feeds and the publishing
    scheduler use the reloaded policies, and new people get accounts (without passwords)."""

    c = core()
    policies = load(c.policies.root, Path(current_app.config["CALSYNC_INSTANCE"]))
    accounts.sync_directory(c.store, policies, actor=actor)
    c.policies = policies
    current_app.extensions.pop("calsync_feeds", None)   # rebuilt on the next feed request
    scheduler = current_app.extensions.get(EXTENSION)
    if scheduler is not None:
        scheduler.policies = policies
        scheduler.poke()
