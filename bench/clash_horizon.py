"""How long clash detection takes over a long horizon of the shipped policies.

    python bench/clash_horizon.py [START_YEAR] [YEARS]

Prints the generation time and the find_clashes time for YEARS years (default 10 from 2026),
and, for comparison, a brute-force all-pairs check (person and room kinds) over the first year
next to find_clashes on that same year. Figures only (best of 3 runs).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable

from calsync.meetings.clashes import due_attendees, find_clashes, is_active, overlaps
from calsync.meetings.generate import generate
from calsync.occurrence import Occurrence
from calsync.policy import load_policies


def best(action: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - t0)
    return min(times), result


def brute_force(occs: list[Occurrence]) -> int:
    """Every pair compared: the quadratic reference the sweep line replaces."""
    live = [(o, due_attendees(o).keys()) for o in occs if is_active(o)]
    found = 0
    for i, (a, pa) in enumerate(live):
        for b, pb in live[i + 1:]:
            if overlaps(a.start, a.end, b.start, b.end):
                found += len(pa & pb) + (1 if a.location and a.location == b.location else 0)
    return found


def main(argv: list[str]) -> int:
    first = int(argv[0]) if argv else 2026
    years = int(argv[1]) if len(argv) > 1 else 10
    policies = load_policies()
    shares = {k: o.requests.merge_share for k, o in policies.organizations.items()}

    def clashes(occs: list[Occurrence]) -> list:
        # Every meeting counts as mergeable here (the service looks at on-demand ones only):
        # the same-audience pass does its most work.
        return find_clashes(occs, calendar=policies.calendar, merge_share=shares)

    start, end = dt.date(first, 1, 1), dt.date(first + years - 1, 12, 31)
    t_gen, gen = best(lambda: generate(policies, start, end))
    occs = gen.occurrences()
    t_clash, found = best(lambda: clashes(occs))
    kinds = Counter(c.kind for c in found)
    print(f"horizon {start}..{end}, every meeting mergeable (worst case): {len(occs)} "
          f"occurrences, {len(found)} clashes "
          f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"  generate      {t_gen * 1000:9.1f} ms")
    print(f"  find_clashes  {t_clash * 1000:9.1f} ms")

    one = [o for o in occs if o.start.year == first]
    t_sweep, found1 = best(lambda: clashes(one))
    t_pairs, pairs = best(lambda: brute_force(one))
    sweep_pr = sum(1 for c in found1 if c.kind in ("person", "room"))
    print(f"year {first}: {len(one)} occurrences, {sweep_pr} person/room clashes "
          f"(all-pairs: {pairs})")
    print(f"  find_clashes (all kinds)      {t_sweep * 1000:9.1f} ms")
    print(f"  all-pairs (person, room only) {t_pairs * 1000:9.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
