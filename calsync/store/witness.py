"""What the publish witness (calsync.cli.publish_witness) reads of a SQLite store.

Standard library only, and nothing here may import SQLAlchemy or the models: the witness
answers a no-op ``calsync publish`` before anything heavy loads, so it reads the file with one
read-only ``sqlite3`` connection (a store that is not a SQLite file has no witness). The
tables and columns are the store's own (calsync.store.models); a store test checks that these
facts agree with what the store's repositories report.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class StoreFacts:
    """What a publish's outcome depends on in the store, as the witness compares it."""

    audit: int  # the newest audit id: every stored input change writes an audit row
    open_conflicts: int
    tokens: dict[str, str | None]  # collection URL -> its saved RFC 6578 sync token


def store_facts(database: Path) -> StoreFacts | None:
    """The newest audit id, open conflicts and saved sync tokens; None if unreadable (no such
    file, not a calsync store). Never writes, never creates the file."""
    if not database.is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{quote(str(database))}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        audit = con.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
        conflicts = con.execute(
            "SELECT count(*) FROM sync_conflict WHERE resolved_at IS NULL").fetchone()[0]
        tokens = dict(con.execute("SELECT collection_url, sync_token FROM sync_collection"))
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return StoreFacts(int(audit), int(conflicts), tokens)
