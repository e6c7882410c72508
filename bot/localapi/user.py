"""A person chatting with the local Bot API's bot: sends, presses buttons, waits for answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.localapi.model import BotEvent, StoredMessage, release

if TYPE_CHECKING:
    from bot.localapi.core import LocalBotApi


class LocalUser:
    """A person chatting with the bot."""

    def __init__(self, api: LocalBotApi, user_id: int, first_name: str, chat_type: str) -> None:
        self.api = api
        self.id = user_id
        self.profile = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "pt-br",
        }
        self.chat = api._chat(user_id, chat_type, first_name)

    async def send(self, text: str) -> StoredMessage:
        entities = None
        if text.startswith("/"):
            command = text.split()[0]
            entities = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message = self.api._new_message(self.id, self.profile, text=text, entities=entities)
        await self.api._push_update("message", message.to_json(self.chat.to_json()))
        return message

    async def send_document(
        self, content: bytes, filename: str, mime_type: str, caption: str | None = None
    ) -> StoredMessage:
        stored = self.api.new_file(content, filename, mime_type)
        message = self.api._new_message(self.id, self.profile, document=stored, caption=caption)
        await self.api._push_update("message", message.to_json(self.chat.to_json()))
        return message

    async def send_photo(self, content: bytes, caption: str | None = None) -> StoredMessage:
        stored = self.api.new_file(content, None, "image/jpeg")
        message = self.api._new_message(self.id, self.profile, photo=stored, caption=caption)
        await self.api._push_update("message", message.to_json(self.chat.to_json()))
        return message

    async def press(self, message: StoredMessage, callback_data: str) -> str:
        """Press a button on ``message``; any data can be sent, as a forged client could."""
        query_id = secrets.token_hex(8)
        self.api._queries[query_id] = (self.id, False)
        payload = {
            "id": query_id,
            "from": self.profile,
            "chat_instance": f"ci-{self.id}",
            "data": callback_data,
            "message": message.to_json(self.chat.to_json()),
        }
        await self.api._push_update("callback_query", payload)
        return query_id

    async def tap(self, label_part: str) -> str:
        """Press the button whose label contains ``label_part`` on the newest message with it."""
        for message in reversed(self.api.messages(self.id)):
            for label, data in message.buttons:
                if label_part in label:
                    return await self.press(message, data)
        raise LookupError(f"no button with {label_part!r} on screen")

    def events_since(self, index: int) -> list[BotEvent]:
        return self.chat.events[index:]

    async def wait_until(
        self,
        predicate: Callable[[list[BotEvent]], bool],
        since: int = 0,
        within: float = 10.0,
    ) -> list[BotEvent]:
        """Wait until the bot's events in this chat (from ``since``) satisfy ``predicate``.

        Only this chat's events wake the waiter (and a recheck every half second, for predicates
        that look at more than the events)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            events = self.chat.events[since:]
            if predicate(events):
                return events
            remaining = deadline - loop.time()
            if remaining <= 0:
                shown = [(e.kind, e.message.text if e.message else e.text) for e in events]
                raise TimeoutError(f"the bot did not answer as expected; it did: {shown}")
            waiter: asyncio.Future[None] = loop.create_future()
            self.chat.waiters.append(waiter)
            recheck = loop.call_later(min(remaining, 0.5), release, waiter)
            try:
                await waiter
            finally:
                recheck.cancel()
                if waiter in self.chat.waiters:  # not woken by the chat: timer or cancelled
                    self.chat.waiters.remove(waiter)

    async def wait_for_text(self, part: str, since: int = 0, within: float = 10.0) -> str:
        """Wait until a sent or edited message containing ``part`` shows up; return its text."""

        def seen(events: list[BotEvent]) -> bool:
            return any(part in _shown(e) for e in events)

        events = await self.wait_until(seen, since, within)
        return next(_shown(e) for e in events if part in _shown(e))


def _shown(event: BotEvent) -> str:
    if event.message is None or event.kind not in ("sent", "edited"):
        return event.text or ""
    return event.message.text or event.message.caption or ""
