"""The local Bot API's records: files, messages, the bot's events, chats, and its error answer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


class BotApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": code, "description": …}``."""

    def __init__(
        self, description: str, code: int = 400, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    content: bytes
    path: str
    filename: str | None = None
    mime_type: str | None = None
    # The size updates and getFile report when it is not len(content) (a test's "huge" file).
    size: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.content) if self.size is None else self.size


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    date: int
    sender: dict[str, Any]
    text: str | None = None
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    entities: list[dict[str, Any]] | None = None
    edited: bool = False
    # The forum topic the message belongs to (Message.message_thread_id, is_topic_message).
    message_thread_id: int | None = None

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every inline button, row by row."""
        markup = self.reply_markup or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]

    def to_json(self, chat: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": chat,
            "from": self.sender,
        }
        if self.message_thread_id is not None:
            message["message_thread_id"] = self.message_thread_id
            message["is_topic_message"] = True
        if self.text is not None:
            message["text"] = self.text
        if self.entities:
            message["entities"] = self.entities
        if self.caption:
            message["caption"] = self.caption
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.photo is not None:
            message["photo"] = [
                {
                    "file_id": self.photo.file_id,
                    "file_unique_id": self.photo.unique_id,
                    "width": 512,
                    "height": 512,
                    "file_size": self.photo.file_size,
                }
            ]
        if self.document is not None:
            document = {
                "file_id": self.document.file_id,
                "file_unique_id": self.document.unique_id,
                "file_size": self.document.file_size,
            }
            if self.document.filename:
                document["file_name"] = self.document.filename
            if self.document.mime_type:
                document["mime_type"] = self.document.mime_type
            message["document"] = document
        if self.edited:
            message["edit_date"] = int(time.time())
        return message


@dataclass
class BotEvent:
    """Something the bot did in a chat, in order: sent, edited, deleted, answered."""

    kind: str  # "sent" | "edited" | "deleted" | "answered" | "action"
    chat_id: int
    message: StoredMessage | None = None
    text: str | None = None  # callback answer text


@dataclass
class Chat:
    id: int
    type: str
    first_name: str
    events: list[BotEvent] = field(default_factory=list)
    blocked: bool = False
    # A supergroup with topics enabled (Chat.is_forum), see ``bot.localapi.forum``.
    is_forum: bool = False
    # This chat's messages by id, oldest first (ids only grow).
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    # Futures of the users waiting for the bot in this chat, released by its next event.
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            release(waiter)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name
        else:
            data["title"] = self.first_name
        if self.is_forum:
            data["is_forum"] = True
        return data


def release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
