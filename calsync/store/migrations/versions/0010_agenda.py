"""Topics and agenda (篇一 二.4, 三.4): sections' topics for one occurrence and the agenda
versions the organizer section orders and the chair approves.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agenda_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("section", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("presenter", sa.String(200), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=True),
        sa.Column("file_label", sa.String(300), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("late_note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agenda_topic"),
    )
    op.create_index("ix_agenda_topic_occurrence", "agenda_topic",
                    ["series_uid", "recurrence_id"])
    op.create_table(
        "agenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_agenda"),
    )
    op.create_index("ix_agenda_occurrence", "agenda", ["series_uid", "recurrence_id"])
    op.create_index("ix_agenda_organization", "agenda", ["organization"])


def downgrade() -> None:
    op.drop_index("ix_agenda_organization", table_name="agenda")
    op.drop_index("ix_agenda_occurrence", table_name="agenda")
    op.drop_table("agenda")
    op.drop_index("ix_agenda_topic_occurrence", table_name="agenda_topic")
    op.drop_table("agenda_topic")
