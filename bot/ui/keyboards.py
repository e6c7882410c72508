"""Inline keyboards. Callback data is ``area:action[:argument]``, always well under 64 bytes."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui import texts
from bot.ui.callbacks import MAX_BYTES, MENU
from bot.ui.texts import provider as provider_texts


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def menu_row(back: str | None = None) -> list[InlineKeyboardButton]:
    """⬅️ Menu, after ⬅️ Voltar (callback data ``back``) when there is somewhere to go back to."""
    row = [button(texts.BUTTON_BACK, back)] if back else []
    row.append(button(texts.BUTTON_MENU, "menu:home"))
    return row


def main_menu(items: Sequence[str] | None = None, *, contact: bool = False) -> InlineKeyboardMarkup:
    """The menu's ``items`` (ids, in this order; every item when None: the provider file's
    ``[menu] items``, bot.handlers.provider), then 📞 Fale com a gente when ``contact``."""
    chosen = [item for item, _ in texts.MENU_ITEMS] if items is None else items
    buttons = [button(texts.MENU_LABELS[item], MENU.pack(item)) for item in chosen]
    if contact:
        buttons.append(button(provider_texts.MENU_CONTACT, MENU.pack("contact")))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([button(texts.MENU_LOGOUT, "menu:logout")])
    return InlineKeyboardMarkup(rows)


def back_to_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(texts.BUTTON_MENU, "menu:home")]])


def login() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(texts.BUTTON_LOGIN, "login:start")]])


def other_document() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(texts.BUTTON_OTHER_DOCUMENT, "login:other_document")]])


def account() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(texts.BUTTON_PLAN_DETAILS, "account:plans")],
            [button(texts.BUTTON_MENU, "menu:home")],
        ]
    )


def plan_details() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(texts.BUTTON_ACCOUNT, "menu:account"), button(texts.BUTTON_MENU, "menu:home")]]
    )
