"""the satisfaction survey (issue 22, NPS)

``surveys``: one row per offer — a keyed hash of the subscriber (at most one offer in 30 days),
the chat, the trigger (``ticket``/``handoff``) and its reference, the team member of a hand-off,
when it may be sent (after quiet hours) and was sent, and the answer (score, comment).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_key", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("member", sa.String(length=64), nullable=True),
        sa.Column("offered_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("send_after", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_surveys_subscriber_key", "surveys", ["subscriber_key"])
    op.create_index("ix_surveys_send_after", "surveys", ["send_after"])


def downgrade() -> None:
    op.drop_index("ix_surveys_send_after", table_name="surveys")
    op.drop_index("ix_surveys_subscriber_key", table_name="surveys")
    op.drop_table("surveys")
