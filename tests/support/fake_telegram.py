"""An offline Bot API for tests: a PTB request object that records calls and answers like Telegram.

It enforces the constraints the bot must respect (HTML entities, text length, callback data size,
"message is not modified", unknown message ids, answering a query twice), so a test fails the
way production would.
"""

from __future__ import annotations

import html
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot import telegram_html

BOT_ID = 7000000001
PARSE_ERROR = telegram_html.ERROR_PREFIX
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (cloud Bot API)


class TelegramRejection(Exception):
    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


def parse_html(text: str) -> str:
    """The plain text Telegram would display, or TelegramRejection like Telegram's (the rules are
    tdlib's, in ``bot.telegram_html``, shared with the composer and the local Bot API)."""
    try:
        return telegram_html.parse(text)
    except telegram_html.HtmlError as error:
        raise TelegramRejection(f"{PARSE_ERROR}{error}") from None


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    from_bot: bool


@dataclass
class StoredFile:
    """A file a user sent, as Telegram keeps it: ``file_size`` is what the updates report."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_size: int
    file_path: str


@dataclass
class SentFile:
    """A file the bot uploaded with sendPhoto/sendDocument."""

    chat_id: int
    method: str
    filename: str | None
    content: bytes | None  # None when sent by file_id / URL instead of uploaded
    mime_type: str | None
    caption: str


class FakeTelegram(BaseRequest):
    """Stands in for api.telegram.org inside the test process."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self._message_ids = itertools.count(1000)
        self._answered: set[str] = set()
        self.fail_methods: dict[str, TelegramRejection] = {}
        # Files users sent (register_file), what the bot downloaded and uploaded.
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, str] = {}
        self._file_numbers = itertools.count(1)
        self.downloads: list[str] = []  # file ids, in download order
        self.broken_downloads: set[str] = set()  # file ids whose download fails (502)
        self.sent_files: list[SentFile] = []

    # --- BaseRequest ----------------------------------------------------------------------
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # {base_file_url}{token}/{file_path}: a download, not a method
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        has_files = request_data is not None and request_data.contains_files
        files = dict(request_data.multipart_data) if request_data and has_files else {}
        self.calls.append(Call(api_method, params, files))
        try:
            if api_method in self.fail_methods:
                raise self.fail_methods[api_method]
            result = self._dispatch(api_method, params, files)
        except TelegramRejection as rejection:
            body = {"ok": False, "error_code": rejection.code, "description": rejection.description}
            return rejection.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # --- the API --------------------------------------------------------------------------
    def _dispatch(self, method: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise TelegramRejection(f"Not Found: method {method} not found in the fake", 404)
        if method in ("sendPhoto", "sendDocument"):
            return handler(params, files)
        return handler(params)

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Minha Central",
            "username": "minha_central_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        return True

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = self._checked_text(params, "text")
        markup = self._checked_markup(params)
        return self._store(int(params["chat_id"]), text, markup, from_bot=True)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._existing(params, "message to edit not found")
        text = self._checked_text(params, "text")
        markup = self._checked_markup(params)
        if text == stored.text and markup == stored.reply_markup:
            raise TelegramRejection(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        stored.text, stored.reply_markup = text, markup
        return self._as_json(stored)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._existing(params, "message to edit not found")
        markup = self._checked_markup(params)
        if markup == stored.reply_markup:
            raise TelegramRejection("Bad Request: message is not modified")
        stored.reply_markup = markup
        return self._as_json(stored)

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        stored = self._existing(params, "message to delete not found")
        del self.messages[(stored.chat_id, stored.message_id)]
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self._answered:
            raise TelegramRejection(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self._answered.add(query_id)
        if len(str(params.get("text", ""))) > 200:
            raise TelegramRejection("Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_sendDocument(
        self, params: dict[str, Any], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._send_file(params, "document", files or {})

    def _api_sendPhoto(
        self, params: dict[str, Any], files: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._send_file(params, "photo", files or {})

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise TelegramRejection("Bad Request: invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise TelegramRejection("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _download(self, url: str) -> tuple[int, bytes]:
        """``GET {base_file_url}{token}/{file_path}``: the bytes, like Telegram's file server."""
        after_token = url.split("/file/bot", 1)[1].split("/", 1)
        file_path = urllib.parse.unquote(after_token[1]) if len(after_token) == 2 else ""
        file_id = self._files_by_path.get(file_path)
        if file_id is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            return 404, json.dumps(body).encode()
        if file_id in self.broken_downloads:
            body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            return 502, json.dumps(body).encode()
        self.downloads.append(file_id)
        return 200, self.files[file_id].content

    def _send_file(
        self, params: dict[str, Any], kind: str, files: dict[str, Any]
    ) -> dict[str, Any]:
        caption = self._checked_text(params, "caption")
        markup = self._checked_markup(params)
        upload = files.get(kind)
        if upload is None and files:  # attached under another field name (attach://…)
            upload = next(iter(files.values()))
        filename, content, mime_type = (None, None, None)
        if upload is not None:
            filename, raw, mime_type = upload
            content = raw if isinstance(raw, bytes) else raw.read()
            if kind == "photo" and len(content) > 10 * 1024 * 1024:
                raise TelegramRejection("Bad Request: PHOTO_SAVE_FILE_INVALID")
            if len(content) > 50 * 1024 * 1024:
                raise TelegramRejection("Request Entity Too Large", 413)
        elif not params.get(kind):
            raise TelegramRejection(f"Bad Request: there is no {kind} in the request")
        chat_id = int(params["chat_id"])
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        self.sent_files.append(SentFile(chat_id, method, filename, content, mime_type, caption))
        message = self._store(chat_id, caption, markup, from_bot=True)
        if kind == "photo":
            message["photo"] = [{"file_id": "p1", "file_unique_id": "up1", "width": 1, "height": 1}]
        else:
            message["document"] = {"file_id": "d1", "file_unique_id": "ud1"}
        return message

    # --- helpers --------------------------------------------------------------------------
    def _checked_text(self, params: dict[str, Any], name: str) -> str:
        """The text or caption as the chat shows it, by Telegram's rules (bot.telegram_html)."""
        raw = params.get(name)
        try:
            text = telegram_html.message_text(
                None if raw is None else str(raw),
                html=params.get("parse_mode") == "HTML",
                caption=name == "caption",
            )
        except telegram_html.Refused as refused:
            raise TelegramRejection(refused.description) from None
        return text or ""

    def _checked_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise TelegramRejection("Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise TelegramRejection("Bad Request: BUTTON_TEXT_EMPTY")
        return markup

    def _existing(self, params: dict[str, Any], missing: str) -> StoredMessage:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise TelegramRejection(f"Bad Request: {missing}")
        return self.messages[key]

    def _store(
        self, chat_id: int, text: str, markup: dict[str, Any] | None, from_bot: bool
    ) -> dict[str, Any]:
        stored = StoredMessage(chat_id, next(self._message_ids), text, markup, from_bot)
        self.messages[(chat_id, stored.message_id)] = stored
        return self._as_json(stored)

    def _as_json(self, stored: StoredMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": stored.message_id,
            "date": int(time.time()),
            "chat": {"id": stored.chat_id, "type": "private", "first_name": "Cliente"},
        }
        if stored.from_bot:
            message["from"] = {"id": BOT_ID, "is_bot": True, "first_name": "Minha Central"}
        if stored.text:
            message["text"] = stored.text
        if stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        return message

    def register_file(
        self, content: bytes, *, file_size: int | None = None, suffix: str = ""
    ) -> StoredFile:
        """A file a user is about to send; ``file_size`` overrides what updates report (to
        pretend a file is huge without allocating it)."""
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=f"BQACAgEAAx{number:06d}fake",
            file_unique_id=f"AgAD{number:06d}",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            file_path=f"documents/file_{number}{suffix}",
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored.file_id
        return stored

    def user_message(self, chat_id: int, text: str) -> int:
        """Register a message the user sent, so the bot can delete it like on Telegram."""
        stored = StoredMessage(chat_id, next(self._message_ids), html.escape(text), None, False)
        stored.text = text
        self.messages[(chat_id, stored.message_id)] = stored
        return stored.message_id

    def message_json(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self._as_json(self.messages[(chat_id, message_id)])
