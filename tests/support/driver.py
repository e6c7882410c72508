"""Drive the Application like a Telegram user: send text, press buttons, read what the bot said."""

from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Update

from tests.support.fake_telegram import Call, FakeTelegram

_update_ids = itertools.count(1)
_query_ids = itertools.count(1)


class ChatDriver:
    def __init__(self, application: Any, api: FakeTelegram, user_id: int = 555001) -> None:
        self.application = application
        self.api = api
        self.user_id = user_id
        self.chat_type = "private"

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": "Ana", "language_code": "pt-br"}

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.user_id, "type": self.chat_type, "first_name": "Ana"}

    async def _process(self, data: dict[str, Any]) -> list[Call]:
        before = len(self.api.calls)
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)
        return self.api.calls[before:]

    async def send(self, text: str) -> list[Call]:
        """The user types ``text``; returns the Bot API calls the bot made in response."""
        message_id = self.api.user_message(self.user_id, text)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._process({"update_id": next(_update_ids), "message": message})

    def _message(self, text: str = "", **fields: Any) -> dict[str, Any]:
        """A message from the user (registered in the fake so the bot may delete it)."""
        message_id = self.api.user_message(self.user_id, text)
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    async def send_photo(
        self,
        content: bytes | None = None,
        caption: str | None = None,
        file_size: int | None = None,
        width: int = 1280,
        height: int = 960,
    ) -> list[Call]:
        """The user sends a photo (compressed by Telegram, so no file name; always JPEG).

        Without ``content`` the photo cannot be downloaded (enough for a flow expecting text).
        """
        if content is None:
            photo = [{"file_id": "ph1", "file_unique_id": "uph1", "width": 90, "height": 90}]
        else:
            thumb = self.api.register_file(content[:64], suffix=".jpg")
            full = self.api.register_file(content, file_size=file_size, suffix=".jpg")
            photo = [
                {
                    "file_id": thumb.file_id,
                    "file_unique_id": thumb.file_unique_id,
                    "file_size": thumb.file_size,
                    "width": 90,
                    "height": 90 * height // max(width, 1),
                },
                {
                    "file_id": full.file_id,
                    "file_unique_id": full.file_unique_id,
                    "file_size": full.file_size,
                    "width": width,
                    "height": height,
                },
            ]
        fields: dict[str, Any] = {"photo": photo}
        if caption is not None:
            fields["caption"] = caption
        message = self._message(**fields)
        return await self._process({"update_id": next(_update_ids), "message": message})

    async def send_document(
        self,
        content: bytes,
        filename: str | None,
        mime_type: str | None,
        caption: str | None = None,
        file_size: int | None = None,
    ) -> list[Call]:
        """The user sends a file "as document"; ``file_size`` overrides the reported size."""
        stored = self.api.register_file(content, file_size=file_size)
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if filename is not None:
            document["file_name"] = filename
        if mime_type is not None:
            document["mime_type"] = mime_type
        fields: dict[str, Any] = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        message = self._message(**fields)
        return await self._process({"update_id": next(_update_ids), "message": message})

    async def send_message_with(self, **fields: Any) -> list[Call]:
        """The user sends any other kind of message (``sticker={...}``, ``video={...}``…)."""
        message = self._message(**fields)
        return await self._process({"update_id": next(_update_ids), "message": message})

    async def press(self, data: str, message_id: int | None = None) -> list[Call]:
        """Press a button with callback ``data`` on ``message_id`` (default: the latest bot message
        that shows such a button; any data can be sent, like a forged client would)."""
        if message_id is None:
            message_id = self.message_with_button(data) or self.last_bot_message_id()
        query = {
            "id": str(next(_query_ids)),
            "from": self.user,
            "chat_instance": "ci-1",
            "data": data,
            "message": self.api.message_json(self.user_id, message_id),
        }
        return await self._process({"update_id": next(_update_ids), "callback_query": query})

    async def tap(self, label_part: str) -> list[Call]:
        """Press the button whose label contains ``label_part`` on the latest message showing it."""
        for key in sorted(self.api.messages, key=lambda k: k[1], reverse=True):
            stored = self.api.messages[key]
            if key[0] != self.user_id or not stored.reply_markup:
                continue
            for row in stored.reply_markup["inline_keyboard"]:
                for button in row:
                    if label_part in button["text"]:
                        return await self.press(button["callback_data"], key[1])
        raise AssertionError(f"no button with {label_part!r} on screen")

    # --- reading --------------------------------------------------------------------------
    def message_with_button(self, data: str) -> int | None:
        for key in sorted(self.api.messages, key=lambda k: k[1], reverse=True):
            if key[0] != self.user_id:
                continue
            markup = self.api.messages[key].reply_markup or {}
            for row in markup.get("inline_keyboard", []):
                if any(button.get("callback_data") == data for button in row):
                    return key[1]
        return None

    def last_bot_message_id(self) -> int:
        ids = [k[1] for k, m in self.api.messages.items() if m.from_bot and k[0] == self.user_id]
        if not ids:
            raise AssertionError("the bot has sent no message in this chat")
        return max(ids)

    def screen(self) -> str:
        """The text of the latest bot message as displayed (after edits)."""
        return self.api.messages[(self.user_id, self.last_bot_message_id())].text


def texts(calls: list[Call]) -> str:
    """Everything the bot showed in these calls, as displayed text, joined by blank lines."""
    from tests.support.fake_telegram import parse_html

    shown = []
    for call in calls:
        if call.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto"):
            raw = call.text
            shown.append(parse_html(raw) if call.params.get("parse_mode") == "HTML" else raw)
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            shown.append(str(call.params["text"]))
    return "\n\n".join(shown)


def methods(calls: list[Call]) -> list[str]:
    return [call.method for call in calls]
