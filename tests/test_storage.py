"""The bot's database sessions on SQLite: reads run beside a write, writes take turns in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.storage.db import LoginFailure, create_engine, session_factory
from bot.storage.migrations import upgrade


async def test_a_read_is_not_held_up_by_a_write_in_progress(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    writing, release = asyncio.Event(), asyncio.Event()

    async def slow_write() -> None:
        async with sessions.begin() as session:
            session.add(LoginFailure(scope="chat:1", failed_at=_now()))
            await session.flush()
            writing.set()
            await release.wait()

    async def read() -> list[str]:
        async with sessions() as session:
            return list(await session.scalars(select(LoginFailure.scope)))

    writer = asyncio.create_task(slow_write())
    await writing.wait()
    try:
        assert await asyncio.wait_for(read(), 5) == []  # the write is not committed yet
    finally:
        release.set()
        await writer
    assert await read() == ["chat:1"]
    await engine.dispose()


async def test_writes_take_turns_first_come_first_served(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    order: list[int] = []

    async def write(n: int) -> None:
        async with sessions.begin() as session:
            order.append(n)
            session.add(LoginFailure(scope=f"chat:{n}", failed_at=_now()))

    await asyncio.gather(*(write(n) for n in range(20)))
    assert order == list(range(20))
    async with sessions() as session:
        assert len(list(await session.scalars(select(LoginFailure.scope)))) == 20
    await engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)
