"""The local Bot API's state: chats with their messages and the bot's events, files, the
update queue and who waits on it. :class:`ChatStore` is the base of ``LocalBotApi``."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from typing import Any

from bot.localapi.model import BotApiError, BotEvent, Chat, StoredFile, StoredMessage


class ChatStore:
    """Chats, messages, files and pending updates, and the waits on them."""

    def __init__(self, first_message_id: int = 1) -> None:
        self._chats: dict[int, Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._message_ids = itertools.count(first_message_id)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._closing = False
        self._interruptions = 0
        self._queries: dict[str, tuple[int, bool]] = {}  # id → (chat id, answered)
        # Long polls wait on this: new updates, interruptions and closing notify it. The bot's
        # events never do — users waiting for an answer wait on their own chat (``Chat.wake``).
        self._changed = asyncio.Condition()
        self._activity: asyncio.Event | None = None  # for ``changed()``: any chat, any update

    def _wake_any(self) -> None:
        if self._activity is not None:
            self._activity.set()
            self._activity = None

    async def _push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        self._wake_any()
        return update

    def _chat(self, chat_id: int, chat_type: str, name: str) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = Chat(chat_id, chat_type, name)
        return self._chats[chat_id]

    def _bot_chat(self, params: dict[str, Any]) -> Chat:
        try:
            chat_id = int(params.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError) as error:
            raise BotApiError("Bad Request: chat not found") from error
        chat = self._chats.get(chat_id)
        if chat is None:
            raise BotApiError("Bad Request: chat not found")
        if chat.blocked:
            raise BotApiError("Forbidden: bot was blocked by the user", 403)
        return chat

    def _message(self, params: dict[str, Any], missing: str) -> StoredMessage:
        chat = self._bot_chat(params)
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise BotApiError(f"Bad Request: {missing}")
        return message

    def _new_message(self, chat_id: int, sender: dict[str, Any], **fields: Any) -> StoredMessage:
        message = StoredMessage(
            chat_id=chat_id,
            message_id=next(self._message_ids),
            date=int(time.time()),
            sender=sender,
            **fields,
        )
        self._chat(chat_id, "private", "").messages[message.message_id] = message
        return message

    def _register_file(self, stored: StoredFile) -> None:
        self._files[stored.file_id] = stored
        self._paths[stored.path] = stored

    def new_file(self, content: bytes, filename: str | None, mime_type: str | None) -> StoredFile:
        kind = "documents" if filename else "photos"
        file_id = "F" + secrets.token_urlsafe(18)
        extension = (filename or "photo.jpg").rsplit(".", 1)[-1]
        stored = StoredFile(
            file_id=file_id,
            unique_id="U" + secrets.token_hex(8),
            content=content,
            path=f"{kind}/file_{len(self._files)}.{extension}",
            filename=filename,
            mime_type=mime_type,
        )
        self._register_file(stored)
        return stored

    async def _emit(self, event: BotEvent) -> None:
        self._record(event)

    def _record(self, event: BotEvent) -> None:
        """Append the bot's event to its chat and wake whoever waits for that chat (only them)."""
        chat = self._chat(event.chat_id, "private", "")
        chat.events.append(event)
        chat.wake()
        self._wake_any()
