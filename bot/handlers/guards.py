"""Cross-cutting checks that run before the feature handlers (handler groups < 0)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from backend_client.errors import BackendError
from backend_client.features import Feature
from bot.services import sessions
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.screens import answer_query, send, show

logger = logging.getLogger(__name__)


async def private_chats_only(update: Update, context: BotContext) -> None:
    """Subscriber data must never show up in a group: answer commands there once, briefly."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        await message.reply_text(texts.PRIVATE_ONLY)
    await answer_query(update)
    raise ApplicationHandlerStop


async def expire_idle_session(update: Update, context: BotContext) -> None:
    """End a session idle longer than the timeout; otherwise record this interaction."""
    if context.chat_data is None:
        return
    found = context.services
    now = found.clock()
    if not sessions.is_idle(context.chat_data, now, found.settings.session_idle_timeout):
        sessions.touch(context.chat_data, now)
        query = update.callback_query
        if query is not None and (query.data or "").startswith("menu:"):
            # A menu item leaves whatever flow was in progress (the item's own flow, if it is
            # one, becomes active again when it starts).
            sessions.leave_flow(context.chat_data)
        return
    ended = sessions.end(context.chat_data)
    if ended is not None:
        with contextlib.suppress(BackendError):
            await found.backend.logout(ended)
    message = update.effective_message
    if message is not None and message.text and message.text.split()[0] == "/start":
        return  # /start begins a new login right away
    await answer_query(update)
    await send(update, texts.SESSION_EXPIRED, keyboards.login())
    raise ApplicationHandlerStop


# Buttons that begin a flow (or a part of one) from any message, besides ``menu:<item>``: the
# entry points of the flows (see each flow's ``build``), with the feature each one needs.
ENTRY_FEATURES: tuple[tuple[str, Feature], ...] = (
    ("account:", Feature.ACCOUNT),
    ("inv:show:", Feature.INVOICES),
    ("inv:pdf:", Feature.INVOICES),
    ("nf:pdf:", Feature.FISCAL_NOTES),
    ("contacts:new", Feature.NEW_CONTACT),
    ("link:new", Feature.NEW_CONTACT),
    ("contacts:page:", Feature.CONTACTS),
    ("tk:att:", Feature.TICKET_ATTACHMENTS),
    ("tk:new", Feature.NEW_TICKET),
    ("tk:", Feature.TICKETS),
)
_MENU_FEATURES = {feature.value: feature for feature in Feature}


def feature_of_button(data: str) -> Feature | None:
    """The feature a pressed button needs before its flow asks anything (None: no check)."""
    if data.startswith("menu:"):
        return _MENU_FEATURES.get(data.removeprefix("menu:"))
    return next((feature for prefix, feature in ENTRY_FEATURES if data.startswith(prefix)), None)


async def refuse_unsupported(update: Update, context: BotContext) -> None:
    """A menu item (or a flow's entry button) the provider's system cannot do says so at once,
    before its flow asks anything."""
    query = update.callback_query
    if query is None or not query.data:
        return
    feature = feature_of_button(query.data)
    if feature is None or not context.services.lacks(feature):
        return
    logger.info("refused %s: the provider's system lacks it", feature.value)
    if query.data.startswith("menu:"):
        await show(update, texts.NOT_SUPPORTED, keyboards.back_to_menu())
    else:  # a button on a screen worth keeping (a list, a ticket): say it below
        await answer_query(update)
        await send(update, texts.NOT_SUPPORTED, keyboards.back_to_menu())
    raise ApplicationHandlerStop


async def stop(*_: Any) -> None:
    raise ApplicationHandlerStop
