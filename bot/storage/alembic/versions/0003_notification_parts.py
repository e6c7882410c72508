"""notifications remember how many of their messages reached the chat

A reminder is several messages (the text, the linha digitável, the PIX code); after a crash or a
refusal the missing ones are sent, never those already delivered.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("parts_sent")
