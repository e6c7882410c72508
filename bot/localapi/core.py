"""A faithful local stand-in for Telegram's Bot API: its state and its rules, without transport.

``LocalBotApi`` keeps chats, messages, files and the update queue. The bot side calls
:meth:`LocalBotApi.call` (through the aiohttp server in ``server.py`` or an in-process request);
the user side (:class:`LocalUser`) sends text, commands, photos and documents, presses buttons and
waits for the bot's answers. It enforces the constraints production enforces — allowed HTML tags
and entities, text and caption length, callback data of 1–64 bytes, "message is not modified",
unknown message ids, answering a query twice, a wrong token — with Telegram's own error codes and
descriptions, so whatever would fail on Telegram fails here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from bot.localapi.forum import ForumMethods
from bot.localapi.methods import CALLBACK_ANSWER_LIMIT, DOWNLOAD_LIMIT, BotMethods
from bot.localapi.model import BotApiError, BotEvent, StoredFile, StoredMessage
from bot.localapi.params import coerce
from bot.localapi.user import LocalUser

__all__ = [
    "CALLBACK_ANSWER_LIMIT",
    "DOWNLOAD_LIMIT",
    "BotApiError",
    "BotEvent",
    "LocalBotApi",
    "LocalUser",
    "StoredFile",
    "StoredMessage",
]


class LocalBotApi(ForumMethods, BotMethods):
    """One bot's Bot API, shared by the bot (``call``) and its users (``user``)."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int | None = None,
        first_name: str = "Minha Central",
        username: str = "minha_central_bot",
        record_calls: bool = True,
        first_message_id: int = 1,
    ) -> None:
        super().__init__(first_message_id)
        self.token = token
        self.bot_id = bot_id or int(token.split(":", 1)[0])
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.commands: dict[str, list[dict[str, Any]]] = {}
        # setMyDescription / setMyShortDescription: (parameter, language_code) -> text.
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook_url = ""
        self._injected: list[tuple[Callable[[str], bool], BotApiError]] = []
        # Every call (method, parameters), for tests; a long benchmark turns it off.
        self.record_calls = record_calls
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def unconfirmed_updates(self) -> int:
        """Updates the bot has not confirmed yet (with a later getUpdates offset)."""
        return len(self._updates)

    async def interrupt_polls(self) -> None:
        """Answer the long polls waiting now (empty), as when a bot is being stopped."""
        async with self._changed:
            self._interruptions += 1
            self._changed.notify_all()

    async def close(self) -> None:
        """Release every long poll at once (a server going down), so bots stop promptly."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()

    # --- fault injection ------------------------------------------------------------------
    def inject_flood_wait(self, retry_after: int = 1, method: str | None = None) -> None:
        """The next call (of ``method``, or any) answers 429 Too Many Requests."""
        error = BotApiError(
            f"Too Many Requests: retry after {retry_after}", 429, {"retry_after": retry_after}
        )
        self._injected.append(((lambda m: method is None or m == method), error))

    # --- bot side ---------------------------------------------------------------------------
    async def call(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        files: dict[str, StoredFile] | None = None,
    ) -> Any:
        """Run a Bot API method; returns its ``result`` or raises BotApiError."""
        if token != self.token:
            raise BotApiError("Unauthorized", 401)
        params = coerce(params)
        if self.record_calls:
            self.calls.append((method, params))
        for index, (matches, error) in enumerate(self._injected):
            if matches(method):
                del self._injected[index]
                raise error
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            raise BotApiError("Not Found: method not found", 404)
        result = handler(params, files or {})
        if asyncio.iscoroutine(result):
            result = await result
        return result

    def file_content(self, token: str, path: str) -> StoredFile:
        if token != self.token:
            raise BotApiError("Unauthorized", 401)
        stored = self._paths.get(path)
        if stored is None:
            raise BotApiError("Not Found: file not found", 404)
        return stored

    # --- user side ----------------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "Ana", chat_type: str = "private") -> LocalUser:
        return LocalUser(self, user_id, first_name, chat_type)

    def chat_events(self, chat_id: int) -> list[BotEvent]:
        chat = self._chats.get(chat_id)
        return chat.events if chat else []

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        chat = self._chats.get(chat_id)
        return chat.messages.get(message_id) if chat else None

    def messages(self, chat_id: int) -> list[StoredMessage]:
        chat = self._chats.get(chat_id)
        return list(chat.messages.values()) if chat else []

    def all_messages(self) -> list[StoredMessage]:
        """Every chat's messages (a test recorder's view)."""
        return [message for chat in self._chats.values() for message in chat.messages.values()]

    def message_json(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A stored message as updates carry it (KeyError when there is none)."""
        message = self.message(chat_id, message_id)
        if message is None:
            raise KeyError((chat_id, message_id))
        return message.to_json(self._chats[chat_id].to_json())

    def put_message(self, chat_id: int, sender: dict[str, Any], **fields: Any) -> StoredMessage:
        """A message in ``chat_id`` (opened if new) without an update: for a test that builds the
        update itself and lets the bot act on the message (delete it, say)."""
        return self._new_message(chat_id, sender, **fields)

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def put_file(self, stored: StoredFile) -> None:
        """A file users sent, downloadable with getFile (for a test that builds the update)."""
        self._register_file(stored)

    def open_chat(self, chat_id: int, first_name: str = "") -> None:
        """Make ``chat_id`` known (a private chat), as a user starting the bot does."""
        self._chat(chat_id, "private", first_name)

    def expect_query(self, query_id: str, chat_id: int) -> None:
        """A callback query a test's own update carries: answerable once, like a pressed button."""
        self._queries.setdefault(query_id, (chat_id, False))

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sending to them answers 403."""
        self._chat(chat_id, "private", "").blocked = True

    async def changed(self, within: float) -> None:
        """Wait until the bot does something in any chat (or a user sends an update), for at
        most ``within`` seconds. To wait for one chat, use :meth:`LocalUser.wait_until`."""
        if self._activity is None:
            self._activity = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._activity.wait(), within)
