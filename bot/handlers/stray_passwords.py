"""No password left in the chat, even one typed where the bot no longer expects it.

The login and Alterar Senha delete each message they read as a password. A password can also
come when no step reads it: after the lockout message, after /cancelar (or /ajuda) at the
password step, at the CPF/CNPJ prompt. So, for a few minutes after the bot asked for credentials
(the login's CPF/CNPJ or password, Alterar Senha's passwords) or refused or locked a login, a text
that is neither a valid CPF/CNPJ nor a command is deleted as soon as it arrives, before any other
handler runs (handler group ``GROUP``); the handler that then takes it can say why
(``was_deleted``). The marker is an instant in ``chat_data`` (nothing secret; persisted, so a
restart keeps it): the flow's idle time-out (FLOW_IDLE_MINUTES, after which the step that asked
no longer reads the answer) plus ``WINDOW``. A successful login or password change removes it,
and with another flow active (the user moved on) it is not applied.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import TypeHandler, filters

from backend_client.formats.documents import normalize_document
from bot.services import sessions
from bot.services.context import BotContext
from bot.ui import texts
from bot.ui.screens import send

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=5)  # beyond the flow's idle time-out
MARK_KEY = "password_window_until"  # chat_data: ISO instant until which stray texts are deleted
# Before every other handler (the guards use groups -4 to -1, the features group 0).
GROUP = -10
# Flows where a stray password may land; another active flow reads its own input.
FLOWS = frozenset({None, "login", "password"})
_DELETED = "password_message_deleted"  # set on the update's CallbackContext (one per update)


def mark(context: BotContext) -> None:
    """Credentials were asked for, or a login refused or locked: watch the next minutes."""
    if context.chat_data is not None:
        found = context.services
        until = found.clock() + found.settings.flow_idle_timeout + WINDOW
        context.chat_data[MARK_KEY] = until.isoformat()


def clear(context: BotContext) -> None:
    """Logged in, or the password changed: what comes next is ordinary conversation."""
    if context.chat_data is not None:
        context.chat_data.pop(MARK_KEY, None)


def _marked(context: BotContext) -> bool:
    data = context.chat_data
    until = data.get(MARK_KEY) if data is not None else None
    if data is None or not isinstance(until, str):
        return False
    try:
        active = context.services.clock() < datetime.fromisoformat(until)
    except ValueError:
        active = False
    if not active:
        data.pop(MARK_KEY, None)
    return active


def was_deleted(context: BotContext) -> bool:
    """True when the message of this update was deleted as a possible password."""
    return bool(context.__dict__.get(_DELETED))


async def delete_password_message(update: Update, context: BotContext) -> None:
    """Delete the message just read (once per update); if Telegram refuses, ask the user to."""
    message = update.message
    if message is None or was_deleted(context):
        return
    context.__dict__[_DELETED] = True
    try:
        await message.delete()
    except TelegramError as error:
        logger.warning("could not delete a message that may hold a password: %s", error)
        await send(update, texts.PASSWORD_NOT_DELETED)


async def delete_stray_password(update: Update, context: BotContext) -> None:
    """Early handler: a text that may be a password, where one was asked for lately, goes."""
    message = update.message
    if message is None or message.text is None or context.chat_data is None:
        return
    if sessions.active_flow(context.chat_data) not in FLOWS or not _marked(context):
        return
    if filters.COMMAND.check_update(update) or normalize_document(message.text) is not None:
        return
    await delete_password_message(update, context)


def install(application: Any) -> None:
    application.add_handler(TypeHandler(Update, delete_stray_password), group=GROUP)
