"""What the local Bot API checks in a request's parameters: their JSON types, the displayed text
(Telegram's HTML rules, from ``bot.telegram_html``) and inline keyboards."""

from __future__ import annotations

import json
from typing import Any

from bot import telegram_html
from bot.localapi.model import BotApiError

# Parameters that arrive JSON-encoded when the bot posts a form (as PTB does).
_JSON_FIELDS = frozenset(
    {"reply_markup", "commands", "allowed_updates", "link_preview_options", "scope", "entities",
     "caption_entities", "reply_parameters"}
)  # fmt: skip
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"})


def coerce(params: dict[str, Any]) -> dict[str, Any]:
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


def display_text(params: dict[str, Any], name: str) -> str | None:
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


def checked_markup(markup: Any) -> dict[str, Any] | None:
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
