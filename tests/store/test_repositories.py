"""The store's shape: one repository per aggregate, reached from Store as an attribute.

Store itself keeps only what is store-wide (the engine, its transactions, close); every method
of an aggregate lives on that aggregate's repository, under one name.
"""

from __future__ import annotations

import inspect

from calsync.store import Store

REPOSITORIES = {
    "acks": {"ack_clash", "clash_acks"},
    "adhoc": {"add_adhoc", "withdraw_adhoc", "get_adhoc", "adhoc_meetings", "add_sitting_in",
              "withdraw_sitting_in", "get_sitting_in", "sitting_in"},
    "agenda": {"submit_topic", "decide_topic", "topic", "topics", "order_agenda",
               "approve_agenda", "agendas", "approved_agendas"},
    "attendance": {"signin_sheet", "get_signin_sheet", "signin_sheet_by_token",
                   "renew_signin_code", "sign_in", "mark_attendance", "attendance_marks",
                   "organization_attendance"},
    "audit": {"record", "audit_log", "latest_audit_id"},
    "busy": {"busy_objects", "busy_etags", "busy_heads", "update_busy"},
    "conflicts": {"record_conflict", "get_conflict", "open_conflicts", "resolve_conflict"},
    "decisions": {"add_decision", "add_merge", "withdraw_decision", "active_decision",
                  "active_decisions", "decision_history"},
    "feeds": {"feed_token", "rotate_feed_token", "get_feed_token", "person_for_token",
              "feed_state"},
    "leave": {"add_leave", "get_leave", "leave_for_occurrence", "leave_notes", "decide_leave",
              "withdraw_leave"},
    "login_throttle": {"throttle_state", "throttle_states", "throttle_update",
                       "throttle_clear"},
    "minutes": {"get_minutes", "save_minutes", "add_action_item", "action_item",
                "action_items", "action_organizations", "report_progress", "action_notes"},
    "notices": {"latest_notices", "queue_notices", "claim_due", "mark_notice", "outbox",
                "last_notice", "record_reply", "notice_replies"},
    "requests": {"add_request", "get_request", "meeting_requests", "decide_request",
                 "withdraw_request"},
    "runs": {"start_run", "finish_run", "recent_runs"},
    "series_decisions": {"add_series_decision", "withdraw_series_decision",
                         "active_series_decisions"},
    "sync_state": {"get_resources", "collection_urls", "get_resource_heads", "get_resource",
                   "upsert_resource", "delete_resource", "save_resources",
                   "get_collection_state", "save_collection_state",
                   "forget_collection_state", "relocate_collection"},
    "users": {"set_user", "set_password", "end_sessions", "get_user", "list_users"},
}
# What is truly store-wide: the engine and its URL/dialect, closing it, the context manager.
STORE_WIDE = {"engine", "url", "dialect", "close"}


def _own_methods(cls: type) -> set[str]:
    """Public methods a repository class defines (not what the shared base gives every one)."""
    base = set(dir(cls.__mro__[-2]))  # the shared Repository base, just below object
    return {name for name, value in inspect.getmembers(cls)
            if not name.startswith("_") and callable(value) and name not in base}


def test_store_keeps_only_what_is_store_wide(store: Store) -> None:
    own = {name for name in dir(store) if not name.startswith("_")} - set(REPOSITORIES)
    assert own == STORE_WIDE
    methods = {name for name in own if callable(getattr(store, name))}
    assert len(methods) <= 1, methods


def test_each_aggregate_has_one_repository_with_its_methods(store: Store) -> None:
    seen: dict[str, str] = {}
    for repo, methods in REPOSITORIES.items():
        repository = getattr(store, repo)
        assert _own_methods(type(repository)) == methods, repo
        # every repository shares the store's engine and session factories
        assert repository.engine is store.engine
        for name in methods:
            assert name not in seen, f"{name} is on both {seen[name]} and {repo}"
            seen[name] = repo
    assert len(seen) == sum(len(m) for m in REPOSITORIES.values())


def test_no_flat_method_is_left_on_store(store: Store) -> None:
    flat = set().union(*REPOSITORIES.values())
    assert not flat & set(dir(store))
    assert not flat & set(dir(Store))


def test_repositories_write_through_one_engine(store: Store) -> None:
    store.users.set_user("li", organization="guanliban", display_name="李四", role="staff",
                        actor="test")
    store.audit.record("test", "probe", "user:li", after={"ok": True})
    assert store.users.get_user("li") is not None
    assert next(e.action for e in store.audit.audit_log("user:li")) == "probe"
    assert store.audit.latest_audit_id() >= 2
