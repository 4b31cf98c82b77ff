"""Notices by e-mail (iMIP): the outbox of notice versions and the attendees' replies.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("uid", sa.String(400), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.Text(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try", TS, nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notice"),
        sa.UniqueConstraint("message_id", name="uq_notice_message_id"),
        sa.UniqueConstraint("uid", "recipient", "sequence",
                            name="uq_notice_uid_recipient_sequence"),
    )
    op.create_index("ix_notice_status_next_try", "notice", ["status", "next_try"])
    op.create_table(
        "notice_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("uid", sa.String(400), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("partstat", sa.String(32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("replied_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice_reply"),
        sa.UniqueConstraint("uid", "recipient", "recurrence_id",
                            name="uq_notice_reply_uid_recipient_recurrence_id"),
    )


def downgrade() -> None:
    op.drop_table("notice_reply")
    op.drop_index("ix_notice_status_next_try", table_name="notice")
    op.drop_table("notice")
