"""How long ``calsync directory import`` takes on a 300-person 通讯录: read the sheet, match
it against the 教育局's directory, rewrite and validate directory.toml, print the diff.

    python bench/directory_import.py [--runs 5] [--people 300]

The sheet is written with openpyxl (tests/support/directory_sheets.py: a title row, 序号 and
备注 columns, blank rows, four 张伟). Each run starts from the shipped directory; wall and
CPU seconds are reported (the CPU figure is steadier on a busy machine), for the xlsx and the
same rows as a GB18030 CSV, then one --apply and a second import that finds nothing to do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calsync.directory import apply, diff_lines, preview  # noqa: E402
from calsync.policy import shipped_policies  # noqa: E402
from tests.support import directory_sheets as ds  # noqa: E402


def _timed(action) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--people", type=int, default=300)
    args = parser.parse_args(argv)
    rows = ds.three_hundred()
    if args.people != 300:
        rows = rows[:12] + ds.generated(args.people - 12)
    left_on = dt.date(2026, 12, 7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        xlsx = ds.write_xlsx(folder / "通讯录.xlsx", rows)
        csv = folder / "通讯录.csv"
        csv.write_bytes(ds.csv_bytes(rows, encoding="gb18030"))
        root = folder / "policies"
        shutil.copytree(shipped_policies(), root,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        for sheet in (xlsx, csv):
            data = sheet.read_bytes()
            walls, cpus = [], []
            for _ in range(args.runs):
                wall, cpu, shown = _timed(lambda d=data, s=sheet: diff_lines(
                    preview(root, "jiaoyuju", s.name, d, left_on)))
                walls.append(wall)
                cpus.append(cpu)
            print(f"{sheet.suffix[1:]:4} {len(rows)} people, {len(data) // 1024} KB: import+diff "
                  f"median {statistics.median(walls):.3f} s wall, "
                  f"{statistics.median(cpus):.3f} s CPU ({args.runs} runs; "
                  f"{len(shown)} diff lines)")
        shown = preview(root, "jiaoyuju", xlsx.name, xlsx.read_bytes(), left_on)
        wall, cpu, _ = _timed(lambda: apply(shown, dt.datetime(2026, 12, 7, 9)))
        print(f"apply (backup + atomic write): {wall:.3f} s wall, {cpu:.3f} s CPU; "
              f"directory.toml {len(shown.before)} → {len(shown.after)} characters")
        wall, cpu, again = _timed(lambda: preview(root, "jiaoyuju", xlsx.name,
                                                  xlsx.read_bytes(), left_on))
        print(f"second import of the same sheet: {wall:.3f} s wall, {cpu:.3f} s CPU, "
              f"{'nothing to do' if again.plan.empty else 'CHANGES?'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
