"""The bot's schema comes from Alembic migrations, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from bot.storage.db import create_engine
from bot.storage.migrations import (
    HEAD_REVISION,
    SchemaOutOfDate,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)

pytestmark = pytest.mark.both_databases
TABLES = {"ptb_persistence", "login_failures", "email_outbox", "chat_links", "notifications"}


async def test_upgrade_from_empty_creates_every_table(bot_database_url: str) -> None:
    engine = create_engine(bot_database_url)
    try:
        with pytest.raises(SchemaOutOfDate, match="minha-central db upgrade"):
            await ensure_current(engine)
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
        await ensure_current(engine)
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert names >= TABLES | {"alembic_version"}
        await upgrade(engine)  # again: nothing to do, no error
    finally:
        await engine.dispose()


async def test_an_older_schema_is_refused_with_what_to_run(bot_database_url: str) -> None:
    engine = create_engine(bot_database_url)
    try:
        await upgrade(engine, "0001")
        if head_revision() != "0001":
            with pytest.raises(SchemaOutOfDate, match="at revision 0001"):
                await ensure_current(engine)
        await upgrade(engine)
        await ensure_current(engine)
    finally:
        await engine.dispose()


def test_the_start_up_check_knows_the_newest_migration() -> None:
    # Start-up compares the database with HEAD_REVISION without importing Alembic: a new
    # migration must move it, or every start would refuse the freshly upgraded database.
    assert head_revision() == HEAD_REVISION
