"""A database calsync cannot use as it is: damaged (SQLite) or read-only. One line each,
naming the file and the fix, exit code 2; nothing is written."""

from __future__ import annotations

from sqlalchemy.engine import URL

from calsync.errors import StoreError

_DAMAGED = ("file is not a database", "malformed", "could not decode", "disk image",
            "unsupported file format", "not a database", "codec can't decode")
_READ_ONLY = ("readonly database", "read-only", "read only", "readonly")


class StoreUnavailable(StoreError):
    """The database cannot be used at all (connection, damage, permissions): not the user's
    input. Web pages answer 503 with this message instead of a form error."""


class DamagedStore(StoreUnavailable):
    exit_code = 2


class ReadOnlyStore(StoreUnavailable):
    exit_code = 2


def classify(message: str, url: URL, shown: str) -> StoreUnavailable | None:
    """The damaged/read-only error for a driver message, or None for anything else."""
    low = message.lower()
    sqlite = url.get_backend_name() == "sqlite"
    where = url.database if sqlite else shown
    if sqlite and any(w in low for w in _DAMAGED):
        path = url.database
        return DamagedStore(
            f"the database file {path} is damaged ({message}); nothing was changed. Restore "
            f"it from a backup, or move it aside (`mv {path} {path}.damaged`) and calsync "
            f"starts with an empty one (`sqlite3 {path}.damaged .recover` saves what is "
            f"still readable)")
    if any(w in low for w in _READ_ONLY):
        fix = (f"make it writable for this user (`chmod u+w {where}` as its owner; check "
               f"`lsattr {where}` and that the disk is not mounted read-only)" if sqlite else
               "connect as a user that may write it, or turn off default_transaction_read_only")
        return ReadOnlyStore(f"the database {where} is read-only ({message}); calsync must "
                             f"write it: {fix}")
    return None
