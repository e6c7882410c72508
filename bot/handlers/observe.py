"""One log line and one metric per update, before anything else runs (handler group -4)."""

from __future__ import annotations

import logging

from telegram import Update

from bot import metrics
from bot.logs import chat_ref
from bot.services.context import BotContext

logger = logging.getLogger("bot.updates")


def kind_of(update: Update) -> str:
    if update.callback_query is not None:
        return "callback_query"
    if update.message is not None:
        message = update.message
        if message.text and message.text.startswith("/"):
            return "command"
        if message.text is not None:
            return "text"
        return "file" if message.document or message.photo else "other_message"
    return "other"


async def record_update(update: Update, context: BotContext) -> None:
    kind = kind_of(update)
    metrics.UPDATES.labels(kind).inc()
    chat = update.effective_chat
    logger.info("update %s %s chat=%s", update.update_id, kind, chat_ref(chat.id if chat else None))
