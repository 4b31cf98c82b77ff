"""publish() records one sync_run row per organization and collection run."""

from __future__ import annotations

from typing import Any

import pytest

from calsync.ical.resources import Resource
from calsync.sync.apply import SyncState
from calsync.sync.client import Target, norm_href
from calsync.sync.publish import CollectionSpec, publish
from tests.support.sync_env import ORG, Env, event, resource


def runs(env: Env, org: str = ORG) -> list[Any]:
    return list(reversed(env.store.runs.recent_runs(org)))  # oldest first


def test_ok_dry_run_and_failed_runs_are_recorded(env: Env) -> None:
    res = [resource(0), resource(1)]
    env.publish(res, dry_run=True)
    env.publish(res)
    env.proxy.inject("status_500", n=1, methods=["REPORT"])
    failed = env.publish(res)
    assert not failed.ok
    dry, ok, bad = runs(env)
    path = norm_href(env.url)
    assert (dry.status, dry.counts, dry.message) == ("dry-run", {"create": 2}, path)
    assert (ok.status, ok.counts, ok.message) == ("ok", {"create": 2}, path)
    assert bad.status == "failed" and bad.counts == {}
    assert bad.message.startswith(f"{path}: ") and "500" in bad.message
    assert all(r.finished_at is not None and r.finished_at >= r.started_at for r in (dry, ok, bad))


def test_one_run_per_collection_and_organization(env: Env) -> None:
    other = env.proxy.proxied(env.server.new_calendar_url("runs"))
    theirs = Resource(
        "jiaoyuju", "j1", "j1@jiaoyuju.calsync", event(1, org="jiaoyuju", uid="j1@jiaoyuju.calsync")
    )
    specs = [
        CollectionSpec("a", "甲", (ORG,), (resource(0),), url=env.url),
        CollectionSpec("b", "乙", (ORG, "jiaoyuju"), (resource(1), theirs), url=other),
    ]
    result = publish(specs, env.store, env.target())
    assert result.ok, result.errors
    mine = runs(env)
    assert [(r.message, r.counts) for r in mine] == [
        (norm_href(env.url), {"create": 1}),
        (norm_href(other), {"create": 2}),
    ]
    (shared,) = runs(env, "jiaoyuju")
    assert (shared.status, shared.message, shared.counts) == (
        "ok",
        norm_href(other),
        mine[1].counts,
    )


def test_run_rows_never_hold_credentials(env: Env) -> None:
    user = env.server.username or "calsync"  # Xandikos has no auth and ignores them
    secret = env.server.password or "s3cr3t-Pa55"
    home = env.proxy.proxied(env.server.calendar_home_url)
    with_creds = home.replace("http://", f"http://{user}:{secret}@")
    slug = norm_href(env.url).rstrip("/").rsplit("/", 1)[1]
    spec = CollectionSpec(slug, "甲", (ORG,), (resource(0),))
    assert publish([spec], env.store, Target(with_creds, timeout=5)).ok
    env.proxy.inject("status_500", n=1, methods=["REPORT"])
    result = publish([spec], env.store, Target(with_creds, timeout=5))
    assert not result.ok and secret not in repr(result.to_json())
    ok, failed = runs(env)
    assert (ok.status, failed.status) == ("ok", "failed")
    assert all(secret not in r.message for r in (ok, failed)) and "500" in failed.message


def test_a_crash_closes_the_run_as_failed(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: SyncState, _s: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SyncState, "save", broken)
    monkeypatch.setattr(SyncState, "save_many", broken)  # the batched saves (issue 14)
    with pytest.raises(RuntimeError, match="disk full"):
        env.publish([resource(0)])
    (run,) = runs(env)
    assert run.status == "failed" and run.message.endswith("RuntimeError: disk full")
