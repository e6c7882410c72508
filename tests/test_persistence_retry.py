"""A persistence write the database refuses for a while is retried until it lands (issue 17,
defect 7): a chat that logged in while the bot's database was locked is still logged in after a
restart, not left "waiting for the password"."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import event

from bot.storage import persistence
from tests.support.bot_env import PERSON, BotEnv
from tests.support.driver import texts as shown
from tests.support.postgres import hold_write_lock

pytestmark = pytest.mark.both_databases


async def _short_lock_waits(env: BotEnv) -> None:
    """The bot's connections give up on a lock after 0.1 s (instead of SQLite's 5 s busy
    timeout, or PostgreSQL's wait without end), so a locked database fails writes quickly."""

    def tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if env.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 100")
        else:
            cursor.execute("SET lock_timeout = 100")
        cursor.close()

    event.listen(env.engine.sync_engine, "connect", tune)
    await env.engine.dispose()  # the pooled connections are opened again, tuned


async def test_a_write_refused_while_the_database_is_locked_lands_later(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    chat = env.chat()
    await chat.send("/start")
    await chat.send(PERSON.document)
    await env.app.update_persistence()  # stored: waiting for the password
    await _short_lock_waits(env)
    calls = await chat.send(PERSON.password)
    if any(data == "link:later" for call in calls for _, data in call.buttons):
        await chat.press("link:later")

    caplog.set_level(logging.WARNING, logger="bot.storage.persistence")
    lock = hold_write_lock(env.settings.database_url, "ptb_persistence")
    await lock.__anext__()
    try:
        saving = asyncio.ensure_future(env.app.update_persistence())
        await asyncio.sleep(1.0)  # several writes refused meanwhile
        assert not saving.done()
    finally:
        await lock.aclose()
    await asyncio.wait_for(saving, 10)

    retries = [r.getMessage() for r in caplog.records if "could not save" in r.getMessage()]
    assert retries
    for message in retries:  # the reason is named, never the statement or its values
        assert PERSON.document not in message and "INSERT" not in message

    await env.launch()  # the process restarts
    calls = await env.chat().send("/menu")
    assert "olá, Maria" in shown(calls)


async def test_a_lasting_error_is_not_retried() -> None:
    tries = 0

    async def write() -> None:
        nonlocal tries
        tries += 1
        raise TypeError("Object of type set is not JSON serializable")

    with pytest.raises(TypeError):
        await persistence._until_written(write, 1)
    assert tries == 1


async def test_retries_wait_longer_each_time() -> None:
    waits: list[float] = []

    async def sleep(delay: float) -> None:
        waits.append(delay)

    failures = iter([OSError("connection refused")] * 10)

    async def write() -> None:
        error = next(failures, None)
        if error is not None:
            raise error

    await persistence._until_written(write, 1, sleep)
    assert len(waits) == 10
    assert waits == sorted(waits) and waits[-1] == persistence.RETRY_MAX
