"""The keyboards of the contacts list and of the "new contact" steps
(bot.conversations.contacts), and how a typed answer is matched to a button.

Callback data (``<prefix>`` is the host flow's: ``contacts`` for the list, another flow's own
when it reuses the steps): ``<prefix>:cancel``, ``:summary``, ``:ask``, ``:type:<id>``,
``:skip:<field>``, ``:sms:yes`` / ``:sms:no``, ``:confirm``, ``:fix``, ``:fix:<field>``; the list's
``contacts:new`` and ``contacts:page:<n>``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from backend_client.models import ContactType
from bot.ui import paging, texts
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button
from bot.ui.texts import contacts as t

Rows = list[list[InlineKeyboardButton]]


def fold(text: str) -> str:
    """Lower case without accents, to match a typed answer to a button label."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _pairs(buttons: list[InlineKeyboardButton]) -> Rows:
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _menu() -> InlineKeyboardButton:
    return button(texts.BUTTON_MENU, "menu:home")


def step_keyboard(buttons: Buttons, fixing: bool, rows: Rows | None = None) -> InlineKeyboardMarkup:
    """A step's own ``rows``, then ↩️ back to the summary (when correcting a field) or
    ✖️ Cancelar, and ⬅️ Menu."""
    if fixing:
        first = button(t.BUTTON_BACK_TO_SUMMARY, buttons.pack("summary"))
    else:
        first = button(t.BUTTON_CANCEL, buttons.pack("cancel"))
    return InlineKeyboardMarkup([*(rows or []), [first, _menu()]])


def retry_rows(buttons: Buttons) -> Rows:
    return [[button(t.BUTTON_RETRY, buttons.pack("ask"))]]


def type_rows(buttons: Buttons, types: Sequence[ContactType]) -> Rows:
    """A button per contact type, two a row; a type whose id is too long for a button is left
    out (logged)."""
    shown = [
        button(contact_type.name, buttons.pack("type", contact_type.id))
        for contact_type in types
        if buttons.fits("type", contact_type.id)
    ]
    return _pairs(shown)


def skip_rows(buttons: Buttons, field: str) -> Rows:
    return [[button(t.BUTTON_SKIP, buttons.pack("skip", field))]]


def sms_rows(buttons: Buttons) -> Rows:
    return [
        [
            button(t.BUTTON_YES, buttons.pack("sms", "yes")),
            button(t.BUTTON_NO, buttons.pack("sms", "no")),
        ]
    ]


def summary_keyboard(buttons: Buttons) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_CONFIRM, buttons.pack("confirm")),
                button(t.BUTTON_FIX, buttons.pack("fix")),
            ],
            [button(t.BUTTON_CANCEL, buttons.pack("cancel")), _menu()],
        ]
    )


def fix_keyboard(buttons: Buttons, fields: Sequence[str]) -> InlineKeyboardMarkup:
    """A button per field to correct, then back to the summary and ⬅️ Menu."""
    labels = t.FIELD_LABELS
    rows = _pairs([button(labels[field], buttons.pack("fix", field)) for field in fields])
    rows.append([button(t.BUTTON_BACK_TO_SUMMARY, buttons.pack("summary"))])
    rows.append([_menu()])
    return InlineKeyboardMarkup(rows)


def list_keyboard(
    buttons: Buttons, page: int, total: int, size: int, can_add: bool
) -> InlineKeyboardMarkup:
    """➕ Novo contato (when the system takes new contacts), ◀️ n/N ▶️, ⬅️ Menu."""
    rows: Rows = [[button(t.BUTTON_NEW, buttons.pack("new"))]] if can_add else []
    nav = paging.nav_row(buttons.prefix, page, total, size)
    if nav:
        rows.append(nav)
    rows.append([_menu()])
    return InlineKeyboardMarkup(rows)
