"""login attempts reserved before the backend checks them; documents hashed with a key

A password check is now a row written before it reaches the backend (``pending`` while in
flight, ``attempt`` naming it), and ``login_scopes`` holds the row each reservation locks so
that reservations of one chat or document take turns across processes. Document scopes are now
HMAC-SHA256 with the server's key instead of a plain SHA-256: the rows written before cannot be
matched any more and are dropped. They only ever mattered for 30 minutes (a 15-minute window and
a 15-minute lock), so at worst a lock in progress during the upgrade ends early.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index("ix_login_failures_attempt", ["attempt"], unique=False)
    op.create_table(
        "login_scopes",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("touched_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade() -> None:
    op.drop_table("login_scopes")
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_attempt")
        batch_op.drop_column("pending")
        batch_op.drop_column("attempt")
