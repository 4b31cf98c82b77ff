"""Subscription feeds: per-person tokens and each feed's ETag / Last-Modified.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)
PERSON = sa.String(200)
ORG = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "feed_token",
        sa.Column("person_id", PERSON, nullable=False),
        sa.Column("organization", ORG, nullable=False),
        # the secret itself: the subscription page shows it again (see calsync/store/feeds.py)
        sa.Column("token", sa.String(128), nullable=False),
        # sha256 hex of the token: the lookup key
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("rotated_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("person_id", name="pk_feed_token"),
        sa.UniqueConstraint("token_hash", name="uq_feed_token_token_hash"),
    )

    op.create_table(
        "feed_state",
        sa.Column("feed_key", sa.String(400), nullable=False),
        sa.Column("etag", sa.String(128), nullable=False),
        sa.Column("last_modified", TS, nullable=False),
        sa.PrimaryKeyConstraint("feed_key", name="pk_feed_state"),
    )


def downgrade() -> None:
    op.drop_table("feed_state")
    op.drop_table("feed_token")
