"""Web: users, leave notes, meeting requests, clash acknowledgements, decision payload.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types: migrations must not change when models.py does.
TS = sa.DateTime(timezone=True)
ORG = sa.String(200)
ACTOR = sa.String(200)
PERSON = sa.String(200)
INSTANT = sa.String(64)
STATUS = sa.String(20)
OPEN_LEAVE = "status IN ('pending', 'approved')"


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("username", ACTOR, nullable=False),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", STATUS, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_app_user"),
    )
    op.create_index("ix_app_user_organization", "app_user", ["organization"])

    op.create_table(
        "leave_note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("series_uid", sa.Text, nullable=False),
        sa.Column("recurrence_id", INSTANT, nullable=False),
        sa.Column("person_id", PERSON, nullable=False),
        sa.Column("category", STATUS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("substitute_id", PERSON, nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("needs_director", sa.Boolean, nullable=False),
        sa.Column("chair_id", PERSON, nullable=True),
        sa.Column("director_id", PERSON, nullable=True),
        sa.Column("chair_status", STATUS, nullable=False),
        sa.Column("chair_by", ACTOR, nullable=True),
        sa.Column("chair_at", TS, nullable=True),
        sa.Column("director_status", STATUS, nullable=True),
        sa.Column("director_by", ACTOR, nullable=True),
        sa.Column("director_at", TS, nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("created_by", ACTOR, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_leave_note"),
    )
    op.create_index("ix_leave_note_organization", "leave_note", ["organization"])
    op.create_index(
        "uq_leave_note_open",
        "leave_note",
        ["series_uid", "recurrence_id", "person_id"],
        unique=True,
        postgresql_where=sa.text(OPEN_LEAVE),
        sqlite_where=sa.text(OPEN_LEAVE),
    )

    op.create_table(
        "meeting_request",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization", ORG, nullable=False),
        sa.Column("section_id", sa.String(200), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        # JSON list of person ids
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("start", INSTANT, nullable=False),
        sa.Column("end", INSTANT, nullable=False),
        sa.Column("room", sa.String(200), nullable=True),
        sa.Column("important", sa.Boolean, nullable=False),
        sa.Column("approver_id", PERSON, nullable=True),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("requested_by", ACTOR, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_by", ACTOR, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_request"),
    )
    op.create_index("ix_meeting_request_organization", "meeting_request", ["organization"])

    op.create_table(
        "clash_ack",
        sa.Column("clash_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
        sa.Column("acked_by", ACTOR, nullable=False),
        sa.Column("acked_at", TS, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("clash_id", name="pk_clash_ack"),
    )

    # A nullable column: a plain ALTER TABLE on both dialects, existing rows get NULL.
    op.add_column("decision", sa.Column("payload", sa.Text, nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place, which keeps the partial unique index intact.
    op.drop_column("decision", "payload")
    for table in ("clash_ack", "meeting_request", "leave_note", "app_user"):
        op.drop_table(table)
