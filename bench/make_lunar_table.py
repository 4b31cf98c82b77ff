"""Write calsync/calendar/lunar_table.py: the lunar dates calsync needs, 1990–2100.

    python bench/make_lunar_table.py

lunar-python computes them astronomically (~0.06 s a year); generation over ten years spent
most of its time there. The table is what lunar-python says (tests/test_lunar_table.py
recomputes a sample); years outside it still ask lunar-python.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from lunar_python import Lunar

ROOT = Path(__file__).resolve().parents[1]
FIRST, LAST = 1990, 2100


def _solar(lunar: Lunar) -> dt.date:
    s = lunar.getSolar()
    return dt.date(s.getYear(), s.getMonth(), s.getDay())


def dates(year: int) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(正月初一, 清明, 端午, 中秋) of the lunar year starting in ``year``."""
    q = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    return (_solar(Lunar.fromYmd(year, 1, 1)), dt.date(q.getYear(), q.getMonth(), q.getDay()),
            _solar(Lunar.fromYmd(year, 5, 5)), _solar(Lunar.fromYmd(year, 8, 15)))


def main() -> int:
    lines = ['"""Lunar dates from lunar-python, 1990–2100 (written by bench/make_lunar_table.py;',
             'do not edit): year → ISO dates of 正月初一, 清明, 端午, 中秋."""', "",
             "from __future__ import annotations", "", f"FIRST, LAST = {FIRST}, {LAST}",
             "", "DATES: dict[int, tuple[str, str, str, str]] = {"]
    for year in range(FIRST, LAST + 1):
        iso = ", ".join(f'"{d.isoformat()}"' for d in dates(year))
        lines.append(f"    {year}: ({iso}),")
    lines.append("}")
    out = ROOT / "calsync" / "calendar" / "lunar_table.py"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
