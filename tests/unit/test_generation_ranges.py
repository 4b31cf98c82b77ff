"""A holiday move that avoids a clash does not depend on where the requested range ends."""

from __future__ import annotations

import datetime as dt

from calsync.meetings.generate import generate
from tests.support.gen_helpers import shipped


def _office(end: dt.date) -> dict[dt.date, dt.date]:
    gen = generate(shipped(), dt.date(2026, 2, 1), end, ["guanliban"])
    return {o.nominal_start.date(): o.start.date() for o in gen.occurrences()
            if o.series == "zhurenbangong"}


def test_a_move_near_the_range_end_lands_where_a_longer_range_puts_it() -> None:
    # 春节: the 主任办公会 of Wed 02-18 goes to the next working day that holds no other
    # meeting of its people. Tue 02-24 has the moved 周例会 and 科务会, so it is Wed 02-25 —
    # also when the range ends on 02-24 (there it is outside the range: absent, an EXDATE),
    # never a clash on 02-24 that a longer range would not have.
    wide = _office(dt.date(2026, 2, 28))
    assert wide[dt.date(2026, 2, 18)] == dt.date(2026, 2, 25)
    narrow = _office(dt.date(2026, 2, 24))
    assert dt.date(2026, 2, 18) not in narrow
    assert narrow == {k: v for k, v in wide.items() if v <= dt.date(2026, 2, 24)}


def test_every_occurrence_of_a_range_is_in_a_longer_one_unchanged() -> None:
    year = {(o.uid, o.nominal_start): o
            for o in generate(shipped(), dt.date(2026, 1, 1), dt.date(2026, 12, 31)).occurrences()}
    for end in (dt.date(2026, 2, 24), dt.date(2026, 5, 4), dt.date(2026, 10, 5)):
        for o in generate(shipped(), dt.date(2026, 1, 1), end).occurrences():
            assert year[(o.uid, o.nominal_start)] == o, (end, o.uid, o.nominal_start)
