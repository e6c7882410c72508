"""Alembic environment: runs on the connection handed over by bot.storage.migrations."""

from __future__ import annotations

from alembic import context

from bot.storage.db import Base
from bot.storage.tables import register_all

register_all()
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'minha-central db upgrade' (bot.storage.migrations)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
