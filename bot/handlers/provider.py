"""Where the provider file (issue 20, ``bot.provider``) shows in the chat: the menu's items and
order, "📞 Fale com a gente", the login's "Esqueci minha senha", and the bot's profile
descriptions at start-up. Each update reads the configuration in force
(:func:`bot.provider.store.current`), so a file replaced through the admin API counts from the
next update.

Without a provider file everything here gives today's behaviour: every menu item, no contact
entry, no password-help button, no description set.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler

from backend_client.features import Feature
from bot.provider.store import current, store_of
from bot.services.context import BotContext
from bot.support import texts as support_texts
from bot.ui import keyboards, texts
from bot.ui.callbacks import pack
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import provider as provider_texts

logger = logging.getLogger(__name__)
FORGOT_PASSWORD = "login:forgot_password"
_FEATURES = frozenset(feature.value for feature in Feature)

__all__ = [
    "FORGOT_PASSWORD",
    "current",
    "handlers",
    "menu_keyboard",
    "password_keyboard",
    "publish_descriptions",
    "unavailable",
]


def menu_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    """The main menu as the provider configured it: ``[menu] items`` in order, minus what the
    provider's system lacks, then 📞 Fale com a gente when the file gives contacts."""
    config = current(context)
    services = context.services

    def lacks(item: str) -> bool:
        return item in _FEATURES and services.lacks(Feature(item))

    items = config.visible_items(lacks)
    return with_handoff(context, keyboards.main_menu(items, contact=config.provider.has_contacts))


def with_handoff(context: BotContext, keyboard: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """``keyboard`` and "Falar com atendente" (``support:start``, bot.support) when the
    provider's file names the team's group (``[support] chat_id``) and someone is logged in."""
    if current(context).support.chat_id is None or not context.session:
        return keyboard
    row = (keyboards.button(support_texts.BUTTON_HANDOFF, "support:start"),)
    return InlineKeyboardMarkup((*keyboard.inline_keyboard, row))


def password_keyboard(context: BotContext, *, retry: bool = False) -> InlineKeyboardMarkup | None:
    """The login's password step: "Esqueci minha senha" when the provider says how to recover
    it; after a refusal also "Usar outro CPF/CNPJ" (as before)."""
    rows = []
    if retry:
        rows.append([keyboards.button(texts.BUTTON_OTHER_DOCUMENT, "login:other_document")])
    if provider_texts.offers_password_help(current(context).provider):
        rows.append([keyboards.button(provider_texts.BUTTON_FORGOT_PASSWORD, FORGOT_PASSWORD)])
    return InlineKeyboardMarkup(rows) if rows else None


def unavailable(context: BotContext) -> str:
    """The apology for a system that did not answer, ending with the provider's phone."""
    return provider_texts.backend_unavailable(current(context).provider)


async def contact_us(update: Update, context: BotContext) -> None:
    """📞 Fale com a gente: the provider's phone, WhatsApp, e-mail, site and hours."""
    provider = current(context).provider
    keyboard = keyboards.back_to_menu() if context.session else keyboards.login()
    if not provider.has_contacts:  # a button from before the file lost its contacts
        await show(update, texts.NOT_SUPPORTED, keyboard)
        return
    await show(update, provider_texts.contact_card(provider), keyboard)


async def forgot_password(update: Update, context: BotContext) -> None:
    """ "Esqueci minha senha" on the password step: ``password_help``. The login stays where it
    is: the next message is still taken as the password."""
    await answer_query(update)
    await send(update, provider_texts.password_help(current(context).provider))


async def publish_descriptions(application: Any) -> None:
    """setMyDescription / setMyShortDescription with the provider's name, for every language
    and for Portuguese (as the commands are); nothing without a name. A refusal is logged and
    the bot starts anyway (the descriptions are cosmetic)."""
    config = store_of(application).current
    bot = application.bot
    description = provider_texts.description(config.provider)
    short = provider_texts.short_description(config.provider)
    if description is None or short is None:
        return
    try:
        for language in (None, "pt"):
            await bot.set_my_description(description, language_code=language)
            await bot.set_my_short_description(short, language_code=language)
    except TelegramError as error:
        logger.warning("the bot's description could not be set: %s", error)


def handlers() -> list[CallbackQueryHandler[Any, Any]]:
    return [
        CallbackQueryHandler(contact_us, pattern=rf"^{pack('menu', 'contact')}$"),
        CallbackQueryHandler(forgot_password, pattern=rf"^{FORGOT_PASSWORD}$"),
    ]
