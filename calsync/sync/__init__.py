"""Publishing to CalDAV: normalize (pure) → plan (pure) → apply (I/O), driven by publish.

Import from the submodules: ``calsync.sync.publish`` (publish, resolve, layouts),
``calsync.sync.plan`` (the planner), ``calsync.sync.normalize`` (semantic keys, instance diffs).
"""

from __future__ import annotations

# Which collections hold what (calsync.sync.layouts); here so the CLI can offer the choice
# without loading the engine.
LAYOUTS = ("org", "per-person")
