"""Accounts on the page: session versions, temporary passwords, login throttling.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        # bumped on every password change: sessions carrying an older number are ended
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))
        # a password a secretary set: its owner must replace it at the next login
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "login_throttle",
        # "user:<name>" or "addr:<client address>"
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("session_version")
