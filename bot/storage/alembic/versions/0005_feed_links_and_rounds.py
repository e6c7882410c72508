"""linked chats keep the feed's reference of their subscriber (sealed); polling rounds resumable

``chat_links.reference`` holds what the provider feed needs to ask the system about the linked
subscriber without their session (SGP: the CPF/CNPJ; IXC: the cliente id; http/sandbox: the
subscriber id), sealed with ``ENCRYPTION_KEY`` ({"fernet": token}); links made before this
revision have none and get it at their subscriber's next login. ``notification_rounds`` keeps the
position of the running polling round (its start, the question it is on and the feed's cursor),
so a restarted bot continues the round instead of asking the provider everything again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.JSON(), nullable=True))
    op.create_table(
        "notification_rounds",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("started_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("notification_rounds")
    with op.batch_alter_table("chat_links", schema=None) as batch_op:
        batch_op.drop_column("reference")
