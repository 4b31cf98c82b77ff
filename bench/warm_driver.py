"""Run publishes in one long-lived process, timing only the publish (the benchmark's warm side).

Reads one command per line on stdin and answers each with the elapsed seconds (or ``error``):

    calsync DIR COLLECTION_URL DATABASE_URL USER PASSWORD
    vdirsyncer CONFIG

Both tools are imported before the first command, so start-up is not timed: this is the cost
of a publish inside a running service (``calsync serve`` publishes in-process).
"""

from __future__ import annotations

import shlex
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import publish_dir
from vdirsyncer.cli import app as vdirsyncer_app


def run(words: list[str]) -> None:
    if words[0] == "calsync":
        publish_dir.main(words[1:])
    elif words[0] == "vdirsyncer":
        vdirsyncer_app.main(["-c", words[1], "sync"], standalone_mode=False)
    else:
        raise SystemExit(f"unknown tool {words[0]!r}")


def main() -> None:
    for line in sys.stdin:
        words = shlex.split(line)
        if not words:
            continue
        t0 = time.perf_counter()
        try:
            run(words)
        except Exception:  # report and go on: the bench decides what a failure means
            traceback.print_exc()
            print("error", flush=True)
            continue
        print(f"{time.perf_counter() - t0:.6f}", flush=True)


if __name__ == "__main__":
    main()
