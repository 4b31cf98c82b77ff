"""publish/resolve against real Radicale and Xandikos, with SQLite and PostgreSQL stores.

Requests go through the fault proxy so they can be counted; a calendar app is simulated with
a separate ``caldav.DAVClient`` (its saves reformat objects, as real apps do).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from calsync.sync.client import CalDAVClient, Target
from calsync.sync.errors import (
    PreconditionFailedTwice,
    SafetyValveError,
    ServerError,
    UnknownConflict,
)
from calsync.sync.normalize import owned_org, semantic_key, uid_of
from calsync.sync.publish import (
    CollectionSpec,
    org_layout,
    per_person_layout,
    publish,
    resolve,
)
from tests.support.sync_env import ORG, XML, Env, assert_converged, event, resource

# -- tests -----------------------------------------------------------------------------------


def test_initial_publish_creates_and_noop_costs_one_request(env: Env) -> None:
    res = [resource(i) for i in range(6)]
    first = env.publish(res, settle=True)
    assert first.ok, first.errors
    assert first.counts() == {"create": 6}
    # the listing, and after the writes one more sync REPORT: the new token is taken when
    # what changed is exactly what we wrote (listing.confirm)
    assert env.proxy.counts == {"REPORT": 2, "MKCALENDAR": 1, "PUT": 6}
    assert first.collections[0].settled is not None  # the next run is known to be a no-op
    puts = [h for m, _, h in env.proxy.headers_log if m == "PUT"]
    assert all(h.get("if-none-match") == "*" and "if-match" not in h for h in puts)
    assert set(env.by_uid()) == {r.uid for r in res}
    assert_converged(env, res)
    _, _, props = env.server.request(
        "PROPFIND", env.direct_url,
        b'<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>', {"Depth": "0", **XML},
    )  # fmt: skip
    assert "管理办公室" in props.decode()
    _, _, tz = env.server.request(
        "PROPFIND", env.direct_url,
        b'<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><prop>'
        b"<C:calendar-timezone/></prop></propfind>", {"Depth": "0", **XML},
    )  # fmt: skip
    assert "Asia/Shanghai" in tz.decode()

    env.proxy.reset_counts()
    second = env.publish(res)
    assert second.counts() == {"unchanged": 6}
    assert env.proxy.counts == {"REPORT": 1}
    assert second.requests == 1


def test_one_change_is_one_conditional_put(env: Env) -> None:
    res = [resource(i) for i in range(4)]
    env.publish(res)
    before = env.items()
    res[2] = resource(2, "改期")
    env.proxy.reset_counts()
    result = env.publish(res)
    assert result.counts() == {"unchanged": 3, "update": 1}
    assert env.proxy.counts == {"REPORT": 2, "PUT": 1}  # listing, PUT, confirming REPORT
    (put,) = [h for m, _, h in env.proxy.headers_log if m == "PUT"]
    href = env.store.sync_state.get_resource(env.url, res[2].uid).href
    assert put["if-match"] == before[href][0]
    assert b"SEQUENCE:1" in env.by_uid()[res[2].uid]
    assert_converged(env, res)


def test_foreign_events_are_untouched(env: Env) -> None:
    env.publish([resource(0)])
    foreign = event(50, "别人的会", org=None, uid="foreign-1@example.org")
    other_org = event(51, "教育局的会", org="jiaoyuju", uid="m51@jiaoyuju.calsync")
    env.put_raw("foreign.ics", foreign)
    env.put_raw("m1.ics", other_org)  # sits exactly where calsync would put m1
    before = env.items()
    result = env.publish([resource(0), resource(1)])
    assert result.ok and result.counts()["foreign"] == 2
    after = env.items()
    for href in ("foreign.ics", "m1.ics"):
        full = next(h for h in before if h.endswith(href))
        assert after[full] == before[full]
    assert_converged(env, [resource(0), resource(1)])
    valve = env.publish([])  # removing everything trips the valve; foreign items stay anyway
    assert not valve.ok
    forced = env.publish([], force=True)
    assert forced.counts() == {"delete": 2, "foreign": 2}
    assert {h: v for h, v in env.items().items()} == {
        h: v for h, v in after.items() if h.endswith(("foreign.ics", "/m1.ics"))
    }


def test_app_edit_becomes_a_conflict_then_keep_policy_overwrites(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    env.publish(res)
    env.app_edit(res[1].uid, summary="日历里改的")
    edited = env.by_uid()[res[1].uid]
    result = env.publish(res)
    assert result.counts()["conflict"] == 1
    assert env.by_uid()[res[1].uid] == edited  # not overwritten
    (conflict,) = env.store.conflicts.open_conflicts(ORG)
    assert (conflict.uid, conflict.kind) == (res[1].uid, "edited")
    assert "日历里改的" in (conflict.server_ics or "")
    again = env.publish(res)
    assert again.counts() == {"conflict": 1, "unchanged": 2}
    assert env.by_uid()[res[1].uid] == edited

    resolve(env.store, conflict.id, "policy")
    assert env.store.conflicts.open_conflicts() == []
    after = env.publish(res)
    assert after.counts() == {"unchanged": 2, "update": 1}
    assert semantic_key(env.by_uid()[res[1].uid]) == semantic_key(res[1].ics)
    assert env.publish(res).counts() == {"unchanged": 3}


def test_keep_server_adopts_the_app_copy(env: Env) -> None:
    from datetime import UTC, datetime

    res = [resource(i) for i in range(3)]
    env.publish(res)
    env.app_edit(res[0].uid, dtstart=datetime(2025, 1, 6, 3, 0, tzinfo=UTC))
    moved = env.by_uid()[res[0].uid]
    env.publish(res)
    (conflict,) = env.store.conflicts.open_conflicts()
    outcome = resolve(env.store, conflict.id, "server", actor="tester")
    assert outcome.changes and {c.kind for c in outcome.changes} == {"moved"}
    assert outcome.changes[0].new_start == "2025-01-06T03:00:00+00:00"
    env.proxy.reset_counts()
    result = env.publish(res)
    assert result.counts() == {"unchanged": 3}
    assert env.proxy.counts == {"REPORT": 1}
    assert env.by_uid()[res[0].uid] == moved
    with pytest.raises(UnknownConflict, match="already resolved"):
        resolve(env.store, conflict.id, "policy")
    # a later policy change is published over the kept copy
    res[0] = resource(0, "新一年")
    assert env.publish(res).counts() == {"unchanged": 2, "update": 1}
    assert_converged(env, res)


def test_deletion_in_app_is_a_conflict(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    env.publish(res)
    env.app_delete(res[2].uid)
    result = env.publish(res)
    assert result.counts() == {"conflict": 1, "unchanged": 2}
    (conflict,) = env.store.conflicts.open_conflicts()
    assert conflict.kind == "deleted"
    assert res[2].uid not in env.by_uid()
    resolve(env.store, conflict.id, "server")
    assert env.publish(res).counts() == {"unchanged": 3}  # the deletion is kept
    assert res[2].uid not in env.by_uid()


def test_deletion_kept_by_policy_is_recreated(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    env.publish(res)
    env.app_delete(res[0].uid)
    env.publish(res)
    (conflict,) = env.store.conflicts.open_conflicts()
    resolve(env.store, conflict.id, "policy")
    assert env.publish(res).counts() == {"create": 1, "unchanged": 2}
    assert_converged(env, res)


def test_safety_valve(env: Env) -> None:
    res = [resource(i) for i in range(4)]
    env.publish(res)
    before = env.items()
    result = env.publish(res[:1])
    assert not result.ok and isinstance(result.errors[0], SafetyValveError)
    assert "--force" in (result.collections[0].error or "")
    assert env.items() == before
    with pytest.raises(SafetyValveError):
        result.raise_first_error()
    forced = env.publish(res[:1], force=True)
    assert forced.counts() == {"delete": 3, "unchanged": 1}
    assert set(env.by_uid()) == {res[0].uid}
    for uid in list(env.by_uid()):
        env.app_delete(uid)
    gone = env.publish(res[:1])
    assert isinstance(gone.errors[0], SafetyValveError) and "gone" in str(gone.errors[0])


def test_malformed_server_reply_is_reported_and_nothing_is_lost(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = [resource(i) for i in range(3)]
    env.publish(res)
    env.app_edit(res[1].uid, summary="日历里改的")
    env.put_raw("m9.ics", event(9, "别人的", org=None, uid="squatter@example.org"))
    real = CalDAVClient.multiget

    def garbled(self: CalDAVClient, url: str, hrefs: Any) -> Any:
        out = real(self, url, hrefs)
        return {
            h: type(i)(i.href, i.etag, None, b"BEGIN:VCALENDAR\r\n\x00junk") for h, i in out.items()
        }

    monkeypatch.setattr(CalDAVClient, "multiget", garbled)
    before = env.items()
    result = env.publish([*res, resource(9)])
    assert result.ok, result.errors
    counts = result.counts()
    assert counts["conflict"] == 1 and counts["unreadable"] == 1 and counts["create"] == 1
    assert any("not valid iCalendar" in w or "m9.ics" in w for w in result.collections[0].warnings)
    after = env.items()
    for href, item in before.items():
        assert after[href] == item  # nothing overwritten, nothing deleted
    (conflict,) = env.store.conflicts.open_conflicts()
    assert conflict.uid == res[1].uid
    new = [h for h in after if h not in before]
    assert len(new) == 1 and new[0].split("/")[-1].startswith("m9-")


def test_dry_run_writes_nothing(env: Env) -> None:
    result = env.publish([resource(0), resource(1)], dry_run=True)
    assert result.dry_run and result.counts() == {"create": 2}
    assert [a["kind"] for a in result.collections[0].actions] == ["create", "create"]
    assert env.proxy.counts == {"REPORT": 1}
    assert env.store.sync_state.get_resources(env.url) == {}


def test_progress_layouts_and_watched_calendars(env: Env) -> None:
    seen: list[tuple[int, int]] = []
    res = [resource(i) for i in range(3)]
    env.publish(res, progress=lambda e: seen.append((e.done, e.total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    layout = org_layout(res, {ORG: "管理办公室"})
    assert [(s.slug, s.display_name, len(s.resources)) for s in layout] == [(ORG, "管理办公室", 3)]
    people = per_person_layout({"zhang": res[:2], "li": res[2:]})
    assert [(s.slug, s.organizations) for s in people] == [("li", (ORG,)), ("zhang", (ORG,))]
    with CalDAVClient(env.target()) as client:
        env.proxy.reset_counts()
        bodies = client.read_watched(env.url)
    assert sorted(uid_of(b) for b in bodies) == sorted(r.uid for r in res)
    assert all(owned_org(b) == ORG for b in bodies)
    assert set(env.proxy.counts) <= {"PROPFIND", "REPORT"}  # read-only


def test_credentials_never_show_up(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    secret = "s3cr3t-Pa55"
    home = env.proxy.proxied(env.server.calendar_home_url)
    target = Target(home.replace("http://", f"http://calsync:{secret}@"), timeout=5)
    assert secret not in repr(target.__class__(home, "calsync", secret))
    result = publish(env.spec([resource(0)]), env.store, target)
    env.proxy.inject("status_500")
    failed = env.publish([resource(0), resource(1)])
    texts = [caplog.text, repr(result.to_json()), repr(failed.to_json())]
    texts += [str(e) for e in [*result.errors, *failed.errors]]
    assert failed.errors and "500" in str(failed.errors[0])
    for text in texts:
        assert secret not in text
    if env.server.username:  # Radicale wants a password, and this one is wrong
        assert "401" in str(result.errors[0])
    sent = [h.get("authorization", "") for _, _, h in env.proxy.headers_log]
    assert all(secret not in h for h in sent)  # the URL password was sent only as Basic auth


def test_412_rereads_and_replans_at_most_twice(env: Env) -> None:
    res = [resource(i) for i in range(3)]
    env.publish(res)
    res[0] = resource(0, "改期")
    env.proxy.inject("precondition_412", n=1, methods=["PUT"])
    env.proxy.reset_counts()
    once = env.publish(res)
    assert once.ok and once.counts() == {"unchanged": 2, "update": 1}
    assert env.proxy.counts == {"REPORT": 2, "PUT": 2, "GET": 1}
    assert_converged(env, res)

    res[1] = resource(1, "又改")
    env.proxy.inject("precondition_412", n=3, methods=["PUT"])
    stuck = env.publish(res)
    assert isinstance(stuck.errors[0], PreconditionFailedTwice)
    assert "412 twice" in str(stuck.errors[0]) and "m1.ics" in str(stuck.errors[0])
    assert env.proxy.counts["PUT"] == 2 + 3  # never a blind, unconditional overwrite
    assert all("if-match" in h for m, _, h in env.proxy.headers_log if m == "PUT")
    assert env.publish(res).counts() == {"unchanged": 2, "update": 1}
    assert_converged(env, res)


def test_missing_etag_after_put_is_fetched(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    real = CalDAVClient.put

    def no_etag(self: CalDAVClient, href: str, body: bytes, etag: str | None) -> Any:
        resp = real(self, href, body, etag)
        return type(resp)(resp.status, {k: v for k, v in resp.headers.items() if k != "etag"},
                          resp.body)  # fmt: skip

    monkeypatch.setattr(CalDAVClient, "put", no_etag)
    res = [resource(0), resource(1)]
    assert env.publish(res).counts() == {"create": 2}
    assert_converged(env, res)
    assert all(r.etag for r in env.store.sync_state.get_resources(env.url).values())
    env.proxy.reset_counts()
    assert env.publish(res).counts() == {"unchanged": 2}
    assert env.proxy.counts == {"REPORT": 1}


def test_server_error_stops_one_collection_and_the_next_run_converges(env: Env) -> None:
    other = env.proxy.proxied(env.server.new_calendar_url("other"))
    res = [resource(i) for i in range(4)]
    specs = [
        CollectionSpec("a", "甲", (ORG,), tuple(res), url=env.url),
        CollectionSpec("b", "乙", (ORG,), tuple(res[:2]), url=other),
    ]
    env.publish(res)
    env.proxy.inject("status_500", n=1, methods=["PUT"])
    res = [resource(i, "改") for i in range(4)]
    specs[0] = replace(specs[0], resources=tuple(res))
    result = publish(specs, env.store, env.target())
    first, second = result.collections
    assert isinstance(result.errors[0], ServerError) and len(result.errors) == 1
    assert "publish` again" in (first.error or "") and second.error is None
    assert second.counts == {"create": 2}
    again = publish(specs, env.store, env.target())
    assert again.ok and again.collections[0].counts == {"update": 4}
    assert_converged(env, res)
