"""Publishing to CalDAV: normalize (pure) → plan (pure) → apply (I/O), driven by publish.

Import from the submodules: ``calsync.sync.publish`` (publish, resolve, layouts),
``calsync.sync.plan`` (the planner), ``calsync.sync.normalize`` (semantic keys, instance diffs).
"""

from __future__ import annotations
