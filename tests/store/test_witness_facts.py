"""The publish witness' reading of a SQLite store (calsync.store.witness, sqlite3 alone) agrees
with what the store's repositories say, and never writes or creates anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from calsync.store import Store, open_store
from calsync.store.witness import StoreFacts, store_facts

URL = "http://dav.example/cal/guanliban/"


def facts_by_the_store(store: Store) -> StoreFacts:
    tokens = {}
    for url in (URL, URL + "other/"):
        state = store.sync_state.get_collection_state(url)
        if state is not None:
            tokens[url] = state.sync_token
    return StoreFacts(store.audit.latest_audit_id(), len(store.conflicts.open_conflicts()),
                      tokens)


def test_the_witness_reads_what_the_store_says(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with open_store(sqlite_url) as store:
        assert store_facts(path) == facts_by_the_store(store) == StoreFacts(0, 0, {})
        store.audit.record("test", "change", "something")
        store.sync_state.save_collection_state(URL, "token-1", {"/a.ics": '"e1"'})
        store.sync_state.save_collection_state(URL + "other/", None, {})
        conflict = store.conflicts.record_conflict("guanliban", URL, "x@guanliban.calsync",
                                                   kind="deleted", policy_ics="BEGIN:VCALENDAR")
        seen = store_facts(path)
        assert seen == facts_by_the_store(store)
        assert seen is not None and seen.audit >= 1 and seen.open_conflicts == 1
        assert seen.tokens == {URL: "token-1", URL + "other/": None}
        store.conflicts.resolve_conflict(conflict.id, "policy", "test")
        after = store_facts(path)
        assert after == facts_by_the_store(store) and after is not None
        assert after.open_conflicts == 0 and after.audit >= seen.audit


def test_an_unreadable_store_is_no_facts_and_stays_untouched(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    assert store_facts(missing) is None and not missing.exists()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    assert store_facts(garbage) is None
    assert garbage.read_bytes() == b"not a database at all" * 100
    other = tmp_path / "other.sqlite3"  # a SQLite file, but not calsync's
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE audit (x)")
    con.close()
    assert store_facts(other) is None
