"""Nota Fiscal (seed 1.3.2): the notes of a period as buttons; a tap sends the note's PDF.

States:
    CHOOSE_PERIOD → a period button, or "Outro período"
    TYPE_PERIOD   → a typed period (``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``)
    LISTING       → one button per note (paged); pressing one sends its PDF

A note's button keeps working on an old list (entry point). chat_data["fiscal_notes"] =
{"period": [start, end], "page": n}.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.errors import Unavailable
from backend_client.models import BackendSession, FiscalNote
from bot.conversations.common import flow, on_buttons, text_expected, typed
from bot.conversations.period_step import PeriodStep, other_period
from bot.handlers.access import step
from bot.services.context import BotContext
from bot.ui import paging, periods
from bot.ui.callbacks import ID, KEY, PAGE, Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import show, uploading
from bot.ui.texts import fiscal_notes as t

FLOW = "fiscal_notes"
PREFIX = "nf"
BUTTONS = Buttons(PREFIX)
CHOOSE_PERIOD, TYPE_PERIOD, LISTING = range(3)
_UNSAFE = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _UNSAFE.sub("-", ascii_text.lower()).strip("-")


def note_filename(note: FiscalNote | None, backend_name: str) -> str:
    """``nota-fiscal-nfcom-4821-serie-1-2026-11-13.pdf``; the backend's name when unknown."""
    if note is None:
        stem = _slug(backend_name.removesuffix(".pdf")) or "nota-fiscal"
        return f"{stem}.pdf"
    parts = ["nota-fiscal", _slug(note.model), _slug(note.number)]
    if note.series:
        parts += ["serie", _slug(note.series)]
    parts.append(note.issued_on.isoformat())
    return "-".join(part for part in parts if part) + ".pdf"


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    assert context.chat_data is not None
    context.chat_data[FLOW] = {}
    return await _ask_period(update, context)


async def _ask_period(update: Update, context: BotContext) -> int:
    await show(update, t.CHOOSE_PERIOD, periods.keyboard(PREFIX))
    return CHOOSE_PERIOD


@step(FLOW)
async def change_page(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _show(update, context, session, BUTTONS.page(update))


async def _notes(context: BotContext, session: BackendSession) -> list[FiscalNote] | None:
    stored = context.flow_data(FLOW).get("period")
    if not stored:
        return None
    period = periods.from_json(stored)
    notes = await context.services.backend.list_fiscal_notes(session, period)
    return sorted(notes, key=lambda n: (n.issued_on, n.model, n.number, n.id))


async def _show(update: Update, context: BotContext, session: BackendSession, page: int = 0) -> int:
    notes = await _notes(context, session)
    if notes is None:  # an old button after the chat's data was cleared
        return await _ask_period(update, context)
    data = context.flow_data(FLOW)
    description = periods.describe(periods.from_json(data["period"]))
    if not notes:
        await show(update, t.empty(description), periods.keyboard(PREFIX))
        return CHOOSE_PERIOD
    shown = paging.page(notes, page, PREFIX)
    data["page"] = shown.number
    rows = [[button(t.note_button(note), BUTTONS.pack("pdf", note.id))] for note in shown.items]
    rows += [*shown.nav, [other_period(BUTTONS), *menu_row()]]
    text = t.note_list(description, len(notes), shown.number, shown.count)
    await show(update, text, InlineKeyboardMarkup(rows))
    return LISTING


PERIOD = PeriodStep(FLOW, PREFIX, TYPE_PERIOD, ask=_ask_period, on_chosen=_show)


@step(FLOW)
async def send_pdf(update: Update, context: BotContext, session: BackendSession) -> int:
    note_id = BUTTONS.argument(update, "pdf")
    backend = context.services.backend
    document = await backend.get_fiscal_note_pdf(session, note_id)  # NotFound when not theirs
    chat = await uploading(update)
    # The listing of the period gives the note's model, series and date for the file name;
    # without it (an old button, a hiccup) the backend's own name will do.
    try:
        listed = await _notes(context, session) or []
    except Unavailable:
        listed = []
    note = next((n for n in listed if n.id == note_id), None)
    await chat.send_document(
        document=document.content,
        filename=note_filename(note, document.filename),
        caption=t.pdf_caption(note),
    )
    return LISTING


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = on_buttons(BUTTONS)

    # The flow's buttons work in every state: an older message of the flow may be pressed.
    buttons = [
        on("period", PERIOD.choose, KEY),
        on("periods", PERIOD.pick),
        on("page", change_page, PAGE),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(start, pattern=r"^menu:fiscal_notes$"),
            # A note's button keeps working on an old list, even after the flow was left.
            on("pdf", send_pdf, ID),
        ],
        states={
            CHOOSE_PERIOD: buttons,
            TYPE_PERIOD: [
                typed(FLOW, application, PERIOD.typed),
                text_expected(FLOW, application),  # a photo, a sticker…: stay in the step
                *buttons,
            ],
            LISTING: buttons,
        },
    )
