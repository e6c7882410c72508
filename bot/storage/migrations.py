"""The bot's schema, managed by Alembic (``minha-central db upgrade``).

Start-up refuses to run on a database whose schema is not the one this version expects. That
check reads ``alembic_version`` itself: importing Alembic (and Mako, Pygments…) at every start
would cost the running bot about 15 MB for one string comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPTS = Path(__file__).parent / "alembic"
# The newest migration in alembic/versions (tests/test_migrations.py checks it against Alembic).
HEAD_REVISION = "0008"


class SchemaOutOfDate(Exception):
    """The message says what to run."""


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision as Alembic finds it in the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync), revision))


async def ensure_current(engine: AsyncEngine) -> None:
    current = await current_revision(engine)
    if current != HEAD_REVISION:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"The database schema is {state}, but this version of Minha Central needs "
            f"revision {HEAD_REVISION}. Apply the migrations first: minha-central db upgrade"
        )
