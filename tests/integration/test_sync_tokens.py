"""RFC 6578 sync tokens: the store's collection state, the client's sync-collection REPORT and
publish reading the server through the stored listing + delta, on both servers and stores.

Requests are checked in the fault proxy's log, bodies included: a sync-collection REPORT is
told from a calendar-multiget REPORT by its XML root.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from calsync.store import Store, open_store
from calsync.store.db import alembic_config, create_db_engine, resolve_url
from calsync.sync.client import CalDAVClient, norm_href
from calsync.sync.errors import SafetyValveError
from calsync.sync.listing import CollectionListing
from calsync.sync.publish import publish
from calsync.sync.quirks import quirks_for
from tests.support.faultproxy import FaultProxy
from tests.support.servers import ServerHandle
from tests.support.sync_env import ORG, Env, assert_converged, event, resource

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BAD_TOKEN = "http://example.invalid/never-issued"


def requests(env: Env) -> list[tuple[str, str | None]]:
    """(method, XML root of the body or None) per request the proxy received."""
    out = []
    for method, _, body in env.proxy.bodies_log:
        root = ET.fromstring(body).tag.rsplit("}", 1)[-1] if body.startswith(b"<") else None
        out.append((method, root))
    return out


def sync_tokens_sent(env: Env) -> list[str]:
    """The DAV:sync-token of every sync-collection REPORT, in order ("" = initial sync)."""
    out = []
    for method, _, body in env.proxy.bodies_log:
        if method == "REPORT" and b"sync-collection" in body:
            root = ET.fromstring(body)
            assert root.find("{DAV:}limit") is None  # never DAV:limit (Xandikos truncates)
            out.append(root.findtext("{DAV:}sync-token") or "")
    return out


def listing_of(env: Env) -> dict[str, str]:
    return {norm_href(h): etag for h, (etag, _) in env.items().items()}


def settled(env: Env, res: list[Any]) -> None:
    """Publish, then a no-op publish so the store holds a token; proxy counts reset."""
    assert env.publish(res).ok
    assert env.publish(res).ok
    assert env.store.sync_state.get_collection_state(env.url).sync_token
    env.proxy.reset_counts()


# -- the store -------------------------------------------------------------------------------


def test_collection_state_round_trip(store: Store) -> None:
    url = "https://dav.example.org/cal/管理办公室/"
    assert store.sync_state.get_collection_state(url) is None
    listing = {"/cal/a.ics": '"e1"', "/cal/别人的.ics": None}
    saved = store.sync_state.save_collection_state(url, "tok-1", listing, at=T0)
    assert (saved.collection_url, saved.sync_token, saved.listing) == (url, "tok-1", listing)
    assert saved.updated_at == T0
    again = store.sync_state.save_collection_state(url, "tok-2", {"/cal/b.ics": '"e2"'})
    assert store.sync_state.get_collection_state(url) == again  # replaced, not a second row
    assert (again.sync_token, again.listing) == ("tok-2", {"/cal/b.ics": '"e2"'})
    with pytest.raises(AttributeError):
        again.sync_token = "x"  # type: ignore[misc]
    other = store.sync_state.save_collection_state(url + "x/", None, {})
    assert other.sync_token is None
    assert store.sync_state.get_collection_state(url).sync_token == "tok-2"
    assert store.sync_state.forget_collection_state(url) is True
    assert store.sync_state.forget_collection_state(url) is False
    assert store.sync_state.get_collection_state(url) is None


def test_migration_0002_keeps_existing_data(fresh_db_url: str) -> None:
    from alembic import command

    engine = create_db_engine(resolve_url(fresh_db_url))
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(
                text(
                    "INSERT INTO sync_resource (organization, collection_url, uid, content_hash,"
                    " written_ics, sequence, updated_at) VALUES ('o', 'u', 'x', 'h', '', 0, :at)"
                ),
                {"at": T0.replace(tzinfo=None)},
            )
    finally:
        engine.dispose()
    with open_store(fresh_db_url) as store:
        assert set(store.sync_state.get_resources("u")) == {"x"}
        assert store.sync_state.save_collection_state("u", "t",
                                                      {"/a": '"1"'}).listing == {"/a": '"1"'}


# -- the client ------------------------------------------------------------------------------


def test_sync_collection_delta_fallback_and_missing(
    caldav_server: ServerHandle, calendar: str, fault_proxy: FaultProxy
) -> None:
    put = {"Content-Type": "text/calendar"}
    for n in range(3):
        caldav_server.request("PUT", f"{calendar}s{n}.ics", event(n, uid=f"s{n}@x"), put)
    url = fault_proxy.proxied(calendar)
    with CalDAVClient(Env(caldav_server, fault_proxy, None, url).target()) as dav:
        first = dav.sync_collection(url, None)
        assert first is not None
        changed, removed, token = first
        assert sorted(h.rsplit("/", 1)[1] for h in changed) == ["s0.ics", "s1.ics", "s2.ics"]
        assert removed == set() and token and all(changed.values())
        caldav_server.request("DELETE", f"{calendar}s1.ics")
        caldav_server.request("PUT", f"{calendar}s3.ics", event(3, uid="s3@x"), put)
        fault_proxy.reset_counts()
        delta = dav.sync_collection(url, token, changed)
        assert delta is not None
        assert [h.rsplit("/", 1)[1] for h in delta[0]] == ["s3.ics"]
        assert [h.rsplit("/", 1)[1] for h in delta[1]] == ["s1.ics"]
        assert delta[2] and delta[2] != token
        assert fault_proxy.counts == {"REPORT": 1}

        fault_proxy.reset_counts()
        full = dav.sync_collection(url, BAD_TOKEN, changed)  # refused: a full listing instead
        assert full is not None
        assert sorted(h.rsplit("/", 1)[1] for h in full[0]) == ["s0.ics", "s2.ics", "s3.ics"]
        assert [h.rsplit("/", 1)[1] for h in full[1]] == ["s1.ics"]
        assert full[2] and full[2] != BAD_TOKEN
        status = quirks_for(caldav_server.kind).invalid_sync_token_status
        assert [(m, s) for m, _, s in fault_proxy.log] == [("REPORT", status), ("PROPFIND", 207)]
        assert dav.sync_collection(url, full[2], full[0]) == ({}, set(), full[2])

        missing = fault_proxy.proxied(caldav_server.new_calendar_url("gone"))
        assert dav.sync_collection(missing, None) is None
        assert dav.sync_collection(missing, token) is None


# -- publish ---------------------------------------------------------------------------------


def test_noop_publish_is_one_sync_collection_report(env: Env) -> None:
    res = [resource(i) for i in range(50)]
    first = env.publish(res)
    assert first.counts() == {"create": 50}
    # the listing; after the writes one more REPORT takes the new token: what changed since
    # the first one is exactly what we wrote (listing.confirm)
    assert env.proxy.counts == {"REPORT": 2, "MKCALENDAR": 1, "PUT": 50}
    assert requests(env)[0] == ("REPORT", "sync-collection") and sync_tokens_sent(env) == ["", ""]
    state = env.store.sync_state.get_collection_state(env.url)
    assert state.sync_token and state.listing == listing_of(env)

    for _ in range(2):  # from the token: an empty delta, and exactly one request
        env.proxy.reset_counts()
        again = env.publish(res)
        assert again.counts() == {"unchanged": 50} and again.requests == 1
        assert requests(env) == [("REPORT", "sync-collection")]
        assert sync_tokens_sent(env) == [state.sync_token]
        now = env.store.sync_state.get_collection_state(env.url)
        assert (now.sync_token, now.listing) == (state.sync_token, state.listing)

    res[7] = resource(7, "改期")
    env.proxy.reset_counts()
    changed = env.publish(res)
    assert changed.counts() == {"unchanged": 49, "update": 1}
    assert env.proxy.counts == {"REPORT": 2, "PUT": 1}
    assert sync_tokens_sent(env) == [state.sync_token, state.sync_token]
    saved = env.store.sync_state.get_collection_state(env.url)
    assert saved.sync_token != state.sync_token  # the token after our write, confirmed
    assert saved.listing == listing_of(env)  # ... and the listing with our write folded in
    env.proxy.reset_counts()
    after = env.publish(res)  # an empty delta: our write is not re-reported
    assert after.counts() == {"unchanged": 50}
    assert requests(env) == [("REPORT", "sync-collection")]
    assert sync_tokens_sent(env) == [saved.sync_token]
    assert_converged(env, res)


def test_an_edit_while_we_write_keeps_the_old_token(env: Env,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The confirming REPORT sees an app's edit besides our write: the token read before the
    writes is kept, so the next run reads the edit and reports it as a conflict."""
    res = [resource(i) for i in range(4)]
    settled(env, res)
    before = env.store.sync_state.get_collection_state(env.url).sync_token
    real = CollectionListing.confirm

    def edit_then_confirm(self: CollectionListing) -> bool:  # the fault: an edit in between
        env.app_edit(res[0].uid, summary="日历里改的")
        return real(self)

    monkeypatch.setattr(CollectionListing, "confirm", edit_then_confirm)
    res[2] = resource(2, "改期")
    changed = env.publish(res, settle=True)
    assert changed.counts() == {"unchanged": 3, "update": 1}
    assert changed.collections[0].settled is None  # not known to be a no-op next time
    assert env.store.sync_state.get_collection_state(env.url).sync_token == before
    monkeypatch.setattr(CollectionListing, "confirm", real)
    again = env.publish(res)
    assert again.counts() == {"conflict": 1, "unchanged": 3}
    assert [c.uid for c in env.store.conflicts.open_conflicts()] == [res[0].uid]


def test_foreign_event_arrives_through_the_delta_and_is_untouched(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    settled(env, res)
    token = env.store.sync_state.get_collection_state(env.url).sync_token
    env.put_raw("foreign.ics", event(40, "别人的会", org=None, uid="foreign-1@example.org"))
    before = env.items()
    result = env.publish(res)
    assert result.counts() == {"foreign": 1, "unchanged": 3}
    # the delta, and one multiget of the new object: kept for clash checks (read only)
    assert env.proxy.counts == {"REPORT": 2} and sync_tokens_sent(env) == [token]
    assert env.items() == before
    kept = env.store.busy.busy_objects(env.url)
    assert [h for _, h in kept] == [h for h in env.items() if h.endswith("/foreign.ics")]
    listing = env.store.sync_state.get_collection_state(env.url).listing
    assert any(h.endswith("/foreign.ics") for h in listing) and listing == listing_of(env)
    env.proxy.reset_counts()
    assert env.publish(res).counts() == {"foreign": 1, "unchanged": 3}
    assert env.proxy.counts == {"REPORT": 1}  # known from the stored listing, not re-read


def test_app_edit_arrives_through_the_delta_as_a_conflict(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    settled(env, res)
    token = env.store.sync_state.get_collection_state(env.url).sync_token
    env.app_edit(res[1].uid, summary="日历里改的")
    edited = env.by_uid()[res[1].uid]
    env.proxy.reset_counts()
    result = env.publish(res)
    assert result.counts() == {"conflict": 1, "unchanged": 2}
    assert requests(env) == [("REPORT", "sync-collection"), ("REPORT", "calendar-multiget")]
    assert sync_tokens_sent(env) == [token]
    (conflict,) = env.store.conflicts.open_conflicts(ORG)
    assert (conflict.uid, conflict.kind) == (res[1].uid, "edited")
    assert env.by_uid()[res[1].uid] == edited
    again = env.publish(res)  # the edit is in the stored listing now, still a conflict
    assert again.counts() == {"conflict": 1, "unchanged": 2}
    assert env.by_uid()[res[1].uid] == edited


def test_app_delete_arrives_through_the_delta_as_a_conflict(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    settled(env, res)
    env.app_delete(res[2].uid)
    env.proxy.reset_counts()
    result = env.publish(res)
    assert result.counts() == {"conflict": 1, "unchanged": 2}
    assert requests(env) == [("REPORT", "sync-collection")]
    (conflict,) = env.store.conflicts.open_conflicts()
    assert (conflict.uid, conflict.kind) == (res[2].uid, "deleted")
    assert res[2].uid not in env.by_uid()
    assert env.store.sync_state.get_collection_state(env.url).listing == listing_of(env)


def test_invalid_stored_token_falls_back_to_propfind(env: Env) -> None:
    res = [resource(i) for i in range(4)]
    settled(env, res)
    state = env.store.sync_state.get_collection_state(env.url)
    env.store.sync_state.save_collection_state(env.url, BAD_TOKEN, state.listing)
    env.app_edit(res[0].uid, summary="日历里改的")
    env.app_delete(res[3].uid)
    env.put_raw("foreign.ics", event(41, "别人的", org=None, uid="foreign-2@example.org"))
    res[1] = resource(1, "改期")
    env.proxy.reset_counts()
    result = env.publish(res)
    assert result.ok, result.errors
    assert result.counts() == {"conflict": 2, "foreign": 1, "unchanged": 1, "update": 1}
    status = quirks_for(env.server.kind).invalid_sync_token_status
    assert [(m, s) for m, _, s in env.proxy.log][:2] == [("REPORT", status), ("PROPFIND", 207)]
    assert sync_tokens_sent(env)[0] == BAD_TOKEN  # then the PROPFIND's token confirms the PUT
    kinds = {c.uid: c.kind for c in env.store.conflicts.open_conflicts()}
    assert kinds == {res[0].uid: "edited", res[3].uid: "deleted"}
    fresh = env.store.sync_state.get_collection_state(env.url)
    assert fresh.sync_token not in (None, BAD_TOKEN) and fresh.listing == listing_of(env)
    env.proxy.reset_counts()
    assert env.publish(res).counts() == {"conflict": 2, "foreign": 1, "unchanged": 2}
    # back on the token; the open conflict's copy is not read again (it waits for resolve)
    assert requests(env) == [("REPORT", "sync-collection")]


def test_failed_run_keeps_the_old_token_and_the_next_run_converges(env: Env) -> None:
    res = [resource(i) for i in range(4)]
    settled(env, res)
    before = env.store.sync_state.get_collection_state(env.url)
    res = [resource(i, "改") for i in range(4)]
    env.proxy.inject("drop_after", n=1, methods=["PUT"])  # lands, but the answer is lost
    failed = env.publish(res)
    assert not failed.ok
    assert env.store.sync_state.get_collection_state(env.url) == before  # nothing saved
    again = env.publish(res)
    assert again.ok, again.errors
    assert_converged(env, res)
    assert env.store.sync_state.get_collection_state(env.url).listing == listing_of(env)
    env.proxy.reset_counts()
    assert env.publish(res).counts() == {"unchanged": 4}
    assert requests(env) == [("REPORT", "sync-collection")]


def test_vanished_collection_forgets_its_token(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    settled(env, res)
    status, _, _ = env.server.request("DELETE", env.direct_url)
    assert status in (200, 204)
    gone = env.publish(res)
    assert isinstance(gone.errors[0], SafetyValveError)
    assert env.store.sync_state.get_collection_state(env.url) is None
    env.proxy.reset_counts()
    forced = env.publish(res, force=True)  # re-created; our events count as deleted in the app
    assert forced.counts() == {"conflict": 3}
    # a new collection, a new token history: its first token is taken right after MKCALENDAR
    assert sync_tokens_sent(env) == ["", ""]
    fresh = env.store.sync_state.get_collection_state(env.url)
    assert fresh.sync_token and fresh.listing == listing_of(env) == {}
    env.proxy.reset_counts()
    assert env.publish(res, force=True).counts() == {"conflict": 3}
    assert sync_tokens_sent(env) == [fresh.sync_token]


def test_servers_without_sync_tokens_are_read_by_propfind(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    target = replace(env.target(), server_kind="generic")  # the quirks say: no RFC 6578

    def run() -> Any:
        return publish(env.spec(res), env.store, target)

    assert run().counts() == {"create": 3}
    env.proxy.reset_counts()
    assert run().counts() == {"unchanged": 3}
    assert env.proxy.counts == {"PROPFIND": 1}
    assert env.store.sync_state.get_collection_state(env.url) is None
