"""The directory from the office's 通讯录: ``calsync directory import`` and the page's upload.

:func:`preview` reads the sheet, compares it with ``<policies>/<org>/directory.toml`` and
checks the rewritten file with the policy loader; :func:`apply` writes it (atomically, the
old file kept as a backup) only if the file is still the one the preview read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from calsync.directory.plan import Plan, make_plan, section_text
from calsync.directory.sheet import Problem, Sheet, SheetError, read_sheet
from calsync.directory.tomlfile import rewrite
from calsync.errors import OutputError, PolicyError, PolicyProblem, UsageError
from calsync.policy.model import Organization
from calsync.policy.organizations import ORG_FILES, load_organizations

__all__ = ["Preview", "Problem", "SheetError", "apply", "diff_lines", "preview"]


@dataclass(frozen=True)
class Preview:
    plan: Plan
    org: Organization           # as it is now
    path: Path                  # <policies>/<org>/directory.toml
    sheet: Sheet
    before: str
    after: str

    @property
    def before_sha(self) -> str:
        return sha(self.before)

    @property
    def after_sha(self) -> str:
        return sha(self.after)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _load_one(root: Path, org_id: str) -> Organization:
    problems: list[PolicyProblem] = []
    orgs = load_organizations(root, problems)
    if problems:
        raise PolicyError(problems)
    if org_id not in orgs:
        raise UsageError(f"unknown organization {org_id} (choose from {', '.join(sorted(orgs))})")
    return orgs[org_id]


def preview(root: Path, org_id: str, file: str, data: bytes, left_on: dt.date) -> Preview:
    """What importing the sheet would do; nothing is written."""
    org = _load_one(root, org_id)
    path = root / org_id / "directory.toml"
    before = path.read_text(encoding="utf-8-sig")
    sheet = read_sheet(file, data)
    plan = make_plan(sheet, org, left_on)
    internal = [pid for pid, p in org.people.items() if not p.external]
    after = rewrite(before, plan.people, internal[-1] if internal else None)
    _validate(root / org_id, org_id, after)
    return Preview(plan, org, path, sheet, before, after)


def _validate(folder: Path, org_id: str, after: str) -> None:
    """The rewritten directory must load with the organization's other files."""
    with tempfile.TemporaryDirectory(prefix="calsync-directory-") as tmp:
        copy = Path(tmp) / org_id
        copy.mkdir()
        for name in ORG_FILES:
            if name != "directory.toml":
                shutil.copyfile(folder / name, copy / name)
        (copy / "directory.toml").write_text(after, encoding="utf-8")
        problems: list[PolicyProblem] = []
        load_organizations(Path(tmp), problems)
        if problems:
            raise PolicyError([PolicyProblem(str(folder / p.file.rpartition("/")[2]), p.key,
                                             p.message, p.fix) for p in problems])


def apply(p: Preview, now: dt.datetime) -> Path | None:
    """Write the new directory.toml; the old one stays as ``directory.toml.bak-<time>``.
    Refused if the file changed since the preview. Returns the backup's path."""
    current = p.path.read_text(encoding="utf-8-sig")
    if sha(current) != p.before_sha:
        raise UsageError(f"{p.path} changed since the preview was made (import again to see "
                         "the changes against the new file)")
    if p.after == current:
        return None
    backup = p.path.with_name(f"directory.toml.bak-{now:%Y%m%dT%H%M%S}")
    try:
        # Names, phones and mail addresses: the owner only (0600), the backup too.
        _write_private(backup, p.path.read_bytes())
        fd, tmp = tempfile.mkstemp(prefix=".directory.", suffix=".toml", dir=p.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:   # mkstemp: 0600
            fh.write(p.after)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p.path)
    except OSError as exc:
        raise OutputError(f"cannot write {p.path}: {exc.strerror} (check the folder's "
                          "permissions)") from None
    return backup


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)   # a file already there keeps its mode otherwise
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def diff_lines(p: Preview) -> list[str]:
    """The before/after diff as the command prints it."""
    plan, org = p.plan, p.org
    out = [f"{org.id} ({org.name}): {p.path.name} ← {p.sheet.file}: {plan.rows} people read"
           + (f"; ignored columns: {', '.join(p.sheet.ignored)}" if p.sheet.ignored else "")]
    out.append(f"added ({len(plan.added)}):")
    for row, person in plan.added:
        out.append(f"  + {person.id}  {person.name}  {section_text(org, person.section)}  "
                   f"{'、'.join(person.roles) or '—'}  {person.phone or '—'}  {person.email}"
                   f"  (row {row})")
    out.append(f"changed ({len(plan.changed)}):")
    for c in plan.changed:
        fields = "; ".join(f"{f}: {a} → {b}" for f, a, b in c.fields)
        out.append(f"  ~ {c.after.id}  {c.after.name}  {fields}")
    out.append(f"left ({len(plan.left)}) — kept with left = {plan.left_on}: past meetings, "
               "leave notes and statistics stay; no invitations after that day:")
    for person in plan.left:
        out.append(f"  - {person.id}  {person.name}  {section_text(org, person.section)}")
    out.append(f"unchanged: {plan.unchanged}")
    for en, _zh in plan.warnings:
        out.append(f"warning: {en}")
    return out
