"""The accounts' store side (SQLite and PostgreSQL): password changes bump the session
version, resets are temporary, and migration 0011 over existing users keeps them."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from calsync.store import Store, open_store
from calsync.store import db as store_db

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_password_changes_bump_the_session_version(store: Store) -> None:
    new = store.users.set_user("li", organization="guanliban", display_name="李明", role="staff",
                               actor="admin")
    assert (new.session_version, new.must_change_password) == (0, False)
    reset = store.users.set_password("li", "h1", "zhou", temporary=True)
    assert (reset.session_version, reset.must_change_password) == (1, True)
    own = store.users.set_password("li", "h2", "li")
    assert (own.session_version, own.must_change_password) == (2, False)
    # a directory update keeps both
    again = store.users.set_user("li", organization="guanliban", display_name="李明明",
                                 role="staff",
                                 actor="admin")
    assert (again.session_version, again.must_change_password) == (2, False)
    actions = [(e.actor, e.after) for e in reversed(store.audit.audit_log("user:li"))
               if e.action == "user.password"]
    assert actions == [("zhou", '{"temporary": true}'), ("li", None)]


def test_upgrade_to_0011_keeps_users(fresh_db_url: str) -> None:
    engine = store_db.create_db_engine(store_db.resolve_url(fresh_db_url))
    try:
        with engine.begin() as conn:
            command.upgrade(store_db.alembic_config(conn), "0008")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO app_user (username, organization, display_name, role, "
                "password_hash, created_at) VALUES ('li', 'guanliban', '李明', 'secretary', "
                "'h', :at)"), {"at": T0.replace(tzinfo=None)})
    finally:
        engine.dispose()
    with open_store(fresh_db_url) as store:
        user = store.users.get_user("li")
        assert user is not None and user.password_hash == "h"
        assert (user.session_version, user.must_change_password) == (0, False)
        assert store.login_throttle.throttle_state("user:li") is None
        with store.engine.begin() as conn:
            command.downgrade(store_db.alembic_config(conn), "0008")
        assert "login_throttle" not in set(inspect(store.engine).get_table_names())
        columns = {c["name"] for c in inspect(store.engine).get_columns("app_user")}
        assert "session_version" not in columns
    with open_store(fresh_db_url) as again:
        assert again.users.get_user("li").session_version == 0  # type: ignore[union-attr]
