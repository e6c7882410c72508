"""Logging: plain text for people, one JSON object per line for log pipelines (LOG_FORMAT=json).

Nothing secret or personal reaches a log line, at any level (README, *Security*):

- our own log calls name chats by :func:`chat_ref` (a hash), never log what a user types, and
  mask documents (``mask_document``);
- :class:`Redactor`, a filter on every handler :func:`configure_logging` installs, rewrites each
  record before it is written: the bot token and the other secrets of the settings
  (:func:`protect`), anything shaped like a bot token, and every valid CPF/CNPJ (formatted or not)
  are masked, in the message and in the traceback; the records of other libraries keep only
  simple arguments (numbers, names, errors) and their long numbers (chat and user ids) are
  hashed. At DEBUG, python-telegram-bot 22 logs whole updates (``"Processing update %s"``,
  telegram/ext/_application.py), every Bot API call's parameters and answer (``"Calling Bot API
  endpoint `%s` with parameters `%s`"`` and ``"… finished with return value `%s`"``,
  telegram/_bot.py: a getUpdates answer holds what users typed, passwords included), the API URL
  with the token (``"Set Bot API URL: %s"``, telegram/_bot.py), conversation keys (chat and user
  ids, ``"Selecting conversation %s with state %s"``, telegram/ext/_handlers/
  conversationhandler.py) and, on an error, a payload it could not parse (telegram/request/
  _baserequest.py): their data arguments are withheld. SQLAlchemy logs result rows at DEBUG
  (``"Row %r"``, sqlalchemy/engine/cursor.py): withheld too; statement parameters are hidden by
  the engine itself (``hide_parameters``, bot/storage/db.py).
- the HTTP client libraries, whose request lines contain the bot token, are kept at WARNING.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from backend_client.formats.documents import mask_document, normalize_document

if TYPE_CHECKING:
    from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OWN_LOGGERS = ("bot", "backend_client", "tests")
WITHHELD = "(withheld)"
REDACTED = "(redacted)"

# A Bot API token: "123456789:AA…" (https://core.telegram.org/bots/api#authorizing-your-bot).
_BOT_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# A CPF or CNPJ (the 2026 alphanumeric one too), formatted or not; masked only when valid.
_DOCUMENT = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{3}\.?\d{3}\.?\d{3}-?\d{2}"
    r"|[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}/?[0-9A-Z]{4}-?\d{2})(?![0-9A-Za-z])"
)
# In other libraries' lines, numbers this long are chat/user ids (or their neighbours).
_LONG_NUMBER = re.compile(r"(?<![\w.#])-?\d{6,}(?![\w.])")
# A plain argument of another library's record: an endpoint, a URL, a state name…
_SIMPLE_TEXT = re.compile(r"[\w./:@-]{0,100}")

_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


def protect(settings: Settings) -> None:
    """Redact the settings' token and secrets from every log line from now on."""
    secret_values(
        [
            settings.telegram_bot_token,
            settings.backend_token,
            settings.webhook_secret,
            settings.admin_api_token,
            settings.smtp_password,
            settings.backend_events_secret,
            *settings.encryption_keys,
            _proxy_password(settings.telegram_proxy_url),
        ]
    )


def secret_values(values: Iterable[str | None]) -> None:
    """Add values that must never be logged (shorter than 6 characters: ignored)."""
    global _secret_pattern
    added = {value for value in values if value and len(value) >= 6} - _secrets
    if not added:
        return
    _secrets.update(added)
    _secrets.update(value.replace(":", "%3A") for value in added)  # as in a quoted URL
    ordered = sorted(_secrets, key=len, reverse=True)
    _secret_pattern = re.compile("|".join(re.escape(value) for value in ordered))


def _proxy_password(url: str | None) -> str | None:
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact(text: str, *, foreign: bool = False) -> str:
    """The text without secrets, tokens and documents (and, from other libraries, long
    numbers hashed)."""
    if _secret_pattern is not None:
        text = _secret_pattern.sub(REDACTED, text)
    text = _BOT_TOKEN.sub(REDACTED, text)
    text = _DOCUMENT.sub(_mask_if_document, text)
    if foreign:
        text = _LONG_NUMBER.sub(lambda match: "#" + _hash(match.group()), text)
    return text


def _mask_if_document(match: re.Match[str]) -> str:
    found = match.group()
    return mask_document(found) if normalize_document(found) is not None else found


def _simple(arg: Any) -> Any:
    if arg is None or isinstance(arg, bool | int | float):
        return arg
    if isinstance(arg, BaseException):
        return f"{type(arg).__name__}: {arg}"
    if isinstance(arg, str) and _SIMPLE_TEXT.fullmatch(arg):
        return arg
    return WITHHELD


class Redactor(logging.Filter):
    """Rewrites each record so that no secret or personal datum is written (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True  # several handlers: once is enough
        try:
            _redact_record(record)
        except Exception:  # never let a log line through unchecked, never break the caller
            record.msg, record.args = "(log line withheld: it could not be checked)", ()
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        record._redacted = True
        return True


def _redact_record(record: logging.LogRecord) -> None:
    foreign = not record.name.startswith(OWN_LOGGERS)
    if foreign and record.args:
        args = record.args
        if isinstance(args, dict):  # logging's one mapping argument: "%(name)s" or one "%s"
            named = "%(" in str(record.msg)
            record.args = {k: _simple(v) for k, v in args.items()} if named else (WITHHELD,)
        else:
            record.args = tuple(_simple(arg) for arg in args)
    record.msg = redact(record.getMessage(), foreign=foreign)
    record.args = ()
    # A Formatter writes the traceback from exc_text when it is set (logging.Formatter.format).
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, foreign=foreign)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, foreign=foreign)


REDACTOR = Redactor()


def install(handler: logging.Handler) -> None:
    if REDACTOR not in handler.filters:
        handler.addFilter(REDACTOR)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    install(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def chat_ref(chat_id: int | str | None) -> str:
    """A stable, non-reversible reference to a chat for logs."""
    if chat_id is None:
        return "-"
    return _hash(str(chat_id))


def _hash(value: str) -> str:
    return hashlib.sha256(f"minha-central:{value}".encode()).hexdigest()[:12]
