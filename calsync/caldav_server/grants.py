"""Who reads which collection of the embedded CalDAV server, and the homes phones discover.

After every publish ``calsync serve`` turns the collection specs (calsync.sync.layouts: the
organization's collection, read by its staff; one collection per set of readers of
confidential meetings) into ``<instance>/caldav/grants.json``, which the rights plugin
(calsync.caldav_server.rights) reads, and into each person's calendar home: a link
``<person>/<slug>`` to every collection they may read. A client given only the server address
finds them the standard way (``/.well-known/caldav`` → principal → calendar-home-set →
calendars); the home is read-only, so nobody creates calendars or uploads into it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from calsync.sync.publish import CollectionSpec

GRANTS_FILE = "grants.json"
ROOT = "calsync"  # the service account's collections: /calsync/<slug>/


def grants_of(specs: Iterable[CollectionSpec],
              staff: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """``{"collections": {slug: {"orgs": [...], "readers": [...]}}}``; ``staff``:
    organization → person ids (the readers of an organization's own collection)."""
    collections: dict[str, Any] = {}
    for spec in specs:
        if spec.retire:
            continue
        if spec.readers is None:
            who = sorted({p for org in spec.organizations for p in staff.get(org, ())})
        else:
            who = sorted(spec.readers)
        collections[spec.slug] = {"orgs": list(spec.organizations), "readers": who}
    return {"collections": collections}


def merge_grants(old: Mapping[str, Any], new: Mapping[str, Any],
                 orgs: Iterable[str]) -> dict[str, Any]:
    """Replace the grants of ``orgs`` (one publish covers some organizations); the leavers
    are replaced when ``new`` names them, else kept."""
    done = set(orgs)
    keep = {slug: g for slug, g in old.get("collections", {}).items()
            if not done.intersection(g.get("orgs", ()))}
    keep.update(new.get("collections", {}))
    left = new.get("left", old.get("left", {}))
    return {"collections": dict(sorted(keep.items())), "left": dict(sorted(left.items()))}


def leavers_of(people: Iterable[Any]) -> dict[str, str]:
    """Person id → last day in office (``left`` in directory.toml), ISO text."""
    return {p.id: p.left.isoformat() for p in people if getattr(p, "left", None)}


def has_left(grants: Mapping[str, Any], user: str, today: dt.date) -> bool:
    """A person who left keeps their history but not their access: from the day after their
    last day the embedded server refuses their login, as the page and the feeds do."""
    last = grants.get("left", {}).get(user)
    try:
        return last is not None and today > dt.date.fromisoformat(last)
    except (TypeError, ValueError):
        return True  # an unreadable date denies rather than grants


def read_grants(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / GRANTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"collections": {}}
    return data if isinstance(data, dict) else {"collections": {}}


def readable(grants: Mapping[str, Any], user: str, slug: str) -> bool:
    g = grants.get("collections", {}).get(slug)
    return bool(g) and user in g.get("readers", ())


def homes(grants: Mapping[str, Any]) -> dict[str, set[str]]:
    """Person → the slugs linked into their home."""
    out: dict[str, set[str]] = {}
    for slug, g in grants.get("collections", {}).items():
        for person in g.get("readers", ()):
            out.setdefault(person, set()).add(slug)
    return out


def apply_grants(folder: Path, grants: Mapping[str, Any], people: Iterable[str]) -> None:
    """Write the grants file (atomically, 0600) and make every home hold exactly its links.

    ``people``: everyone who gets a home (an empty one when they may read nothing)."""
    tmp = folder / f".{GRANTS_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(grants, fh, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(tmp, folder / GRANTS_FILE)
    root = folder / "collections" / "collection-root"
    (root / ROOT).mkdir(parents=True, exist_ok=True)
    linked = homes(grants)
    for person in sorted(set(people) | set(linked)):
        if not _safe(person):
            continue
        home = root / person
        home.mkdir(parents=True, exist_ok=True)
        want = linked.get(person, set())
        for entry in home.iterdir():
            if entry.is_symlink() and entry.name not in want:
                entry.unlink()
        for slug in want:
            link = home / slug
            if not link.is_symlink():
                link.symlink_to(Path("..") / ROOT / slug, target_is_directory=True)


def _safe(name: str) -> bool:
    return bool(name) and "/" not in name and not name.startswith(".") and name != ROOT
