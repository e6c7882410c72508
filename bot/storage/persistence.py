"""PTB persistence in the bot's database (JSON rows, no pickle).

Only user_data, chat_data and conversation states are stored; everything put in them must be
JSON-serialisable (plain dicts, lists, strings, numbers). Tuples used as conversation keys are
stored as JSON lists and turned back into tuples on load.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.storage.db import PersistenceEntry, session_factory

USER = "user"
CHAT = "chat"
CONVERSATION = "conversation:"


class SqlPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(self, engine: AsyncEngine, update_interval: float = 5.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._sessions = session_factory(engine)
        self._dialect = engine.dialect.name

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
        return {int(key): data for key, data in (await self._load(USER)).items()}

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
    async def _save(self, kind: str, key: str, data: Any) -> None:
        # One upsert statement (not SELECT then INSERT/UPDATE): this runs for every chat that
        # changed since the last write, several times a minute on a busy bot.
        insert = pg_insert if self._dialect == "postgresql" else sqlite_insert
        statement = insert(PersistenceEntry).values(kind=kind, key=key, data=data)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "key"], set_={"data": statement.excluded.data}
        )
        async with self._sessions.begin() as session:
            await session.execute(statement)

    async def _drop(self, kind: str, key: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(PersistenceEntry).where(
                    PersistenceEntry.kind == kind, PersistenceEntry.key == key
                )
            )

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        kind, row_key = CONVERSATION + name, json.dumps(list(key))
        if new_state is None:
            await self._drop(kind, row_key)
        else:
            await self._save(kind, row_key, new_state)

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._save(USER, str(user_id), data)

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._save(CHAT, str(chat_id), data)

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop(CHAT, str(chat_id))

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop(USER, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None  # every update is written when it happens
