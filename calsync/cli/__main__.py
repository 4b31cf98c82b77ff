"""`python -m calsync.cli …` runs the `calsync` command (tests and benchmarks spawn it so)."""

from __future__ import annotations

import sys

from calsync.cli import main

sys.exit(main())
