"""The main menu (seed 1.2.1.1) and its items that are not a flow of their own."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from backend_client.errors import BackendError
from bot.handlers import provider
from bot.services import sessions
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import provider as provider_texts

logger = logging.getLogger(__name__)


async def show_menu(update: Update, context: BotContext, *, new_message: bool = False) -> None:
    """The main menu; showing it leaves any flow in progress."""
    if context.chat_data is not None:
        sessions.leave_flow(context.chat_data)
    session = context.session
    if session is None:
        await answer_query(update)
        await send(update, texts.NOT_LOGGED_IN, keyboards.login())
        return
    # The provider file's name, items and order (bot.handlers.provider); today's without one.
    title = provider_texts.menu_title(session.name, provider.current(context), session.document)
    if new_message:
        await send(update, title, provider.menu_keyboard(context))
    else:
        await show(update, title, provider.menu_keyboard(context))


async def menu_command(update: Update, context: BotContext) -> None:
    await show_menu(update, context, new_message=True)


async def menu_home(update: Update, context: BotContext) -> None:
    await show_menu(update, context)


async def logout(update: Update, context: BotContext) -> None:
    await answer_query(update)
    ended = sessions.end(context.chat_data) if context.chat_data is not None else None
    if ended is None:
        await send(update, texts.NOT_LOGGED_IN, keyboards.login())
        return
    with contextlib.suppress(BackendError):
        await context.services.backend.logout(ended)
    logger.info("subscriber %s logged out", ended.subscriber_id)
    await show(update, texts.LOGGED_OUT, keyboards.login())


def handlers() -> list[CommandHandler | CallbackQueryHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("menu", menu_command),
        CommandHandler("sair", logout),
        CallbackQueryHandler(menu_home, pattern=r"^menu:home$"),
        CallbackQueryHandler(logout, pattern=r"^menu:logout$"),
    ]
