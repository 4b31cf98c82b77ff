"""Minutes and decisions (纪要 / 议定事项, issue 12): minutes per occurrence, decisions with an
owner section and due date, and their progress notes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "minutes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=True),
        sa.Column("file_label", sa.String(300), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_minutes"),
        sa.UniqueConstraint("series_uid", "recurrence_id",
                            name="uq_minutes_series_uid_recurrence_id"),
    )
    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("meeting", sa.String(400), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("section", sa.String(200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_action_item"),
    )
    op.create_index("ix_action_item_occurrence", "action_item",
                    ["series_uid", "recurrence_id"])
    op.create_index("ix_action_item_organization", "action_item", ["organization"])
    op.create_table(
        "action_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_note"),
    )
    op.create_index("ix_action_note_item", "action_note", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_action_note_item", table_name="action_note")
    op.drop_table("action_note")
    op.drop_index("ix_action_item_organization", table_name="action_item")
    op.drop_index("ix_action_item_occurrence", table_name="action_item")
    op.drop_table("action_item")
    op.drop_table("minutes")
