"""A holiday notice waiting for other organizations' secretaries (issue 20 item 6): the
instance's table is shared, so a notice that moves another organization's meetings is kept as
``<instance>/holiday-applications/YYYY.json`` until each of them has confirmed it (the rule:
calsync.access.may_apply_holiday_table). One application a year; a new one replaces it."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from calsync.errors import OutputError
from calsync.settings import HOLIDAY_APPLICATIONS_DIR

FOLDER = HOLIDAY_APPLICATIONS_DIR


@dataclass(frozen=True)
class Application:
    year: int
    text: str                    # the notice as pasted (parsed again when confirmed)
    source: str                  # its title
    requested_by: str            # the secretary's user name
    organization: str            # theirs
    requested_at: str            # ISO time
    affected: tuple[str, ...]    # organizations whose meetings it moved when submitted
    confirmed: dict[str, str] = field(default_factory=dict)   # organization → user name


def _path(instance: Path, year: int) -> Path:
    return instance / FOLDER / f"{year}.json"


def load(instance: Path, year: int) -> Application | None:
    path = _path(instance, year)
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Application(**{**raw, "affected": tuple(raw.get("affected", ()))})


def pending(instance: Path) -> list[Application]:
    folder = instance / FOLDER
    if not folder.is_dir():
        return []
    years = sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())
    return [a for a in (load(instance, y) for y in years) if a is not None]


def save(instance: Path, application: Application) -> Path:
    """Write atomically, 0600 (it names the secretaries who asked and confirmed)."""
    folder = instance / FOLDER
    target = _path(instance, application.year)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{application.year}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:   # mkstemp: 0600
            json.dump(asdict(application), fh, ensure_ascii=False, indent=1)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror} (check the folder)") from None
    return target


def drop(instance: Path, year: int) -> None:
    _path(instance, year).unlink(missing_ok=True)
