"""A notice as ``holidays/YYYY.toml`` (the shape calsync.workdays reads), and what a year's
calendar is made of (``calsync holidays show``)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from calsync.calendar.notice import Notice
from calsync.calendar.statutory import statutory_days
from calsync.errors import OutputError, PolicyProblem
from calsync.workdays import WorkCalendar, load_holiday_tables

ONE_DAY = dt.timedelta(days=1)


def blocks(days: dict[dt.date, str]) -> list[tuple[str, dt.date, dt.date]]:
    """Consecutive days of the same festival as (name, first, last)."""
    out: list[tuple[str, dt.date, dt.date]] = []
    for day, name in sorted(days.items()):
        if out and out[-1][0] == name and out[-1][2] + ONE_DAY == day:
            out[-1] = (name, out[-1][1], day)
        else:
            out.append((name, day, day))
    return out


def notice_toml(notice: Notice) -> str:
    lines = [f"# {notice.source}（calsync holidays import）",
             f"year = {notice.year}", f'source = "{notice.source}"', "", "holidays = ["]
    lines += [f'  {{ name = "{n}", start = {a}, end = {b} }},' for n, a, b in
              blocks(notice.holidays)]
    lines += ["]", "", "workdays = ["]
    lines += [f'  {{ name = "{n}", date = {d} }},' for d, n in sorted(notice.workdays.items())]
    lines += ["]"]
    return "\n".join(lines) + "\n"


def write_table(notice: Notice, folder: Path) -> Path:
    """Write ``folder/YYYY.toml`` atomically, after checking the loader reads it back as is."""
    text = notice_toml(notice)
    target = folder / f"{notice.year}.toml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{notice.year}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror} (check the folder)") from None
    try:
        _check_reads_back(Path(tmp), notice)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _check_reads_back(path: Path, notice: Notice) -> None:
    """The loader, given the written file under its final name, finds exactly the notice."""
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / f"{notice.year}.toml"
        copy.write_bytes(path.read_bytes())
        problems: list[PolicyProblem] = []
        table = load_holiday_tables([Path(d)], problems).years.get(notice.year)
    if problems or table is None or table.holidays != notice.holidays \
            or table.workdays != notice.workdays:
        raise OutputError(f"the table written for {notice.year} does not read back "
                          f"({'; '.join(map(str, problems)) or 'different days'})")


def year_summary(cal: WorkCalendar, year: int, origin: str) -> dict:
    """``origin``: notice (imported), shipped, or law-only."""
    table = cal.years.get(year)
    if table is None:
        off = dict(statutory_days(year))
        work: dict[dt.date, str] = {}
    else:
        off, work = table.holidays, table.workdays
    out = {
        "year": year,
        "source": origin,
        "days_off": [d.isoformat() for d in sorted(off)],
        "workdays": [d.isoformat() for d in sorted(work)],
        "holidays": [{"name": n, "start": a.isoformat(), "end": b.isoformat()}
                     for n, a, b in blocks(off)],
        "notice": table.source if table is not None else None,
    }
    if table is None:
        day, provisional = dt.date(year, 1, 1), []
        while day.year == year:
            if cal.is_provisional(day) and day.weekday() < 5:
                provisional.append(day.isoformat())
            day += ONE_DAY
        out["provisional_weekdays"] = provisional
    return out
