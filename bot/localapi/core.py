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
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import telegram_html

CALLBACK_ANSWER_LIMIT = 200
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API
# Parameters that arrive JSON-encoded when the bot posts a form (as PTB does).
_JSON_FIELDS = frozenset(
    {"reply_markup", "commands", "allowed_updates", "link_preview_options", "scope", "entities",
     "caption_entities", "reply_parameters"}
)  # fmt: skip
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"})


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
class _Chat:
    id: int
    type: str
    first_name: str
    events: list[BotEvent] = field(default_factory=list)
    blocked: bool = False
    # This chat's messages by id, oldest first (ids only grow).
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    # Futures of the users waiting for the bot in this chat, released by its next event.
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            _release(waiter)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name
        else:
            data["title"] = self.first_name
        return data


class LocalBotApi:
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
        self.token = token
        self.bot_id = bot_id or int(token.split(":", 1)[0])
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._message_ids = itertools.count(first_message_id)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._closing = False
        self._interruptions = 0
        self._queries: dict[str, tuple[int, bool]] = {}  # id → (chat id, answered)
        # Long polls wait on this: new updates, interruptions and closing notify it. The bot's
        # events never do — users waiting for an answer wait on their own chat (``_Chat.wake``).
        self._changed = asyncio.Condition()
        self._activity: asyncio.Event | None = None  # for ``changed()``: any chat, any update
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
        params = _coerce(params)
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

    def _m_getme(self, params: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_logout(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        return True

    def _m_close(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        return True

    def _m_setmycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotApiError("Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise BotApiError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotApiError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[str(params.get("language_code", ""))] = commands
        return True

    def _m_getmycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return self.commands.get(str(params.get("language_code", "")), [])

    def _m_deletemycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self.commands.pop(str(params.get("language_code", "")), None)
        return True

    def _m_setwebhook(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise BotApiError("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_getupdates(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
                409,
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0)
        allowed = params.get("allowed_updates")
        if offset:
            confirmed = 0  # updates are kept in update_id order
            while confirmed < len(self._updates) and self._updates[confirmed]["update_id"] < offset:
                confirmed += 1
            del self._updates[:confirmed]

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if not allowed or any(kind in u for kind in allowed)][
                :limit
            ]

        async with self._changed:
            if not pending() and timeout and not self._closing:
                interruptions = self._interruptions
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(
                            lambda: (
                                bool(pending())
                                or self._closing
                                or self._interruptions != interruptions
                            )
                        ),
                        timeout,
                    )
            return pending()

    def _m_sendchataction(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        chat = self._bot_chat(params)
        self._record(BotEvent("action", chat.id, text=str(params.get("action"))))
        return True

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        chat = self._bot_chat(params)
        text = _display_text(params, "text")
        markup = _checked_markup(params.get("reply_markup"))
        message = self._new_message(chat.id, self.bot_user, text=text, reply_markup=markup)
        await self._emit(BotEvent("sent", chat.id, message))
        return message.to_json(chat.to_json())

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return await self._send_media(params, files, "photo")

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return await self._send_media(params, files, "document")

    async def _send_media(
        self, params: dict[str, Any], files: dict[str, StoredFile], kind: str
    ) -> Any:
        chat = self._bot_chat(params)
        stored = files.get(kind)
        if stored is None:
            reference = params.get(kind)
            if isinstance(reference, str) and reference in self._files:
                stored = self._files[reference]
            else:
                raise BotApiError(f"Bad Request: there is no {kind} in the request")
        if not stored.content:
            raise BotApiError("Bad Request: file must be non-empty")
        if kind == "photo" and len(stored.content) > 10 * 1024 * 1024:
            raise BotApiError("Bad Request: PHOTO_INVALID_DIMENSIONS")
        self._register_file(stored)
        caption = _display_text(params, "caption")
        markup = _checked_markup(params.get("reply_markup"))
        message = self._new_message(chat.id, self.bot_user, caption=caption, reply_markup=markup)
        setattr(message, kind, stored)
        await self._emit(BotEvent("sent", chat.id, message))
        return message.to_json(chat.to_json())

    async def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        message = self._message(params, "message to edit not found")
        if message.text is None:
            raise BotApiError("Bad Request: there is no text in the message to edit")
        if not message.from_bot:
            raise BotApiError("Bad Request: message can't be edited")
        text = _display_text(params, "text")
        markup = _checked_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise BotApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        message.text, message.reply_markup, message.edited = text, markup, True
        await self._emit(BotEvent("edited", message.chat_id, message))
        return message.to_json(self._chats[message.chat_id].to_json())

    async def _m_editmessagereplymarkup(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> Any:
        message = self._message(params, "message to edit not found")
        markup = _checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise BotApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup, message.edited = markup, True
        await self._emit(BotEvent("edited", message.chat_id, message))
        return message.to_json(self._chats[message.chat_id].to_json())

    async def _m_deletemessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        message = self._message(params, "message to delete not found")
        del self._chats[message.chat_id].messages[message.message_id]
        await self._emit(BotEvent("deleted", message.chat_id, message))
        return True

    async def _m_answercallbackquery(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or self._queries[query_id][1]:
            raise BotApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
            raise BotApiError("Bad Request: MESSAGE_TOO_LONG")
        chat_id = self._queries[query_id][0]
        self._queries[query_id] = (chat_id, True)
        await self._emit(BotEvent("answered", chat_id, text=str(text) if text else None))
        return True

    def _m_getfile(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise BotApiError("Bad Request: invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise BotApiError("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": stored.file_size,
            "file_path": stored.path,
        }

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

    # --- helpers ------------------------------------------------------------------------------
    def _chat(self, chat_id: int, chat_type: str, name: str) -> _Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = _Chat(chat_id, chat_type, name)
        return self._chats[chat_id]

    def _bot_chat(self, params: dict[str, Any]) -> _Chat:
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
            recheck = loop.call_later(min(remaining, 0.5), _release, waiter)
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


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _shown(event: BotEvent) -> str:
    if event.message is None or event.kind not in ("sent", "edited"):
        return event.text or ""
    return event.message.text or event.message.caption or ""


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Form-encoded parameters arrive as strings; give them their JSON types back."""
    coerced: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, str) and name in _JSON_FIELDS:
            try:
                value = json.loads(value)
            except json.JSONDecodeError as error:
                raise BotApiError(f"Bad Request: can't parse {name} JSON object") from error
        elif isinstance(value, str) and name in _INT_FIELDS:
            try:
                value = int(value)
            except ValueError:
                if name != "chat_id":
                    raise BotApiError(f"Bad Request: invalid {name}") from None
        elif isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        coerced[name] = value
    return coerced


def _display_text(params: dict[str, Any], name: str) -> str | None:
    """The ``text`` or ``caption`` parameter as the chat shows it, with Telegram's rules and errors
    (``bot.telegram_html.message_text``)."""
    raw = params.get(name)
    parse_mode = params.get("parse_mode")
    if raw not in (None, "") and parse_mode not in (None, "", "HTML"):
        raise BotApiError(f"Bad Request: unsupported parse_mode {parse_mode!r} in the local API")
    try:
        return telegram_html.message_text(
            None if raw is None else str(raw), html=parse_mode == "HTML", caption=name == "caption"
        )
    except telegram_html.Refused as refused:
        raise BotApiError(refused.description) from None


def _checked_markup(markup: Any) -> dict[str, Any] | None:
    if not markup:
        return None
    if not isinstance(markup, dict):
        raise BotApiError("Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards and removals are passed through
    if not isinstance(rows, list) or len(rows) > 100:
        raise BotApiError("Bad Request: REPLY_MARKUP_INVALID")
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise BotApiError("Bad Request: BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise BotApiError("Bad Request: BUTTON_DATA_INVALID")
            if data is None and not button.get("url"):
                raise BotApiError("Bad Request: BUTTON_TYPE_INVALID")
    return markup
