"""Publish a folder of .ics files with calsync's sync engine (the benchmark's calsync side).

    python bench/publish_dir.py DIR COLLECTION_URL DATABASE_URL [USER PASSWORD]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from calsync.ical.resources import Resource
from calsync.store import open_store
from calsync.sync.client import Target
from calsync.sync.publish import CollectionSpec, publish


def _uid(body: bytes) -> str:
    # The files are calsync's own output (UID on one line): no need to parse them whole.
    m = re.search(rb"^UID:(.+?)\r?$", body, re.MULTILINE)
    assert m, "no UID"
    return m.group(1).decode()


def main(argv: list[str]) -> int:
    folder, url, db = Path(argv[0]), argv[1], argv[2]
    user, password = (argv[3] or None, argv[4] or None) if len(argv) > 4 else (None, None)
    resources = tuple(Resource("guanliban", p.stem, _uid(p.read_bytes()), p.read_bytes())
                      for p in sorted(folder.glob("*.ics")))
    spec = CollectionSpec("bench", "bench", ("guanliban",), resources, url=url)
    with open_store(db) as store:
        result = publish([spec], store, Target(url, user, password))
    result.raise_first_error()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
