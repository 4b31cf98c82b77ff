"""Sign-in (签到) and attendance (考勤), 篇二 四.1–2: one sign-in sheet per occurrence (QR
token and short code) and one attendance mark per person and occurrence.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the column type: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signin_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signin_sheet"),
        sa.UniqueConstraint("series_uid", "recurrence_id",
                            name="uq_signin_sheet_series_uid_recurrence_id"),
        sa.UniqueConstraint("token", name="uq_signin_sheet_token"),
    )
    op.create_index("ix_signin_sheet_organization", "signin_sheet", ["organization"])
    op.create_table(
        "attendance_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization", sa.String(200), nullable=False),
        sa.Column("series_uid", sa.String(400), nullable=False),
        sa.Column("recurrence_id", sa.String(64), nullable=False),
        sa.Column("person_key", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("signed_at", TS, nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attendance_mark"),
        sa.UniqueConstraint("series_uid", "recurrence_id", "person_key",
                            name="uq_attendance_mark_series_uid_recurrence_id_person_key"),
    )
    op.create_index("ix_attendance_mark_organization", "attendance_mark", ["organization"])


def downgrade() -> None:
    op.drop_index("ix_attendance_mark_organization", table_name="attendance_mark")
    op.drop_table("attendance_mark")
    op.drop_index("ix_signin_sheet_organization", table_name="signin_sheet")
    op.drop_table("signin_sheet")
