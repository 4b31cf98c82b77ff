"""Three independent views of the same occurrences must agree, to the minute.

1. ``calsync occurrences --format json`` (our own expansion, straight from the generator);
2. icalendar 7 + recurring-ical-events 3 expanding the files ``calsync generate`` writes;
3. the ``ical`` package (Home Assistant's engine), a separate RFC 5545 implementation.

Compared per UID as multisets of instances (RECURRENCE-ID, start, end, STATUS, SUMMARY), so a
lost EXDATE, a duplicated override, a moved instance left at its old time or a cancelled one
shown as confirmed all fail. A second part applies secretaries' decisions (moves and
cancellations) and checks that both engines see them exactly as the generator made them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import icalendar
import pytest
import recurring_ical_events
from ical.calendar_stream import IcsCalendarStream

from calsync.cli import main
from calsync.ical.render import render_calendar, render_series
from calsync.meetings.decisions import Decision
from calsync.meetings.generate import Generation, generate
from calsync.meetings.inputs import Inputs
from calsync.occurrence import TZ, Series
from calsync.policy import shipped_policies
from tests.support.gen_helpers import shipped

ORG = "guanliban"
DOMAIN = "guanliban.calsync"
STAMP = dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ)
RANGES = {
    "2026": (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    # 2025 and 2026 have tables, 2027 has none (provisional, weekends-only calendar).
    "2025-06..2027-06": (dt.date(2025, 6, 1), dt.date(2027, 6, 30)),
}


class Inst(NamedTuple):
    """One expanded instance, as every engine can report it."""

    recurrence_id: dt.datetime | None
    start: dt.datetime
    end: dt.datetime
    status: str
    summary: str


Expansion = dict[str, Counter[Inst]]  # UID → multiset of instances


def _local(value: dt.datetime) -> dt.datetime:
    assert isinstance(value, dt.datetime), f"{value!r} is not a date-time"
    assert value.tzinfo is not None, f"{value!r} is floating"
    return value.astimezone(TZ)


def _group(pairs: Iterable[tuple[str, Inst]]) -> Expansion:
    out: dict[str, Counter[Inst]] = defaultdict(Counter)
    for uid, inst in pairs:
        out[uid][inst] += 1
    return dict(out)


def _merge(*expansions: Expansion) -> Expansion:
    out: dict[str, Counter[Inst]] = defaultdict(Counter)
    for exp in expansions:
        for uid, counter in exp.items():
            out[uid].update(counter)
    return dict(out)


# -- the three engines ---------------------------------------------------------------------


def expand_json(rows: list[dict]) -> Expansion:
    def inst(r: dict) -> Inst:
        rid = r["recurrence_id"]
        return Inst(
            _local(dt.datetime.fromisoformat(rid)) if rid else None,
            _local(dt.datetime.fromisoformat(r["start"])),
            _local(dt.datetime.fromisoformat(r["end"])),
            r["status"],
            r["summary"],
        )

    # per calendar object: a series, or a duty leader's part of 周例会 (its own UID)
    return _group((r["resource_uid"], inst(r)) for r in rows)


def expand_recurring(ics: bytes, recurring: set[str]) -> Expansion:
    """recurring-ical-events; ``recurring`` names the UIDs that carry an RRULE.

    It gives every instance a RECURRENCE-ID, a single (non-recurring) event's being its own
    DTSTART; the JSON has none there, so only recurring UIDs' RECURRENCE-IDs are compared.
    """
    cal = icalendar.Calendar.from_ical(ics)

    def inst(e: icalendar.Event) -> tuple[str, Inst]:
        uid = str(e["UID"])
        rid = _local(e["RECURRENCE-ID"].dt) if uid in recurring else None
        return uid, Inst(
            rid, _local(e["DTSTART"].dt), _local(e["DTEND"].dt), str(e["STATUS"]), str(e["SUMMARY"])
        )

    return _group(inst(e) for e in recurring_ical_events.of(cal).all())


def expand_ical(ics: bytes, recurring: set[str]) -> Expansion:
    """The ``ical`` package.

    Its ``recurrence_id`` is a *floating* ``YYYYMMDDTHHMMSS`` string (documented in
    ical.recur_adapter: the TZID is dropped "to avoid dealing with serializing TZID"); it is
    in DTSTART's zone, which is Asia/Shanghai for every event we write, so we read it there.
    """
    cal = IcsCalendarStream.calendar_from_ics(ics.decode())

    def inst(e) -> tuple[str, Inst]:
        rid = None
        if e.uid in recurring:
            assert e.recurrence_id, f"{e.uid} {e.dtstart}: ical gives no RECURRENCE-ID"
            rid = dt.datetime.strptime(str(e.recurrence_id), "%Y%m%dT%H%M%S").replace(tzinfo=TZ)
        status = e.status.value if e.status is not None else "(none)"
        return e.uid, Inst(rid, _local(e.dtstart), _local(e.dtend), str(status), e.summary)

    return _group(inst(e) for e in cal.timeline_tz(TZ))


def expand_generation(gen: Generation) -> Expansion:
    return _group(
        (
            o.published_uid,
            Inst(
                o.nominal_start if s.rule is not None else None, o.start, o.end,
                o.published_status, o.summary,
            ),
        )
        for s in gen.series
        for o in s.occurrences
    )


def _diff(label: str, got: Expansion, want: Expansion) -> list[str]:
    """Readable differences, per UID (empty when equal)."""
    lines = []
    for uid in sorted(set(got) | set(want)):
        g, w = got.get(uid, Counter()), want.get(uid, Counter())
        if g != w:
            lines.append(f"{label} {uid}: missing {sorted(w - g)[:4]} extra {sorted(g - w)[:4]}")
    return lines


def assert_same(want: Expansion, **engines: Expansion) -> None:
    problems = [line for name, got in engines.items() for line in _diff(name, got, want)]
    assert not problems, "\n".join(problems)


# -- the CLI, in-process --------------------------------------------------------------------


def _cli(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main([*argv, "--policies", str(shipped_policies())])
    assert rc == 0, f"calsync {' '.join(argv)} exited {rc}"
    return out.getvalue()


class Run(NamedTuple):
    start: dt.date
    end: dt.date
    rows: list[dict]
    out: Path
    recurring: set[str]                         # UIDs with an RRULE
    files: dict[str, tuple[Expansion, Expansion]]  # series file → (r-i-e, ical) expansions


@pytest.fixture(scope="module", params=list(RANGES))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    start, end = RANGES[request.param]
    span = ("--start", start.isoformat(), "--end", end.isoformat())
    rows = json.loads(_cli("occurrences", *span, "--format", "json"))
    out = tmp_path_factory.mktemp("ics")
    _cli("generate", *span, "--out", str(out))
    recurring = {r["resource_uid"] for r in rows if r["recurrence_id"] is not None}
    files = {}
    for path in sorted((out / ORG).glob("*.ics")):
        ics = path.read_bytes()
        files[path.stem] = (expand_recurring(ics, recurring), expand_ical(ics, recurring))
    return Run(start, end, rows, out, recurring, files)


# -- the shipped policies -------------------------------------------------------------------


def test_json_covers_the_range_and_every_series_has_one_file(run: Run) -> None:
    assert run.rows, "no occurrences at all"
    assert {r["organization"] for r in run.rows} == {ORG}  # 教育局 meets on demand only
    for r in run.rows:
        day = dt.datetime.fromisoformat(r["start"]).date()
        assert run.start <= day <= run.end, r
    files = {p.stem for p in (run.out / ORG).glob("*.ics")}
    assert files == {r["resource"] for r in run.rows}
    assert not list((run.out / "jiaoyuju").glob("*.ics"))
    for r in run.rows:
        assert r["uid"] == f"{r['series']}@{DOMAIN}"
        assert r["resource_uid"] == f"{r['resource']}@{DOMAIN}"
    # 周例会 is one object per duty leader (篇一 三.1: 当月值班领导主持), the rest one each
    weekly = {r["resource"] for r in run.rows if r["series"] == "zhoulihui"}
    assert weekly == {f"zhoulihui--{r['chair']['person']}" for r in run.rows
                      if r["series"] == "zhoulihui" and not r["moved_from"]}
    assert len(weekly) == 4
    # The range is long enough for every shape to be there: moved, dropped, provisional.
    assert any(r["moved_from"] for r in run.rows)
    assert any(r["series"].startswith("zongjie-") for r in run.rows)
    if run.end.year == 2027:
        assert any(r["provisional"] for r in run.rows)


def test_each_series_file_expands_the_same_in_both_engines_as_the_json(run: Run) -> None:
    for stem, (rie, hass) in run.files.items():
        # One resource = one UID (master and overrides).
        ics = (run.out / ORG / f"{stem}.ics").read_bytes()
        uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")}
        assert uids == {f"{stem}@{DOMAIN}"}, stem
        assert set(rie) == set(hass) == uids, stem
    rie = _merge(*(f[0] for f in run.files.values()))
    hass = _merge(*(f[1] for f in run.files.values()))
    assert_same(expand_json(run.rows), recurring_ical_events=rie, ical=hass)


def test_the_combined_calendar_equals_the_series_files_together(run: Run) -> None:
    combined = (run.out / f"{ORG}.ics").read_bytes()
    separate_rie = _merge(*(f[0] for f in run.files.values()))
    separate_ical = _merge(*(f[1] for f in run.files.values()))
    assert_same(separate_rie,
                recurring_ical_events=expand_recurring(combined, run.recurring))
    assert_same(separate_ical, ical=expand_ical(combined, run.recurring))
    # An organization without scheduled meetings still gets a valid, empty calendar.
    empty = (run.out / "jiaoyuju.ics").read_bytes()
    assert expand_recurring(empty, set()) == {} and expand_ical(empty, set()) == {}


def test_moved_instances_are_at_their_new_time_in_both_engines(run: Run) -> None:
    """Holiday moves: the override carries the nominal RECURRENCE-ID and the new start."""
    moved = [r for r in run.rows if r["moved_from"]]
    assert moved
    for r in moved:
        start = _local(dt.datetime.fromisoformat(r["start"]))
        nominal = _local(dt.datetime.fromisoformat(r["moved_from"]))
        assert start != nominal
        for engine in run.files[r["resource"]]:
            instances = list(engine[r["resource_uid"]].elements())
            assert start in {i.start for i in instances}, (r["resource_uid"], start)
            if r["recurrence_id"] is not None:
                # Nothing is left at the old time: the nominal instance was replaced.
                assert [i.start for i in instances if i.recurrence_id == nominal] == [start]


# -- decisions: moves and cancellations must survive both engines -------------------------


def _at(y: int, m: int, d: int, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


def _uid(series: str) -> str:
    return f"{series}@{DOMAIN}"


def _move(
    series: str, nominal: dt.datetime, new: dt.datetime, new_end: dt.datetime | None = None
) -> Decision:
    return Decision(_uid(series), nominal, "move", new, new_end, note="测试调整")


def _cancel(series: str, nominal: dt.datetime) -> Decision:
    return Decision(_uid(series), nominal, "cancel", note="测试取消")


DECISIONS = {
    "weekly-move-and-cancel": [
        _move("zhoulihui", _at(2026, 3, 16, 9, 30), _at(2026, 3, 18, 14, 0)),
        _cancel("zhoulihui", _at(2026, 3, 9, 9, 30)),
    ],
    # The master's DTSTART instance itself is overridden.
    "first-instances": [
        _cancel("zhoulihui", _at(2026, 1, 5, 9, 30)),
        _move(
            "zhurenbangong", _at(2026, 1, 7, 9, 0), _at(2026, 1, 8, 10, 0), _at(2026, 1, 8, 12, 30)
        ),
    ],
    # A holiday-moved instance (清明: Monday 04-06 → Tuesday 04-07) moved again; a cancelled
    # 主任办公会 cancels its topic deadline too.
    "holiday-moved-then-decided": [
        _move("zhoulihui", _at(2026, 4, 6, 9, 30), _at(2026, 4, 9, 15, 0)),
        _cancel("zhurenbangong", _at(2026, 3, 18, 9, 0)),
    ],
    # The topic deadline follows its meeting; a deadline itself can be moved; the Monday
    # 科务会 can be moved on its own.
    "deadlines-and-after": [
        _move("zhurenbangong", _at(2026, 3, 4, 9, 0), _at(2026, 3, 6, 9, 0)),
        _move("deadline-zhoubao", _at(2026, 5, 15, 14, 30), _at(2026, 5, 14, 14, 30)),
        _move("kewuhui-zonghe-mon", _at(2026, 3, 23, 10, 30), _at(2026, 3, 24, 16, 0)),
    ],
    "single-events": [
        _move("zongjie-2026", _at(2026, 2, 11, 9, 0), _at(2026, 2, 12, 14, 0)),
        _cancel("xitong-2026", _at(2026, 6, 25, 9, 0)),
    ],
    # Moved out of the range (→ EXDATE here), and onto the day of the next instance.
    "out-of-range-and-same-day": [
        _move("zhoulihui", _at(2026, 12, 28, 9, 30), _at(2027, 1, 4, 9, 30)),
        _move("zhoulihui", _at(2026, 6, 1, 9, 30), _at(2026, 6, 8, 11, 0)),
    ],
}


@pytest.fixture(scope="module")
def decided() -> dict[str, Generation]:
    start, end = RANGES["2026"]
    return {name: generate(shipped(), start, end, None, Inputs(decisions=tuple(ds)))
            for name, ds in DECISIONS.items()}


def _series(gen: Generation, series_id: str) -> Series:
    return next(s for s in gen.series if s.id == series_id)


def _recurring(gen: Generation) -> set[str]:
    return {p.uid for s in gen.series if s.rule is not None for p in s.parts()}


def _render_expand(gen: Generation) -> tuple[Expansion, Expansion]:
    recurring = _recurring(gen)
    rie, hass = [], []
    for s in gen.series:
        ics = render_series(s, STAMP).ics
        rie.append(expand_recurring(ics, recurring))
        hass.append(expand_ical(ics, recurring))
    return _merge(*rie), _merge(*hass)


@pytest.mark.parametrize("name", list(DECISIONS))
def test_decisions_survive_both_engines(decided: dict[str, Generation], name: str) -> None:
    gen = decided[name]
    assert not gen.stale, [d.describe() for d in gen.stale]
    want = expand_generation(gen)
    rie, hass = _render_expand(gen)
    assert_same(want, recurring_ical_events=rie, ical=hass)
    # Every decision is visible in both engines, under its RECURRENCE-ID.
    end = RANGES["2026"][1]
    for d in DECISIONS[name]:
        series = d.series_uid.partition("@")[0]
        s = _series(gen, series)
        rid = d.recurrence_id if s.rule is not None else None
        # the object it is in (a 周例会 week is in its duty leader's part)
        uid = next((o.published_uid for o in s.occurrences if o.nominal_start == d.recurrence_id),
                   d.series_uid)
        for engine in (rie, hass):
            mine = [
                i
                for i in engine.get(uid, Counter()).elements()
                if rid is None or i.recurrence_id == rid
            ]
            if d.action == "cancel":
                assert [i.status for i in mine] == ["CANCELLED"], (name, d.describe())
                assert mine[0].start == d.recurrence_id
            elif d.new_start is not None and d.new_start.date() > end:
                assert mine == [], (name, d.describe())  # moved out of the range
                assert d.recurrence_id in s.dropped
            else:
                # A moved meeting keeps its status: 系统工作会议/总结表彰大会 stay TENTATIVE
                # until confirmed (issue 10), the others CONFIRMED.
                status = next(o.status for o in s.occurrences
                              if o.nominal_start == d.recurrence_id)
                assert status == ("TENTATIVE" if series.startswith(("zongjie", "xitong"))
                                  else "CONFIRMED")
                assert [(i.start, i.status) for i in mine] == [(d.new_start, status)], (
                    name,
                    d.describe(),
                )
                if d.new_end is not None:
                    assert mine[0].end == d.new_end
    # The combined calendar carries the same decisions.
    combined = render_calendar(gen.series, STAMP, "test")
    recurring = _recurring(gen)
    assert_same(
        want,
        combined_rie=expand_recurring(combined, recurring),
        combined_ical=expand_ical(combined, recurring),
    )


def test_decision_consequences_in_the_generation(decided: dict[str, Generation]) -> None:
    """What the engines are compared against: the knock-on effects of the decisions."""
    gen = decided["weekly-move-and-cancel"]
    for section in ("mishuke", "zonghe", "jiaoyi", "ducha"):
        mon = {o.nominal_start: o for o in _series(gen, f"kewuhui-{section}-mon").occurrences}
        # The Monday 科务会 follows its moved 周例会 …
        assert mon[_at(2026, 3, 16, 10, 30)].start == _at(2026, 3, 18, 15, 0)
        # … and stays where the rule put it when the 周例会 is cancelled.
        assert mon[_at(2026, 3, 9, 10, 30)].start == _at(2026, 3, 9, 10, 30)
        assert mon[_at(2026, 3, 9, 10, 30)].status == "CONFIRMED"
    gen = decided["holiday-moved-then-decided"]
    yiti = {o.nominal_start: o for o in _series(gen, "deadline-yiti-zhurenbangong").occurrences}
    assert yiti[_at(2026, 3, 16, 16, 30)].status == "CANCELLED"
    gen = decided["deadlines-and-after"]
    yiti = {o.nominal_start: o for o in _series(gen, "deadline-yiti-zhurenbangong").occurrences}
    # Meeting moved to Friday 03-06 → topics due two days before, Wednesday 03-04 17:00.
    assert yiti[_at(2026, 3, 2, 16, 30)].end == _at(2026, 3, 4, 17, 0)
