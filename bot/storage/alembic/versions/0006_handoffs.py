"""hand-offs to the provider's team (issue 22): their topics, hand-offs and messages in order

``support_topics`` keeps the forum topic of each subscriber's chat in the team's supergroup (the
next hand-off reuses it); ``handoffs`` one row per hand-off (queued → active → ended, who took
it, the ticket it was recorded in); ``handoff_messages`` what was said, in order (ids grow).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_topics",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("agent_name", sa.String(length=64), nullable=True),
        sa.Column("started_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=16), nullable=True),
        sa.Column("ticket_offered", sa.Boolean(), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoffs_chat_id", "handoffs", ["chat_id"])
    op.create_index("ix_handoffs_thread_id", "handoffs", ["thread_id"])
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_messages_handoff_id", "handoff_messages", ["handoff_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_messages_handoff_id", table_name="handoff_messages")
    op.drop_table("handoff_messages")
    op.drop_index("ix_handoffs_thread_id", table_name="handoffs")
    op.drop_index("ix_handoffs_chat_id", table_name="handoffs")
    op.drop_table("handoffs")
    op.drop_table("support_topics")
