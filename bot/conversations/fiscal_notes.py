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
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, ConversationHandler, filters

from backend_client.errors import Unavailable
from backend_client.models import BackendSession, FiscalNote
from bot.conversations.common import flow, step, typed, unexpected_input
from bot.handlers.guards import Context
from bot.services.context import services
from bot.ui import paging, periods, texts
from bot.ui.formatting import local_time
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import fiscal_notes as t

FLOW = "fiscal_notes"
PREFIX = "nf"
CHOOSE_PERIOD, TYPE_PERIOD, LISTING = range(3)
_UNSAFE = re.compile(r"[^a-z0-9]+")


def _data(context: Context) -> dict[str, Any]:
    assert context.chat_data is not None
    data: dict[str, Any] = context.chat_data.setdefault(FLOW, {})
    return data


def _today(context: Context) -> date:
    return local_time(services(context).clock()).date()


def _argument(update: Update) -> str:
    assert update.callback_query is not None
    return (update.callback_query.data or "").split(":", 2)[-1]


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
async def start(update: Update, context: Context, session: BackendSession) -> int:
    assert context.chat_data is not None
    context.chat_data[FLOW] = {}
    return await _ask_period(update)


async def _ask_period(update: Update) -> int:
    await show(update, t.CHOOSE_PERIOD, periods.keyboard(PREFIX))
    return CHOOSE_PERIOD


@step(FLOW)
async def back_to_periods(update: Update, context: Context, session: BackendSession) -> int:
    return await _ask_period(update)


@step(FLOW)
async def choose_period(update: Update, context: Context, session: BackendSession) -> int:
    key = _argument(update)
    if key == periods.CUSTOM:
        keyboard = InlineKeyboardMarkup(
            [
                [button(t.BUTTON_BACK, f"{PREFIX}:periods")],
                [button(texts.BUTTON_MENU, "menu:home")],
            ]
        )
        await show(update, texts.ASK_PERIOD, keyboard)
        return TYPE_PERIOD
    try:
        period = periods.resolve(key, _today(context))
    except ValueError:  # forged key
        return await _ask_period(update)
    _data(context)["period"] = periods.to_json(period)
    return await _show(update, context, session, 0)


@step(FLOW)
async def typed_period(update: Update, context: Context, session: BackendSession) -> int:
    assert update.message is not None and update.message.text is not None
    try:
        period = periods.parse(update.message.text)
    except periods.PeriodError as error:
        await send(update, str(error))
        return TYPE_PERIOD
    _data(context)["period"] = periods.to_json(period)
    return await _show(update, context, session, 0)


@step(FLOW)
async def change_page(update: Update, context: Context, session: BackendSession) -> int:
    return await _show(update, context, session, int(_argument(update)))


async def _notes(context: Context, session: BackendSession) -> list[FiscalNote] | None:
    stored = _data(context).get("period")
    if not stored:
        return None
    period = periods.from_json(stored)
    notes = await services(context).backend.list_fiscal_notes(session, period)
    return sorted(notes, key=lambda n: (n.issued_on, n.model, n.number, n.id))


async def _show(update: Update, context: Context, session: BackendSession, page: int) -> int:
    notes = await _notes(context, session)
    if notes is None:  # an old button after the chat's data was cleared
        return await _ask_period(update)
    data = _data(context)
    description = periods.describe(periods.from_json(data["period"]))
    if not notes:
        await show(update, t.empty(description), periods.keyboard(PREFIX))
        return CHOOSE_PERIOD
    page = paging.clamp(page, len(notes))
    data["page"] = page
    rows = [
        [button(t.note_button(note), f"{PREFIX}:pdf:{note.id}")]
        for note in paging.page_items(notes, page)
    ]
    nav = paging.nav_row(PREFIX, page, len(notes))
    if nav:
        rows.append(nav)
    rows.append(
        [
            button(t.BUTTON_OTHER_PERIOD, f"{PREFIX}:periods"),
            button(texts.BUTTON_MENU, "menu:home"),
        ]
    )
    text = t.note_list(description, len(notes), page, paging.page_count(len(notes)))
    await show(update, text, InlineKeyboardMarkup(rows))
    return LISTING


@step(FLOW)
async def send_pdf(update: Update, context: Context, session: BackendSession) -> int:
    note_id = _argument(update)
    backend = services(context).backend
    document = await backend.get_fiscal_note_pdf(session, note_id)  # NotFound when not theirs
    await answer_query(update)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
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
    def on(action: str, callback: Any, argument: str = "") -> CallbackQueryHandler:  # type: ignore[type-arg]
        return CallbackQueryHandler(callback, pattern=rf"^{PREFIX}:{action}{argument}$")

    # A photo, sticker… while a period is expected: say what is expected, stay in the step.
    not_text = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # The flow's buttons work in every state: an older message of the flow may be pressed.
    buttons = [
        on("period", choose_period, r":\w{1,20}"),
        on("periods", back_to_periods),
        on("page", change_page, r":\d{1,4}"),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(start, pattern=r"^menu:fiscal_notes$"),
            # A note's button keeps working on an old list, even after the flow was left.
            on("pdf", send_pdf, r":[\w.-]{1,50}"),
        ],
        states={
            CHOOSE_PERIOD: buttons,
            TYPE_PERIOD: [
                typed(FLOW, application, typed_period),
                typed(FLOW, application, unexpected_input, not_text),
                *buttons,
            ],
            LISTING: buttons,
        },
    )
