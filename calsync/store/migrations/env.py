"""Alembic environment for calsync.

Migrations only run through :func:`calsync.store.db.upgrade` (or ``python -m
calsync.store.migrate``), which hands us an open connection inside a transaction that already
holds the migration lock; there is no alembic.ini and no offline (SQL script) mode.
"""

from __future__ import annotations

from alembic import context

from calsync.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "calsync migrations need a live connection: run them with "
        "`python -m calsync.store.migrate upgrade` or calsync.store.open_store()"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
