"""Ad-hoc meetings (篇一 二.2 "遇有重大事项可随时召开") and 列席 additions to one occurrence
(篇一 二.1), both generation inputs that survive regeneration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "adhoc_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("meeting_type", sa.String(200), nullable=False),
        sa.Column("section_id", sa.String(200), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("start", sa.String(64), nullable=False),
        sa.Column("end", sa.String(64), nullable=False),
        sa.Column("room", sa.String(200), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_adhoc_meeting"),
    )
    op.create_index("ix_adhoc_meeting_organization", "adhoc_meeting", ["organization"])
    op.create_table(
        "sitting_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.Text(), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("withdrawn_at", TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sitting_in"),
    )
    op.create_index("ix_sitting_in_organization", "sitting_in", ["organization"])


def downgrade() -> None:
    op.drop_index("ix_sitting_in_organization", table_name="sitting_in")
    op.drop_table("sitting_in")
    op.drop_index("ix_adhoc_meeting_organization", table_name="adhoc_meeting")
    op.drop_table("adhoc_meeting")
