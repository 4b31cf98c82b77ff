"""Where calsync finds its files: the policies, the instance folder, the default SQLite store.

Standard library only, so a command can find them before it loads anything heavy (the
publish witness, calsync.cli.publish_witness, runs before SQLAlchemy or the policy loader).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

ENV_POLICIES = "CALSYNC_POLICIES"
ENV_INSTANCE = "CALSYNC_INSTANCE"
ENV_DATABASE_URL = "CALSYNC_DATABASE_URL"
SQLITE_FILENAME = "calsync.sqlite3"


def shipped_policies() -> Path:
    """The policies that travel inside the package (``policies/`` in the repository)."""
    spec = importlib.util.find_spec("calsync.policies")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("calsync.policies is not installed (reinstall calsync)")
    return Path(spec.origin).parent


def policies_path(arg: str | os.PathLike[str] | None = None) -> Path:
    """``--policies DIR``, else ``CALSYNC_POLICIES``, else the shipped policies."""
    chosen = arg or os.environ.get(ENV_POLICIES)
    return Path(chosen) if chosen else shipped_policies()


def instance_path(arg: Path | None = None) -> Path:
    """``--instance DIR``, else ``CALSYNC_INSTANCE``, else ``./instance`` (not created here)."""
    return Path(arg) if arg else Path(os.environ.get(ENV_INSTANCE) or "instance")
