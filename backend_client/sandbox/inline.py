"""The sandbox's SQLite, run right on the event loop.

The sandbox keeps a small local file (or memory). Through aiosqlite every query went to a worker
thread and back four times (cursor, execute, fetch, close) and every transaction twice more:
about a millisecond of the bot's CPU per operation, for microseconds of SQLite work. Here a
synchronous session runs the queries inline, and :class:`InlineSession` gives it the awaitable
methods of ``AsyncSession`` that the sandbox uses, so its code reads the same on either.
A server database (PostgreSQL) keeps the asynchronous driver: its queries travel the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Result, ScalarResult
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

T = TypeVar("T")


class InlineSession:
    """A synchronous ``Session`` behind the part of ``AsyncSession``'s interface the sandbox
    uses; every call completes before it returns (nothing else runs meanwhile)."""

    __slots__ = ("sync",)

    def __init__(self, sync: Session) -> None:
        self.sync = sync

    async def execute(self, statement: Any, params: Any = None, **kwargs: Any) -> Result[Any]:
        return self.sync.execute(statement, params, **kwargs)

    async def scalar(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:
        return self.sync.scalar(statement, params, **kwargs)

    async def scalars(self, statement: Any, params: Any = None, **kwargs: Any) -> ScalarResult[Any]:
        return self.sync.scalars(statement, params, **kwargs)

    async def get(self, entity: type[T], ident: Any, **kwargs: Any) -> T | None:
        return self.sync.get(entity, ident, **kwargs)

    async def flush(self) -> None:
        self.sync.flush()

    def add(self, instance: object) -> None:
        self.sync.add(instance)

    def add_all(self, instances: Iterable[object]) -> None:
        self.sync.add_all(instances)


# What the sandbox's queries run on: inline for SQLite, AsyncSession for a server database.
Db = InlineSession | AsyncSession


def runs_inline(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sync_url(database_url: str) -> str:
    """``sqlite+aiosqlite:///x.db`` → ``sqlite:///x.db`` (the standard library's driver)."""
    return make_url(database_url).set(drivername="sqlite").render_as_string(hide_password=False)
