"""PTB persistence in the bot's database (JSON rows, no pickle).

Only chat_data and conversation states are stored (the bot keeps nothing in user_data or
bot_data); everything put in them must be JSON-serialisable (plain dicts, lists, strings,
numbers). Tuples used as conversation keys are stored as JSON lists and turned back into tuples
on load.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.storage.db import PersistenceEntry, session_factory

CHAT = "chat"
CONVERSATION = "conversation:"
_DROP = object()  # pending deletion of a row


class SqlPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(self, engine: AsyncEngine, update_interval: float = 5.0) -> None:
        super().__init__(
            # user_data=True though nothing is written: with False, PTB (22.8) never empties
            # its set of users to write, one entry more for every user ever seen.
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = session_factory(engine)
        self._dialect = engine.dialect.name
        self._pending: dict[tuple[str, str], Any] = {}  # (kind, key) → data or _DROP
        self._batch: asyncio.Future[None] | None = None
        self._write_lock = asyncio.Lock()  # batches are written one after the other, in order

    # --- reading (once, at start-up) -------------------------------------------------------
    async def _load(self, kind: str) -> dict[str, Any]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(PersistenceEntry.key, PersistenceEntry.data).where(
                    PersistenceEntry.kind == kind
                )
            )
            return {key: data for key, data in rows.all()}

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {int(key): data for key, data in (await self._load(CHAT)).items()}

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        stored = await self._load(CONVERSATION + name)
        return {tuple(json.loads(key)): state for key, state in stored.items()}

    # --- writing ---------------------------------------------------------------------------
    # PTB writes every changed chat, user and conversation of the last interval at once (one
    # call per key, gathered). They are collected and written in one transaction: with one
    # SQLite connection, a transaction per key kept the database from everyone else meanwhile.
    async def _write(self, kind: str, key: str, data: Any) -> None:
        self._pending[(kind, key)] = data
        if self._batch is None:
            self._batch = asyncio.ensure_future(self._write_batch())
        await asyncio.shield(self._batch)

    async def _write_batch(self) -> None:
        await asyncio.sleep(0)  # the other calls of this round join the batch meanwhile
        pending, self._pending, self._batch = self._pending, {}, None
        upserts = [
            {"kind": kind, "key": key, "data": data}
            for (kind, key), data in pending.items()
            if data is not _DROP
        ]
        drops: dict[str, list[str]] = {}
        for (kind, key), data in pending.items():
            if data is _DROP:
                drops.setdefault(kind, []).append(key)
        async with self._write_lock, self._sessions.begin() as session:
            if upserts:
                insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
                statement = insert(PersistenceEntry)
                statement = statement.on_conflict_do_update(
                    index_elements=["kind", "key"], set_={"data": statement.excluded.data}
                )
                await session.execute(statement, upserts)
            # One statement per kind, not per row: each statement is a round trip to the
            # database while every other query waits for the connection.
            for kind, keys in drops.items():
                await session.execute(
                    delete(PersistenceEntry).where(
                        PersistenceEntry.kind == kind, PersistenceEntry.key.in_(keys)
                    )
                )

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        row_key = json.dumps(list(key))
        await self._write(CONVERSATION + name, row_key, _DROP if new_state is None else new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        return None  # the bot keeps nothing in user_data

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._write(CHAT, str(chat_id), data)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._write(CHAT, str(chat_id), _DROP)

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        return None

    async def flush(self) -> None:
        if self._batch is not None:
            await asyncio.shield(self._batch)
        async with self._write_lock:
            pass  # a batch being written when flush was called is done now
