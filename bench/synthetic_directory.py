"""A synthetic bureau: the shipped policies with each organization's directory grown to
``--people`` staff (spread over its sections as 科员), for benchmarks at a bureau's size.

    python bench/synthetic_directory.py OUT_DIR [--people 300]

Writes a policy folder usable with ``--policies OUT_DIR``; the people are appended to each
``directory.toml`` as plain TOML, so the result is what an office would write by hand.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from calsync.policy import load_policies, shipped_policies  # noqa: E402


def synthetic_policies(out: Path, people: int = 300) -> Path:
    """Copy the shipped policies to ``out`` and grow every directory to ``people`` staff."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(shipped_policies(), out, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shipped = load_policies(out)
    for org in shipped.organizations.values():
        sections = sorted(org.sections)
        lines = []
        for i in range(max(0, people - len(org.staff))):
            section = sections[i % len(sections)]
            pid = f"synth_{org.id}_{i:04d}"
            lines.append(f'\n[people.{pid}]\nname = "测试人员{i:04d}"\n'
                         f'email = "{pid}@{org.id}.example.org"\nroles = ["科员"]\n'
                         f'section = "{section}"\n')
        path = out / org.id / "directory.toml"
        path.write_text(path.read_text(encoding="utf-8") + "".join(lines), encoding="utf-8")
    grown = load_policies(out)
    for org in grown.organizations.values():
        assert len(org.staff) >= people, (org.id, len(org.staff))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--people", type=int, default=300)
    args = p.parse_args()
    synthetic_policies(args.out, args.people)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
