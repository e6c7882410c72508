"""A recorder of the bot's Bot API calls for tests: a PTB request object over the local Bot API.

Telegram's rules — HTML entities, text and caption length, callback data size, "message is not
modified", unknown message ids, answering a query twice — are the local Bot API's
(:mod:`bot.localapi.core`, which takes Telegram's text rules from :mod:`bot.telegram_html`), so a
test fails the way production would and there is one Telegram emulator. This module only records
what the bot asked (``calls``), shows the chats' messages (``messages``), and lets a test inject
failures (``fail_methods``), register the files its users send and break their downloads.

Kept from the recorder's first days, for the tests' own updates: any chat id is a known private
chat, any callback query id may be answered once, and a photo or document sent by a file id the
local API never saw is accepted (the tests' broadcasts name made-up file ids).
"""

from __future__ import annotations

import inspect
import itertools
import json
import secrets
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot import telegram_html
from bot.localapi import core
from bot.localapi.core import BotApiError, LocalBotApi

BOT_ID = 7000000001
TOKEN = f"{BOT_ID}:recorder"  # the recorder answers whatever token the bot was built with
PARSE_ERROR = telegram_html.ERROR_PREFIX
DOWNLOAD_LIMIT = core.DOWNLOAD_LIMIT
_MEDIA = {"sendPhoto": "photo", "sendDocument": "document"}


class TelegramRejection(BotApiError):
    """An error answer (``description``, ``code``), e.g. one a test puts in ``fail_methods``."""


def parse_html(text: str) -> str:
    """The plain text Telegram would display (untrimmed), or TelegramRejection like Telegram's
    (the rules are tdlib's, in ``bot.telegram_html``)."""
    try:
        return telegram_html.html_to_text(text)
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
    """A message as the chat shows it: ``text`` is the text or the caption."""

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
    """A file the bot sent with sendPhoto/sendDocument."""

    chat_id: int
    method: str
    filename: str | None
    content: bytes | None  # None when sent by file_id / URL instead of uploaded
    mime_type: str | None
    caption: str


class _Messages(Mapping[tuple[int, int], StoredMessage]):
    """Every chat's messages by (chat id, message id), as the local API keeps them now."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api

    def __getitem__(self, key: tuple[int, int]) -> StoredMessage:
        message = self.api.message(*key)
        if message is None:
            raise KeyError(key)
        text = message.text if message.text is not None else message.caption
        return StoredMessage(
            message.chat_id, message.message_id, text or "", message.reply_markup, message.from_bot
        )

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([(m.chat_id, m.message_id) for m in self.api.all_messages()])

    def __len__(self) -> int:
        return len(self.api.all_messages())


class FakeTelegram(BaseRequest):
    """Stands in for api.telegram.org inside the test process, recording every call."""

    def __init__(self) -> None:
        self.api = LocalBotApi(
            TOKEN,
            first_name="Minha Central",
            username="minha_central_bot",
            record_calls=False,
            first_message_id=1000,
        )
        self.calls: list[Call] = []
        self.fail_methods: dict[str, BotApiError] = {}
        # Files users sent (register_file), what the bot downloaded and uploaded.
        self.files: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self.downloads: list[str] = []  # file ids, in download order
        self.broken_downloads: set[str] = set()  # file ids whose download fails (502)
        self.sent_files: list[SentFile] = []

    @property
    def messages(self) -> Mapping[tuple[int, int], StoredMessage]:
        return _Messages(self.api)

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
            hook = getattr(self, f"_api_{api_method}", None)  # a test may replace one method
            result = hook(params) if hook else self._forward(api_method, params, files)
            if inspect.isawaitable(result):
                result = await result
        except BotApiError as error:
            return error.code, json.dumps(error.envelope()).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._forward("sendMessage", params, {})

    async def _forward(self, method: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        """The local Bot API's answer to ``method``."""
        chat_id = _chat_id(params)
        if chat_id is not None:
            self.api.open_chat(chat_id, "Cliente")
        if method == "answerCallbackQuery":
            self.api.expect_query(str(params.get("callback_query_id", "")), chat_id or 0)
        kind = _MEDIA.get(method)
        uploads: dict[str, core.StoredFile] = {}
        sent: tuple[str | None, bytes | None, str | None] = (None, None, None)
        for name, value in files.items():
            filename, raw, mime_type = [*list(value), None][:3]
            content = raw if isinstance(raw, bytes) else raw.read()
            uploads[name] = self.api.new_file(content, filename, mime_type)
            sent = (filename, content, mime_type)
        if kind is not None:
            if kind not in uploads and uploads:  # attached under another field name (attach://…)
                uploads[kind] = next(iter(uploads.values()))
            reference = params.get(kind)
            made_up = isinstance(reference, str) and reference and not self.api.file(reference)
            if kind not in uploads and made_up:  # a file id the local API never saw, or a URL
                placeholder = core.StoredFile(
                    reference, "U" + secrets.token_hex(8), b"\0", reference
                )
                self.api.put_file(placeholder)
        result = await self.api.call(TOKEN, method, params, uploads)
        if kind is not None and chat_id is not None:
            filename, content, mime_type = sent
            caption = str(result.get("caption") or "")
            self.sent_files.append(SentFile(chat_id, method, filename, content, mime_type, caption))
        return result

    def _download(self, url: str) -> tuple[int, bytes]:
        """``GET {base_file_url}{token}/{file_path}``: the bytes, like Telegram's file server."""
        after_token = url.split("/file/bot", 1)[1].split("/", 1)
        file_path = urllib.parse.unquote(after_token[1]) if len(after_token) == 2 else ""
        try:
            stored = self.api.file_content(TOKEN, file_path)
        except BotApiError as error:
            return error.code, json.dumps(error.envelope()).encode()
        if stored.file_id in self.broken_downloads:
            body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
            return 502, json.dumps(body).encode()
        self.downloads.append(stored.file_id)
        return 200, stored.content

    # --- the tests' own updates -----------------------------------------------------------
    def register_file(
        self, content: bytes, *, file_size: int | None = None, suffix: str = ""
    ) -> StoredFile:
        """A file a user is about to send; ``file_size`` overrides what updates and getFile
        report (to pretend a file is huge without allocating it)."""
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=f"BQACAgEAAx{number:06d}fake",
            file_unique_id=f"AgAD{number:06d}",
            content=content,
            file_size=len(content) if file_size is None else file_size,
            file_path=f"documents/sent_{number}{suffix}",
        )
        self.api.put_file(
            core.StoredFile(
                stored.file_id, stored.file_unique_id, content, stored.file_path, size=file_size
            )
        )
        self.files[stored.file_id] = stored
        return stored

    def user_message(self, chat_id: int, text: str) -> int:
        """Register a message the user sent, so the bot can delete it like on Telegram."""
        self.api.open_chat(chat_id, "Cliente")
        sender = {"id": chat_id, "is_bot": False, "first_name": "Cliente"}
        return self.api.put_message(chat_id, sender, text=text or None).message_id

    def message_json(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return self.api.message_json(chat_id, message_id)


def _chat_id(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None
