"""Extrato Financeiro (seed 1.7): invoices by due date in a period, paid 🟢 and pending 🔴.

States:
    CHOOSE_PERIOD → a period button, or "Outro período"
    TYPE_PERIOD   → a typed period (``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``)
    LISTING       → the entries, paged, with the period's totals paid and pending

chat_data["statement"] = {"period": [start, end], "page": n}.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler, filters

from backend_client.models import BackendSession, FinancialEntry, InvoiceStatus
from bot.conversations.common import flow, step, typed, unexpected_input
from bot.handlers.guards import Context
from bot.services.context import services
from bot.ui import paging, periods, texts
from bot.ui.formatting import local_time
from bot.ui.keyboards import button
from bot.ui.screens import send, show
from bot.ui.texts import statement as t

FLOW = "statement"
PREFIX = "stm"
CHOOSE_PERIOD, TYPE_PERIOD, LISTING = range(3)
PAGE_SIZE = 12  # a year of one contract fits one page


def _data(context: Context) -> dict[str, Any]:
    assert context.chat_data is not None
    data: dict[str, Any] = context.chat_data.setdefault(FLOW, {})
    return data


def _today(context: Context) -> date:
    return local_time(services(context).clock()).date()


def _argument(update: Update) -> str:
    assert update.callback_query is not None
    return (update.callback_query.data or "").split(":", 2)[-1]


def _paid(entry: FinancialEntry) -> Decimal:
    return entry.paid_amount if entry.paid_amount is not None else entry.amount


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


async def _show(update: Update, context: Context, session: BackendSession, page: int) -> int:
    data = _data(context)
    if not data.get("period"):  # an old button after the chat's data was cleared
        return await _ask_period(update)
    period = periods.from_json(data["period"])
    entries = await services(context).backend.list_financial_entries(session, period)
    entries = [e for e in entries if e.status is not InvoiceStatus.CANCELLED]
    entries.sort(key=lambda e: (e.due_date, e.invoice_id))
    description = periods.describe(period)
    if not entries:
        await show(update, t.empty(description), periods.keyboard(PREFIX))
        return CHOOSE_PERIOD
    today = _today(context)
    page = paging.clamp(page, len(entries), PAGE_SIZE)
    data["page"] = page
    paid = [e for e in entries if e.status is InvoiceStatus.PAID]
    pending = [e for e in entries if e.status is InvoiceStatus.OPEN]
    text = t.statement(
        description,
        [t.entry_line(e, today) for e in paging.page_items(entries, page, PAGE_SIZE)],
        len(entries),
        sum((_paid(e) for e in paid), Decimal(0)),
        sum((e.amount for e in pending), Decimal(0)),
        sum(1 for e in pending if e.due_date < today),
        page,
        paging.page_count(len(entries), PAGE_SIZE),
    )
    rows = []
    nav = paging.nav_row(PREFIX, page, len(entries), PAGE_SIZE)
    if nav:
        rows.append(nav)
    rows.append(
        [
            button(t.BUTTON_OTHER_PERIOD, f"{PREFIX}:periods"),
            button(texts.BUTTON_MENU, "menu:home"),
        ]
    )
    await show(update, text, InlineKeyboardMarkup(rows))
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
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:statement$")],
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
