"""Initial schema: sync state, conflicts, decisions, audit log, sync runs.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)
ORG = sa.String(200)
ACTOR = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "sync_resource",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("collection_url", sa.Text, nullable=False),
        sa.Column("uid", sa.Text, nullable=False),
        sa.Column("href", sa.Text, nullable=True),
        sa.Column("etag", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("written_ics", sa.Text, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_resource"),
        sa.UniqueConstraint("collection_url", "uid", name="uq_sync_resource_collection_url_uid"),
    )
    op.create_index("ix_sync_resource_organization", "sync_resource", ["organization"])

    op.create_table(
        "sync_conflict",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("collection_url", sa.Text, nullable=False),
        sa.Column("uid", sa.Text, nullable=False),
        sa.Column("href", sa.Text, nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("server_ics", sa.Text, nullable=True),
        sa.Column("server_etag", sa.Text, nullable=True),
        sa.Column("policy_ics", sa.Text, nullable=False),
        sa.Column("detected_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolution", sa.String(20), nullable=True),
        sa.Column("resolved_by", ACTOR, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_conflict"),
    )
    op.create_index("ix_sync_conflict_organization", "sync_conflict", ["organization"])
    op.create_index(
        "uq_sync_conflict_open",
        "sync_conflict",
        ["collection_url", "uid"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
        sqlite_where=sa.text("resolved_at IS NULL"),
    )

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("series_uid", sa.Text, nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("new_start", sa.String(64), nullable=True),
        sa.Column("new_end", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("superseded_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_decision"),
    )
    op.create_index("ix_decision_organization", "decision", ["organization"])
    op.create_index(
        "uq_decision_active",
        "decision",
        ["series_uid", "recurrence_id"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", ACTOR, nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_target", "audit", ["target"])

    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_run"),
    )
    op.create_index("ix_sync_run_organization", "sync_run", ["organization"])


def downgrade() -> None:
    for table in ("sync_run", "audit", "decision", "sync_conflict", "sync_resource"):
        op.drop_table(table)
