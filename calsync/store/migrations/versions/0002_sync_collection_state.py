"""Per-collection RFC 6578 sync state: the last sync token and the full listing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sync_collection",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("collection_url", sa.Text, nullable=False),
        sa.Column("sync_token", sa.Text, nullable=True),
        # JSON object href -> etag for every member of the collection, foreign ones included
        sa.Column("listing", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_collection"),
        sa.UniqueConstraint("collection_url", name="uq_sync_collection_collection_url"),
    )


def downgrade() -> None:
    op.drop_table("sync_collection")
