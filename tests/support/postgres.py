"""A throwaway PostgreSQL database for the test run (the machine's server, used for real).

``MC_TEST_POSTGRES_URL`` names the server to use (default: the local one, as the current OS
user, database ``test``). When it cannot be reached, the PostgreSQL variants of the tests are
skipped with that reason; everything else still runs on SQLite.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

DEFAULT_ADMIN_URL = f"postgresql://{getpass.getuser()}@127.0.0.1:5432/test"


@dataclass
class ThrowawayDatabase:
    admin_url: str
    name: str

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the throwaway database."""
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{self.name}"

    @property
    def dsn(self) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    async def reset(self) -> None:
        """An empty schema for the next test."""
        connection = await asyncpg.connect(self.dsn)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()

    async def drop(self) -> None:
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await connection.close()


async def create_throwaway() -> ThrowawayDatabase | str:
    """The new database, or why PostgreSQL is not available."""
    admin_url = os.environ.get("MC_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    try:
        connection = await asyncpg.connect(admin_url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL not reachable at {admin_url} ({error!r}); PostgreSQL variants skipped"
    name = f"mc_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return ThrowawayDatabase(admin_url, name)


async def hold_write_lock(url: str, table: str) -> AsyncIterator[None]:
    """Another process holding the database's write lock (SQLite) or an exclusive lock on
    ``table`` (PostgreSQL) until the iterator is resumed (``await anext(lock)`` takes it,
    a second ``anext`` releases it)."""
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            await transaction.rollback()
            await connection.close()
