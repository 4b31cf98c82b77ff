"""Finding occurrences for the pages: by week, by (series UID, recurrence id)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from calsync.occurrence import TZ, Occurrence

from .core import core, now


@dataclass(frozen=True)
class Week:
    monday: dt.date
    sunday: dt.date

    @property
    def label(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def prev(self) -> str:
        return Week.of(self.monday - dt.timedelta(days=7)).label

    @property
    def next(self) -> str:
        return Week.of(self.monday + dt.timedelta(days=7)).label

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(7)]

    @staticmethod
    def of(day: dt.date) -> Week:
        monday = day - dt.timedelta(days=day.weekday())
        return Week(monday, monday + dt.timedelta(days=6))


def parse_week(text: str | None) -> Week:
    """``YYYY-Www`` (what <input type="week"> sends); anything else means this week."""
    if text:
        try:
            return Week.of(dt.datetime.strptime(text + "-1", "%G-W%V-%u").date())
        except ValueError:
            pass
    return Week.of(now().date())


def rid(occ: Occurrence) -> str:
    """The recurrence id the store uses: nominal start, ISO with offset."""
    return occ.nominal_start.isoformat()


def parse_instant(text: str | None) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def in_range(start: dt.date, end: dt.date, orgs: list[str]) -> list[Occurrence]:
    from calsync.service import generation

    c = core()
    return generation(c.policies, c.store, start, end, orgs).occurrences()


def org_of_uid(series_uid: str) -> str | None:
    orgs = core().policies.organizations
    domain = series_uid.partition("@")[2]
    for org in orgs.values():
        if domain in (org.uid_domain, f"{org.id}.calsync"):
            return org.id
    head = domain.split(".")[0]
    return head if head in orgs else None


def find(series_uid: str, recurrence_id: str) -> Occurrence | None:
    """The occurrence (decisions, leave and requests applied), or None."""
    nominal = parse_instant(recurrence_id)
    if nominal is None:
        return None
    org = org_of_uid(series_uid)
    orgs = [org] if org else sorted(core().policies.organizations)
    day = nominal.astimezone(TZ).date()
    # A week either side: enough for holiday moves, cheap to generate.
    for occ in in_range(day - dt.timedelta(days=7), day + dt.timedelta(days=7), orgs):
        if occ.uid == series_uid and occ.nominal_start == nominal:
            return occ
    return None


def by_key(occs: list[Occurrence]) -> dict[tuple[str, dt.datetime], Occurrence]:
    return {(o.uid, o.nominal_start): o for o in occs}


def lookup(index: dict[tuple[str, dt.datetime], Occurrence], series_uid: str | None,
           recurrence_id: str | None) -> Occurrence | None:
    nominal = parse_instant(recurrence_id)
    if series_uid is None or nominal is None:
        return None
    return index.get((series_uid, nominal))


def chosen_day(date_text: str | None, week_text: str | None) -> dt.date:
    """The day a calendar view is about: ``YYYY-MM-DD`` (what <input type="date"> sends, in
    Safari and Firefox alike), else a ``YYYY-Www`` week's Monday, else today."""
    if date_text:
        day = _loose_date(date_text)
        if day is not None and MIN_YEAR <= day.year <= MAX_YEAR:
            return day
    if week_text:
        return parse_week(week_text).monday
    return now().date()


MIN_YEAR, MAX_YEAR = 1950, 2150   # a typo such as 0001-01-01 means today, not an error
_DATE = re.compile(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")


def _loose_date(text: str) -> dt.date | None:
    """2026-03-18, and what a browser without a date picker lets people type instead
    (2026/3/18, 2026.3.18, 2026年3月18日)."""
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
