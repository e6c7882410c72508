"""Extrato Financeiro (seed 1.7): invoices by due date in a period, paid 🟢 and pending 🔴.

States:
    CHOOSE_PERIOD → a period button, or "Outro período"
    TYPE_PERIOD   → a typed period (``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``)
    LISTING       → the entries, paged, with the period's totals paid and pending; each pending
                    line of the page has its own "Ver boleto" (the Faturas flow's button, issue 21)

chat_data["statement"] = {"period": [start, end], "page": n}.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.models import BackendSession, FinancialEntry, InvoiceStatus
from bot.conversations import common
from bot.conversations import invoices as invoices_flow
from bot.conversations.common import flow, text_expected, typed
from bot.conversations.period_step import PeriodStep, export_buttons, other_period, send_table
from bot.handlers.access import step
from bot.services import exports
from bot.services.context import BotContext
from bot.ui import paging, periods
from bot.ui.callbacks import KEY, PAGE, Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import show
from bot.ui.texts import statement as t

FLOW = "statement"
PREFIX = "stm"
BUTTONS = Buttons(PREFIX)
CHOOSE_PERIOD, TYPE_PERIOD, LISTING = range(3)
PAGE_SIZE = 12  # a year of one contract fits one page


def _paid(entry: FinancialEntry) -> Decimal:
    return entry.paid_amount if entry.paid_amount is not None else entry.amount


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


async def _show(update: Update, context: BotContext, session: BackendSession, page: int = 0) -> int:
    data = context.flow_data(FLOW)
    if not data.get("period"):  # an old button after the chat's data was cleared
        return await _ask_period(update, context)
    period = periods.from_json(data["period"])
    entries = await context.services.backend.list_financial_entries(session, period)
    entries = [e for e in entries if e.status is not InvoiceStatus.CANCELLED]
    entries.sort(key=lambda e: (e.due_date, e.invoice_id))
    description = periods.describe(period)
    if not entries:
        await show(update, t.empty(description), periods.keyboard(PREFIX))
        return CHOOSE_PERIOD
    today = common.today(context)
    shown = paging.page(entries, page, PREFIX, PAGE_SIZE)
    data["page"] = shown.number
    paid = [e for e in entries if e.status is InvoiceStatus.PAID]
    pending = [e for e in entries if e.status is InvoiceStatus.OPEN]
    text = t.statement(
        description,
        [t.entry_line(e, today) for e in shown.items],
        len(entries),
        sum((_paid(e) for e in paid), Decimal(0)),
        sum((e.amount for e in pending), Decimal(0)),
        sum(1 for e in pending if e.due_date < today),
        shown.number,
        shown.count,
    )
    # Pressed here, Faturas' "inv:show" entry point sends the boleto and PIX (issue 21).
    rows = [
        [button(t.boleto_button(e), invoices_flow.BUTTONS.pack("show", e.invoice_id))]
        for e in shown.items
        if e.status is InvoiceStatus.OPEN
    ]
    rows += [
        *shown.nav,
        export_buttons(BUTTONS, csv=False),
        [other_period(BUTTONS), *menu_row()],
    ]
    await show(update, text, InlineKeyboardMarkup(rows))
    return LISTING


@step(FLOW)
async def export(update: Update, context: BotContext, session: BackendSession) -> int:
    """The chosen period's statement as a PDF (issue 21), by due date as on screen."""
    data = context.flow_data(FLOW)
    if not data.get("period"):
        return await _ask_period(update, context)
    period = periods.from_json(data["period"])
    entries = await context.services.backend.list_financial_entries(session, period)
    entries = [e for e in entries if e.status is not InvoiceStatus.CANCELLED]
    entries.sort(key=lambda e: (e.due_date, e.invoice_id))
    today = common.today(context)
    paid = [e for e in entries if e.status is InvoiceStatus.PAID]
    pending = [e for e in entries if e.status is InvoiceStatus.OPEN]
    described = periods.describe(period)
    table = exports.Table(
        title=t.EXPORT_TITLE,
        subtitle=described,
        headers=t.EXPORT_HEADERS,
        rows=[t.export_row(e, today) for e in entries],
        totals=t.export_totals(
            sum((_paid(e) for e in paid), Decimal(0)),
            sum((e.amount for e in pending), Decimal(0)),
            sum(1 for e in pending if e.due_date < today),
        ),
        widths=(1.6, 4, 1.6, 2.2, 1.6, 1.6),
    )
    await send_table(
        update,
        table,
        "pdf",
        period=described,
        caption=t.export_caption(described),
        created_at=context.services.clock(),
    )
    return LISTING


PERIOD = PeriodStep(FLOW, PREFIX, TYPE_PERIOD, ask=_ask_period, on_chosen=_show)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = common.on_buttons(BUTTONS)

    # The flow's buttons work in every state: an older message of the flow may be pressed.
    buttons = [
        on("period", PERIOD.choose, KEY),
        on("periods", PERIOD.pick),
        on("page", change_page, PAGE),
        on("export", export, "pdf"),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:statement$")],
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
