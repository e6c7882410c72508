"""area outages declared by the provider's staff (issue 22, "Sem internet" self-help)

``area_outages``: one row per outage in a city (``neighbourhood`` NULL = the whole city), its
description, forecast, when and by whom (a display name) it was declared, and when it ended
(NULL = active).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_outages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("city", sa.String(length=128), nullable=False),
        sa.Column("neighbourhood", sa.String(length=128), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("forecast", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", bot.storage.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_area_outages_ended_at", "area_outages", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_area_outages_ended_at", table_name="area_outages")
    op.drop_table("area_outages")
