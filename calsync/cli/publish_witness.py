"""A no-op ``calsync publish`` answered without loading the engine: the witness of the last one.

A cold ``calsync publish`` spends most of a second importing SQLAlchemy, the HTTP client and
icalendar and building the calendars before it can tell that nothing changed; a cron job or a
timer that publishes every few minutes pays that each time. After a publish that ended
settled — no error, no open conflict, each collection's next run known to be a pure no-op
(``CollectionResult.settled``, computed by the engine from the state it just reached) and no
stored input changed while it ran — calsync writes a *witness* beside the SQLite store:

- a digest of everything the build reads apart from the store: calsync's own code and the
  libraries that shape the bytes (file sizes and times), the policy and holiday files
  (contents), the options and today's date (Asia/Shanghai), as the feeds' stamp does;
- the store's newest audit id (every stored input change writes an audit row) and each
  collection's saved RFC 6578 sync token;
- what that no-op run will print.

The next ``calsync publish`` checks them with the standard library alone — files, one
read-only SQLite query (calsync.store.witness), one PROPFIND of DAV:sync-token per collection
(calsync.sync.witness; the request a full no-op makes too) — and, when every one agrees,
prints the witnessed no-op. This module is the shell around them. Anything else (a
difference, an error, a server without sync tokens, ``--dry-run``, ``--force``, ``--watch``,
``--full``, a store that is not a SQLite file) takes the full path, which decides and
reports as always. A witnessed no-op writes nothing: no sync_run rows (there was no run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from calsync.occurrence import TZ
from calsync.settings import HOLIDAYS_DIR, WITNESS_SUFFIX, Settings, shipped_policies
from calsync.store.witness import store_facts
from calsync.sync.witness import sync_token

VERSION = 1
# The libraries whose code shapes what a publish writes; an upgrade of one is a new digest.
LIBRARIES = ("icalendar", "dateutil", "lunar_python", "tzdata", "recurring_ical_events")
_SQLITE_URL = re.compile(r"sqlite(?:\+pysqlite)?:///([^?]+)")


@dataclass(frozen=True)
class Options:
    """What a publish was asked to do, as the full path resolves it."""

    policies: Path
    instance: Path
    database: Path | None          # the SQLite file; None: another store (no witness)
    caldav_url: str
    username: str | None
    password: str | None
    server_kind: str | None
    orgs: tuple[str, ...] | None
    layout: str
    start: dt.date
    end: dt.date
    timeout: float


def options(args: argparse.Namespace, settings: Settings, start: dt.date, end: dt.date,
            caldav_url: str, username: str | None, password: str | None) -> Options:
    """The witness' view of ``calsync publish``'s arguments and settings."""
    home = urlsplit(caldav_url)
    if home.username and not username:  # as the engine does: credentials never travel in URLs
        username, password = unquote(home.username), password or unquote(home.password or "")
    return Options(
        policies=settings.policies_dir, instance=settings.instance,
        database=_sqlite_file(settings),
        caldav_url=caldav_url, username=username, password=password,
        server_kind=args.server_kind, orgs=tuple(args.org) if args.org else None,
        layout=args.layout, start=start, end=end, timeout=args.timeout)


def sqlite_file(url: str | None, instance: Path) -> Path | None:
    """The store's SQLite file as calsync.store resolves it; None for any other store."""
    return _sqlite_file(Settings.from_env(database_url=url, instance=instance))


def _sqlite_file(settings: Settings) -> Path | None:
    raw = settings.database_url
    if not raw:
        return settings.sqlite_path.resolve()
    m = _SQLITE_URL.fullmatch(raw)
    if not m or m.group(1).startswith(":memory:"):
        return None
    return Path(unquote(m.group(1))).resolve()


def witness_path(database: Path) -> Path:
    return database.with_name(database.name + WITNESS_SUFFIX)


def digest(opts: Options) -> str:
    """Everything a publish reads apart from the store and the server, hashed."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            h.update(str(part).encode("utf-8", "surrogateescape"))
            h.update(b"\0")

    today = dt.datetime.now(TZ).date()
    add(VERSION, sys.version, today, opts.start, opts.end, opts.orgs, opts.layout,
        opts.caldav_url, opts.username, opts.server_kind, opts.database)
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        add(path.relative_to(package), st.st_size, st.st_mtime_ns)
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        lib = os.stat(origin) if origin and os.path.exists(origin) else None
        add(name, origin, lib and lib.st_size, lib and lib.st_mtime_ns)
    shipped = shipped_policies()
    for folder in dict.fromkeys((opts.policies, shipped / HOLIDAYS_DIR,
                                 opts.instance / HOLIDAYS_DIR)):
        add("folder", folder.resolve())
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else ():
            add(path.relative_to(folder))
            h.update(path.read_bytes())
    return h.hexdigest()


def shortcut(opts: Options) -> dict | None:
    """The witnessed no-op, if everything it witnessed still holds; else None."""
    if opts.database is None:
        return None
    path = witness_path(opts.database)
    try:
        seen = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(seen, dict) or seen.get("version") != VERSION:
        return None
    facts = store_facts(opts.database)
    if facts is None or facts.open_conflicts or facts.audit != seen.get("audit"):
        return None
    tokens = seen.get("tokens") or {}
    if not tokens or any(facts.tokens.get(u) != t for u, t in tokens.items()):
        return None
    if seen.get("digest") != digest(opts):
        return None
    for url, token in tokens.items():
        if sync_token(url, opts.username, opts.password, opts.timeout) != token:
            return None
    return seen


def write(opts: Options, audit_before: int | None, warnings: Iterable[str],
          collections: list[dict] | None) -> bool:
    """Record the witness of a settled publish (``collections``: each one's next no-op, with
    its url; None: not settled, and any old witness goes). True if written."""
    if opts.database is None:
        return False
    path = witness_path(opts.database)
    facts = store_facts(opts.database)
    if (collections is None or facts is None or facts.open_conflicts
            or audit_before != facts.audit
            or not all(facts.tokens.get(c["url"]) for c in collections)):
        path.unlink(missing_ok=True)
        return False
    data = {"version": VERSION, "digest": digest(opts), "audit": facts.audit,
            "tokens": {c["url"]: facts.tokens[c["url"]] for c in collections},
            "warnings": list(warnings), "collections": collections}
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)
    return True


def audit_now(opts: Options) -> int | None:
    """The store's newest audit id before a full publish (0: no store yet)."""
    if opts.database is None:
        return None
    if not opts.database.exists():
        return 0
    facts = store_facts(opts.database)
    return facts.audit if facts is not None else None
