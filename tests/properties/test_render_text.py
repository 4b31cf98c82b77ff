"""calsync.ical.render_text writes the bytes icalendar would write, for everything we generate.

The reference is calsync.ical.render.series_events (icalendar's object model) put into a calendar
by icalendar; the fast path must be byte-identical, so deterministic output and the golden
behaviour of every other test carry over unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Event

from calsync.access import OPERATOR, for_viewer
from calsync.ical.render import (
    new_calendar,
    render_calendar,
    render_series,
    series_events,
    series_text,
)
from calsync.ical.render_text import fold
from calsync.meetings.generate import Generation, generate
from calsync.occurrence import Occurrence, Series
from tests.support.gen_helpers import shipped

STAMP = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@cache
def two_years() -> Generation:
    # 2027 has no holiday table: provisional occurrences, TENTATIVE, holiday moves.
    return generate(shipped(), dt.date(2025, 6, 1), dt.date(2027, 12, 31))


def reference(series: Series, groups: bool = True, name: str | None = None) -> bytes:
    cal = new_calendar(name)
    for event in series_events(series, STAMP, groups=groups):
        cal.add_component(event)
    return cal.to_ical()


def test_every_generated_series_is_byte_identical() -> None:
    gen = two_years()
    assert len(gen.series) > 10
    for s in gen.series:
        assert render_series(s, STAMP).ics == reference(s), s.id


def test_combined_calendar_is_byte_identical() -> None:
    series = [s for s in two_years().series if s.organization == "guanliban"]
    cal = new_calendar("管理办会议")
    for s in series:
        for event in series_events(s, STAMP):
            cal.add_component(event)
    assert render_calendar(series, STAMP, "管理办会议") == cal.to_ical()


def test_busy_blocks_are_byte_identical() -> None:
    secret = [replace(s, occurrences=tuple(replace(o, klass="CONFIDENTIAL")
                                           for o in s.occurrences))
              for s in two_years().series if s.id == "zhoulihui"]
    shown = for_viewer(OPERATOR, secret)
    busy = [s for s in shown if s.uid.startswith("busy-")]
    assert busy
    for s in busy:
        assert render_series(s, STAMP).ics == reference(s)


def _odd(occ: Occurrence) -> Occurrence:
    """Every attendee state and every character class the renderer escapes or quotes."""
    people = list(occ.attendees)
    people[1] = replace(people[1], partstat="DECLINED")
    people[2] = replace(people[2], partstat="DELEGATED", delegated_to=(people[3].email,))
    people[3] = replace(people[3], delegated_from=(people[2].email,), name="O'Brien, Jr; x")
    people[4] = replace(people[4], role="NON-PARTICIPANT", name="名 字")
    return replace(occ, attendees=tuple(people), summary="周例会;测试,逗号\\反斜杠",
                   location="大会议室（3,4楼）", notes=("^脱字符^" + "长" * 30 + "\\" * 7,))


def test_attendee_states_and_escapes_are_byte_identical() -> None:
    s = next(s for s in two_years().series if s.id == "zhoulihui")
    odd = replace(s, occurrences=tuple(_odd(o) if i % 3 == 0 else o
                                       for i, o in enumerate(s.occurrences)))
    assert render_series(odd, STAMP).ics == reference(odd)
    single = replace(odd, rule=None, nominal=odd.nominal[:1], occurrences=odd.occurrences[:1])
    assert render_series(single, STAMP).ics == reference(single)


def icalendar_fold(value: str) -> str:
    """How icalendar folds the line ``X-T:value`` (an X- property is written unescaped)."""
    ev = Event()
    ev.add("X-T", value)
    text = ev.to_ical().decode()
    return text.removeprefix("BEGIN:VEVENT\r\n").removesuffix("\r\nEND:VEVENT\r\n")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("a\\^;,:\"' 长é\U0001f600"), max_size=300))
def test_fold_matches_icalendar(line: str) -> None:
    assert fold("X-T:" + line) == icalendar_fold(line)


@pytest.mark.parametrize("width", range(60, 90))
def test_fold_keeps_escapes_whole_at_every_width(width: int) -> None:
    line = "x" * (width - 6) + "\\n" + "长\\," * 20
    assert fold("X-T:" + line) == icalendar_fold(line)


def test_an_unchanged_series_is_not_rendered_again() -> None:
    """A dry run or a no-op publish generates again: equal series reuse the text."""
    first = generate(shipped(), dt.date(2026, 1, 1), dt.date(2026, 12, 31), ["guanliban"])
    again = generate(shipped(), dt.date(2026, 1, 1), dt.date(2026, 12, 31), ["guanliban"])
    for a, b in zip(first.series, again.series, strict=True):
        assert a == b and a is not b
        assert series_text(a, STAMP) is series_text(b, STAMP)
