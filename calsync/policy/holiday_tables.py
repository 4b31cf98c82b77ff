"""Holiday tables on disk: reading ``holidays/YYYY.toml`` into a WorkCalendar, writing a notice in
that shape, and what a year's calendar is made of (``calsync holidays show``)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from calsync.calendar.notice import Notice
from calsync.calendar.statutory import statutory_days
from calsync.calendar.workdays import ONE_DAY as _DAY
from calsync.calendar.workdays import WorkCalendar, YearTable
from calsync.errors import OutputError, PolicyProblem
from calsync.policy.reader import Reader

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


def load_holiday_tables(folders: Iterable[Path],
                        problems: list[PolicyProblem]) -> WorkCalendar:
    """Read ``YYYY.toml`` from each folder; a later folder's year replaces an earlier one's."""
    years: dict[int, YearTable] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            table = _load_year(path, problems)
            if table is not None:
                years[table.year] = table
    return WorkCalendar(years)


def _load_year(path: Path, problems: list[PolicyProblem]) -> YearTable | None:
    r = Reader(path, str(path), problems)
    if not r.load():
        return None
    before = len(problems)
    d = r.data
    r.unknown_keys(d, "", ("year", "source", "holidays", "workdays"))
    year = r.integer(d, "", "year", 1990, 2200)
    if year is not None and path.stem != str(year):
        r.problem("year", f"{year} differs from the file name {path.name}",
                  f"name the file {year}.toml")
    holidays: dict[dt.date, str] = {}
    for i, h in enumerate(_list(r, d, "holidays")):
        key = f"holidays[{i}]"
        r.unknown_keys(h, key, ("name", "start", "end"))
        name, start, end = r.text(h, key, "name"), r.date(h, key, "start"), r.date(h, key, "end")
        in_year = [_in_year(r, key, k, v, year) for k, v in (("start", start), ("end", end))]
        if year is None or not all(in_year):
            continue
        if start and end and end < start:
            r.problem(f"{key}.end", f"{end} is before start {start}", "swap start and end")
            continue
        day = start
        while name and day and end and day <= end:
            holidays[day] = name
            day += _DAY
    workdays: dict[dt.date, str] = {}
    for i, w in enumerate(_list(r, d, "workdays")):
        key = f"workdays[{i}]"
        r.unknown_keys(w, key, ("name", "date"))
        name, day = r.text(w, key, "name"), r.date(w, key, "date")
        if not _in_year(r, key, "date", day, year):
            continue
        if day and day.weekday() < 5:
            r.problem(f"{key}.date", f"{day} is a weekday, not a 调休 weekend",
                      "list only Saturdays or Sundays that are working days")
        elif day and day in holidays:
            r.problem(f"{key}.date", f"{day} is also listed as a holiday", "remove one of them")
        elif name and day:
            workdays[day] = name
    if len(problems) > before or year is None:
        return None
    return YearTable(year, r.text(d, "", "source", default="") or "", holidays, workdays)


def _in_year(r: Reader, key: str, name: str, day: dt.date | None, year: int | None) -> bool:
    if day is None or year is None or day.year == year:
        return True
    if day.year == year - 1 and day.month == 12:
        return True  # the year's notice may start 元旦 in the previous December
    r.problem(f"{key}.{name}", f"{day} is not in {year}", "put it in the file of its own year")
    return False


def _list(r: Reader, d: dict, name: str) -> list[dict]:
    raw = d.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        r.problem(name, "must be a list of tables", f"write {name} = [{{ … }}, …]")
        return []
    return raw
