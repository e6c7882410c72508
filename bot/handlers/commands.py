"""Commands and catch-alls that work anywhere outside a flow."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.handlers import provider, stray_passwords
from bot.handlers.menu import show_menu
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.screens import answer_query, send
from bot.ui.texts import password as password_texts
from bot.ui.texts import provider as provider_texts


async def help_command(update: Update, context: BotContext) -> None:
    keyboard = keyboards.back_to_menu() if context.session else keyboards.login()
    # The catalogue's help (or the provider's), then the provider's contacts (issue 20).
    await send(update, provider_texts.help_text(provider.current(context)), keyboard)


async def cancel_outside_flow(update: Update, context: BotContext) -> None:
    await send(update, texts.NOTHING_TO_CANCEL)
    await show_menu(update, context, new_message=True)


async def unknown_command(update: Update, context: BotContext) -> None:
    await send(update, texts.UNKNOWN_COMMAND)


async def free_text(update: Update, context: BotContext) -> None:
    # Deleted already when it may be a password (bot.handlers.stray_passwords): say why.
    deleted = f"{password_texts.STRAY_DELETED}\n\n" if stray_passwords.was_deleted(context) else ""
    if context.session is None:
        await send(update, deleted + texts.NOT_LOGGED_IN, keyboards.login())
        return
    await send(update, deleted + texts.NOT_UNDERSTOOD, provider.menu_keyboard(context))


async def stale_button(update: Update, context: BotContext) -> None:
    """Any callback nobody handled: an old keyboard, or forged data. Answer it, change nothing."""
    await answer_query(update, texts.BUTTON_EXPIRED)
    await show_menu(update, context, new_message=True)


# After every other handler group (the features' group 0, the password sweep's 90).
LAST_GROUP = 1000


async def answer_unanswered(update: Update, context: BotContext) -> None:
    """Last of all: a button press that no path answered is answered now (answer_query does
    nothing for one answered already), so every press is answered exactly once."""
    await answer_query(update)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """Registered last: they catch only what no flow or menu item took."""
    return [
        CommandHandler("ajuda", help_command),
        CommandHandler("help", help_command),
        CommandHandler("cancelar", cancel_outside_flow),
        MessageHandler(filters.COMMAND, unknown_command),
        MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, free_text),
        CallbackQueryHandler(stale_button),
    ]
