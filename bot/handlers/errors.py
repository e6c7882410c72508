"""The global error handler: an apology and a way forward, never a traceback, never silence."""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import NetworkError, TelegramError

from backend_client.errors import (
    NotFound,
    NotPermitted,
    NotSupported,
    Rejected,
    SessionExpired,
    Unavailable,
)
from bot.handlers import provider
from bot.services import sessions
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.formatting import esc
from bot.ui.screens import answer_query, send
from bot.ui.texts import provider as provider_texts

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if not isinstance(update, Update):
        # Errors outside an update (polling, jobs): nothing to tell anyone, just log.
        if isinstance(error, NetworkError):
            logger.warning("network error outside an update: %s", error)
        else:
            logger.error("error outside an update", exc_info=error)
        return

    if isinstance(error, SessionExpired):
        if context.chat_data is not None:
            sessions.end(context.chat_data)
        text, keyboard = texts.SESSION_EXPIRED, keyboards.login()
    elif isinstance(error, Unavailable):
        logger.warning("backend unavailable: %s", error)
        # The apology ends with the provider's support phone, when its file gives one.
        text = provider_texts.backend_unavailable(provider.current(context).provider)
        keyboard = provider.with_handoff(context, _way_forward(context))  # a person (issue 22)
    elif isinstance(error, Rejected):
        text, keyboard = f"⚠️ {esc(error.reason)}", _way_forward(context)
    elif isinstance(error, NotPermitted):
        # The admin learns what to grant (GuardedBackend warned once); nothing else is logged.
        logger.info("backend refused %s to the integration user", error.resource)
        text, keyboard = texts.NOT_SUPPORTED, _way_forward(context)
    elif isinstance(error, NotSupported):
        logger.info("backend does not support %s", error.operation)
        text, keyboard = texts.NOT_SUPPORTED, _way_forward(context)
    elif isinstance(error, NotFound):
        text, keyboard = texts.NOT_FOUND, _way_forward(context)
    else:
        logger.error("unhandled error for update %s", update.update_id, exc_info=error)
        text, keyboard = texts.UNEXPECTED_ERROR, _way_forward(context)

    await answer_query(update)
    with contextlib.suppress(TelegramError):
        await send(update, text, keyboard)


def _way_forward(context: BotContext) -> InlineKeyboardMarkup:
    return keyboards.back_to_menu() if context.session else keyboards.login()
