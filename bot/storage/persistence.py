"""PTB persistence in the bot's database (JSON rows, no pickle).

Only chat_data and conversation states are stored (the bot keeps nothing in user_data or
bot_data); everything put in them must be JSON-serialisable (plain dicts, lists, strings,
numbers). Tuples used as conversation keys are stored as JSON lists and turned back into tuples
on load.

The secrets of a chat's login (the keys the application names, bot.services.sessions.SECRET_KEYS:
the backend session with its token and the CPF/CNPJ, the document typed at login) are stored
sealed with Fernet (bot.storage.encryption), ``{"fernet": "…"}``, and opened on load. A value
stored in clear, or sealed with a key that is no longer the first of ENCRYPTION_KEY, is written
again sealed with the first key at start-up; one that no key opens ends that login (the chat is
asked to log in again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.logs import chat_ref
from bot.storage.db import PersistenceEntry, session_factory
from bot.storage.encryption import SecretBox, Unreadable

logger = logging.getLogger(__name__)

CHAT = "chat"
CONVERSATION = "conversation:"
_DROP = object()  # pending deletion of a row


# A write the database refuses for a while (SQLite locked by another writer beyond its busy
# timeout, a PostgreSQL lock_timeout, a connection lost) is tried again, waiting longer each time,
# until it lands: PTB (22.8, Application.__update_persistence) forgets what it gave to a write
# that failed, so a dropped write would lose that chat's state for good.
RETRY_FIRST = 0.05  # seconds
RETRY_MAX = 5.0


def _lasting(error: Exception) -> bool:
    """Errors that the same write would meet again (a bug, not the database's state).

    asyncpg's errors other than constraint, syntax and access ones, a lock timeout included,
    reach SQLAlchemy as plain DBAPIError (sqlalchemy/dialects/postgresql/asyncpg.py,
    _asyncpg_error_translate), so those are retried too."""
    if isinstance(error, OSError | TimeoutError):
        return False
    if not isinstance(error, DBAPIError):
        return True  # e.g. a value JSON cannot encode (StatementError): no retry helps
    if error.connection_invalidated:
        return False
    return isinstance(error, IntegrityError | ProgrammingError | DataError | NotSupportedError)


async def _until_written(
    write: Callable[[], Awaitable[None]],
    entries: int,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    delay = RETRY_FIRST
    tries = 0
    while True:
        try:
            await write()
            if tries:
                logger.warning("saved %d entr(ies) of chat state after %d retries", entries, tries)
            return
        except Exception as error:
            if _lasting(error):
                raise
            tries += 1
            # Only the error's class: SQLAlchemy's message may quote the statement's parameters.
            reason = type(getattr(error, "orig", None) or error).__name__
            logger.warning(
                "could not save %d entr(ies) of chat state (%s); retry %d in %.2f s",
                entries,
                reason,
                tries,
                delay,
            )
            await sleep(delay)
            delay = min(delay * 2, RETRY_MAX)


class SqlPersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    def __init__(
        self,
        engine: AsyncEngine,
        update_interval: float = 5.0,
        box: SecretBox | None = None,
        secret_keys: frozenset[str] = frozenset(),
        forget_login: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        """``secret_keys``: the chat_data keys sealed with ``box``; ``forget_login`` ends the
        login of a chat whose secrets no key opens (the storage does not know what a login is)."""
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
        self._box = box  # None: secrets stored as they are (only tests build it so)
        self._secret_keys = secret_keys
        self._forget_login = forget_login

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
        loaded = {int(key): data for key, data in (await self._load(CHAT)).items()}
        if self._box is None:
            return loaded
        stale = [chat_id for chat_id, data in loaded.items() if self._open(chat_id, data)]
        # In clear, or sealed with an older key: sealed again now, in one batch.
        await asyncio.gather(*(self.update_chat_data(c, loaded[c]) for c in stale))
        if stale:
            logger.info("sealed the secrets of %d chat(s) again with the first key", len(stale))
        return loaded

    def _open(self, chat_id: int, data: dict[str, Any]) -> bool:
        """Open the sealed secrets of one chat's data in place; whether to write it again."""
        assert self._box is not None
        rewrite = False
        for name in self._secret_keys & data.keys():
            try:
                data[name], stale = self._box.open(data[name])
            except Unreadable:
                logger.warning(
                    "chat %s: its stored login opens with none of the ENCRYPTION_KEY keys; "
                    "that login is ended",
                    chat_ref(chat_id),
                )
                if self._forget_login is not None:
                    self._forget_login(data)
                else:
                    for key in self._secret_keys:
                        data.pop(key, None)
                return True
            rewrite = rewrite or stale
        return rewrite

    def _sealed(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._box is None or not self._secret_keys & data.keys():
            return data
        box = self._box
        return {
            name: box.seal(value) if name in self._secret_keys else value
            for name, value in data.items()
        }

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
        async with self._write_lock:
            await _until_written(lambda: self._save(upserts, drops), len(pending))

    async def _save(self, upserts: list[dict[str, Any]], drops: dict[str, list[str]]) -> None:
        async with self._sessions.begin() as session:
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
        await self._write(CHAT, str(chat_id), self._sealed(data))

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
