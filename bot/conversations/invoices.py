"""Faturas (seed 1.3.1) and Ver boleto (1.3.1.1): open invoices by period, boleto and PIX.

Faturas opens on the open invoices at once (of every contract): boleto and PIX are two taps from
the menu (issue 21); a period and a contract are secondary buttons of the list.

States:
    CHOOSE_CONTRACT → "Escolher contrato": one contract (or all)
    CHOOSE_PERIOD   → "todas em aberto" or a period button
    TYPE_PERIOD     → a typed period (``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``)
    LISTING         → one line per open invoice, paged; a button per invoice opens its boleto

Ver boleto sends new messages (the list stays usable): the details, then the linha digitável
and the PIX copia-e-cola each alone in a ``<code>`` message, then the PIX QR code as a photo
with the "Boleto em PDF" button. Boleto buttons keep working on old messages (entry points).

chat_data["invoices"] = {"contract": id | None, "contracts": {id: number}, "period":
[start, end] | None (all open), "open_ended": bool}.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import segno
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.formats.boleto import format_linha_digitavel
from backend_client.models import (
    BackendSession,
    Contract,
    DateRange,
    Document,
    Invoice,
    InvoiceStatus,
)
from bot.conversations import common
from bot.conversations.common import flow, text_expected, typed
from bot.conversations.period_step import PeriodStep, other_period
from bot.handlers.access import step
from bot.services.context import BotContext
from bot.ui import paging, periods
from bot.ui.callbacks import ID, KEY, PAGE, Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import answer_query, send, show, uploading
from bot.ui.texts import invoices as t

FLOW = "invoices"
PREFIX = "inv"
BUTTONS = Buttons(PREFIX)
CHOOSE_CONTRACT, CHOOSE_PERIOD, TYPE_PERIOD, LISTING = range(4)
ALL = "all"
OPEN_ONLY = frozenset({InvoiceStatus.OPEN})
# Invoices already issued but falling due after the chosen period: providers issue them at
# most a few weeks ahead, a year is a generous horizon.
FUTURE_HORIZON = timedelta(days=366)
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


# --- helpers ---------------------------------------------------------------------------------
def _data(context: BotContext) -> dict[str, Any]:
    return context.flow_data(FLOW)


def _contract_number(context: BotContext, contract_id: str) -> str | None:
    """The contract's number when the subscriber has several (else no need to say it)."""
    numbers: dict[str, str] = _data(context).get("contracts", {})
    return numbers.get(contract_id)


def _contracts_keyboard(contracts: Sequence[Contract]) -> InlineKeyboardMarkup:
    rows = [[button(t.BUTTON_ALL_CONTRACTS, BUTTONS.pack("contract", ALL))]]
    rows += [[button(t.contract_button(c), BUTTONS.pack("contract", c.id))] for c in contracts]
    rows.append(menu_row())
    return InlineKeyboardMarkup(rows)


def _period_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    rows = [list(row) for row in periods.keyboard(PREFIX).inline_keyboard]
    rows.insert(0, [button(t.BUTTON_ALL_OPEN, BUTTONS.pack("period", ALL))])
    if _data(context).get("contracts"):
        rows.insert(-1, [button(t.BUTTON_CONTRACTS, BUTTONS.pack("contracts"))])
    return InlineKeyboardMarkup(rows)


def _stored_period(data: dict[str, Any]) -> DateRange | None:
    stored = data.get("period")
    return periods.from_json(stored) if stored else None


def _query_range(data: dict[str, Any], today: date) -> DateRange | None:
    period = _stored_period(data)
    if period is None or not data.get("open_ended"):
        return period
    return DateRange(period.start, max(period.end, today + FUTURE_HORIZON))


def _boleto_filename(document: Document, invoice_id: str) -> str:
    """The backend's name made unique per invoice (two contracts share a reference month)."""
    stem, dot, extension = (document.filename or "boleto.pdf").rpartition(".")
    if not dot:
        stem, extension = document.filename or "boleto", "pdf"
    safe_id = _SAFE_FILENAME.sub("", invoice_id)
    if safe_id and safe_id not in stem:
        stem = f"{stem}-{safe_id}"
    name = _SAFE_FILENAME.sub("-", f"{stem}.{extension}").strip("-.")
    return name if name.lower().endswith(".pdf") else f"{name or 'boleto'}.pdf"


@functools.lru_cache(maxsize=512)
def qr_png(payload: str) -> bytes:
    """The PIX QR code as a PNG, drawn locally.

    Cached: the same invoice's code is drawn once. Drawing is CPU-bound (segno scores all eight
    mask patterns), which on a busy bot is worth not repeating.
    """
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


# --- steps -----------------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    subscriber = await context.services.backend.get_subscriber(session)
    contracts = subscriber.contracts
    assert context.chat_data is not None
    context.chat_data[FLOW] = {
        "contract": None,
        "contracts": {c.id: c.number for c in contracts} if len(contracts) > 1 else {},
        "period": None,
        "open_ended": False,
    }
    return await _show_list(update, context, session, 0)


@step(FLOW)
async def pick_contract(update: Update, context: BotContext, session: BackendSession) -> int:
    """The list's "Escolher contrato" (and the period picker's "Contratos")."""
    subscriber = await context.services.backend.get_subscriber(session)
    _data(context)["contracts"] = {c.id: c.number for c in subscriber.contracts}
    await show(update, t.CHOOSE_CONTRACT, _contracts_keyboard(subscriber.contracts))
    return CHOOSE_CONTRACT


@step(FLOW)
async def choose_contract(update: Update, context: BotContext, session: BackendSession) -> int:
    choice = BUTTONS.argument(update, "contract")
    data = _data(context)
    if choice == ALL:
        data["contract"] = None
    elif choice in data.get("contracts", {}):
        data["contract"] = choice
    else:  # forged, or a button from an old session: show the real contracts again
        subscriber = await context.services.backend.get_subscriber(session)
        data["contracts"] = {c.id: c.number for c in subscriber.contracts}
        await show(update, t.CONTRACT_NOT_FOUND, _contracts_keyboard(subscriber.contracts))
        return CHOOSE_CONTRACT
    if "period" not in data:  # chosen before any period: the contract's open invoices
        data["period"], data["open_ended"] = None, False
    return await _show_list(update, context, session, 0)


async def _ask_period(update: Update, context: BotContext) -> int:
    contract = _data(context).get("contract")
    number = _contract_number(context, contract) if contract else None
    await show(update, t.choose_period(number), _period_keyboard(context))
    return CHOOSE_PERIOD


@step(FLOW)
async def all_open(update: Update, context: BotContext, session: BackendSession) -> int:
    data = _data(context)
    data["period"], data["open_ended"] = None, False
    return await _show_list(update, context, session, 0)


async def _period_chosen(update: Update, context: BotContext, session: BackendSession) -> int:
    """A period button that reaches today also lists the invoices already issued that fall due
    later (up to ``FUTURE_HORIZON``); a typed period is taken as typed."""
    data = _data(context)
    period = _stored_period(data)
    assert period is not None
    pressed = update.callback_query is not None
    data["open_ended"] = pressed and period.start <= common.today(context) <= period.end
    return await _show_list(update, context, session, 0)


@step(FLOW)
async def change_page(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _show_list(update, context, session, BUTTONS.page(update))


@step(FLOW)
async def back_to_list(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _show_list(update, context, session, _data(context).get("page", 0))


async def _show_list(
    update: Update, context: BotContext, session: BackendSession, page: int
) -> int:
    data = _data(context)
    if "period" not in data:  # an old button after the chat's data was cleared
        return await _ask_period(update, context)
    today = common.today(context)
    contract = data.get("contract")
    invoices = await context.services.backend.list_invoices(
        session,
        period=_query_range(data, today),
        statuses=OPEN_ONLY,
        contract_id=contract,
    )
    invoices = [invoice for invoice in invoices if invoice.status is InvoiceStatus.OPEN]
    period = _stored_period(data)
    scope = t.scope(
        periods.describe(period) if period else None,
        bool(data.get("open_ended")),
        _contract_number(context, contract) if contract else None,
    )
    if not invoices:
        data["page"] = 0
        await show(update, t.no_invoices(scope, period is None), _period_keyboard(context))
        return CHOOSE_PERIOD
    shown = paging.page(invoices, page, PREFIX)
    data["page"] = shown.number
    # The contract of each line is worth saying only when the list mixes contracts.
    numbers: dict[str, str] = {} if contract else data.get("contracts", {})
    lines = [t.invoice_line(i, today, numbers.get(i.contract_id)) for i in shown.items]
    text = t.invoice_list(
        scope,
        lines,
        len(invoices),
        sum((i.amount for i in invoices), Decimal(0)),
        sum(1 for i in invoices if i.is_overdue(today)),
        shown.number,
        shown.count,
    )
    rows = [
        [button(t.invoice_button(i, numbers.get(i.contract_id)), BUTTONS.pack("show", i.id))]
        for i in shown.items
    ]
    rows += shown.nav
    if data.get("contracts"):
        rows.append([button(t.BUTTON_PICK_CONTRACT, BUTTONS.pack("contracts"))])
    rows.append([other_period(BUTTONS), *menu_row()])
    await show(update, text, InlineKeyboardMarkup(rows))
    return LISTING


PERIOD = PeriodStep(FLOW, PREFIX, TYPE_PERIOD, ask=_ask_period, on_chosen=_period_chosen)


@step(FLOW)
async def show_boleto(update: Update, context: BotContext, session: BackendSession) -> int:
    invoice_id = BUTTONS.argument(update, "show")
    invoice = await context.services.backend.get_invoice(session, invoice_id)
    await answer_query(update)
    back = [button(t.BUTTON_BACK_TO_LIST, BUTTONS.pack("list")), *menu_row()]
    if invoice.status is not InvoiceStatus.OPEN:
        await send(update, t.not_payable(invoice), InlineKeyboardMarkup([back]))
        return LISTING
    await _send_boleto(update, context, invoice, InlineKeyboardMarkup([back]))
    return LISTING


async def the_only_boleto(
    update: Update, context: BotContext, session: BackendSession
) -> int | None:
    """The boleto and PIX of the only open invoice of the list on screen (without one, of all
    the open invoices): "pix", "código de barras" typed (free text, issue 21:
    bot.conversations.free_text). None when there are none or several: nothing is shown."""
    data = _data(context)
    if "period" not in data:
        data.update(contract=None, period=None, open_ended=False)
    backend = context.services.backend
    listed = await backend.list_invoices(
        session,
        period=_query_range(data, common.today(context)),
        statuses=OPEN_ONLY,
        contract_id=data.get("contract"),
    )
    open_ones = [invoice for invoice in listed if invoice.status is InvoiceStatus.OPEN]
    if len(open_ones) != 1:
        return None
    invoice = await backend.get_invoice(session, open_ones[0].id)
    back = [button(t.BUTTON_BACK_TO_LIST, BUTTONS.pack("list")), *menu_row()]
    await _send_boleto(update, context, invoice, InlineKeyboardMarkup([back]))
    return LISTING


async def _send_boleto(
    update: Update, context: BotContext, invoice: Invoice, back: InlineKeyboardMarkup
) -> None:
    chat = update.effective_chat
    assert chat is not None
    today = common.today(context)
    actions = InlineKeyboardMarkup(
        [[button(t.BUTTON_PDF, BUTTONS.pack("pdf", invoice.id))], *back.inline_keyboard]
    )
    details = t.boleto_details(invoice, today, _contract_number(context, invoice.contract_id))
    await send(update, f"{details}\n\n{t.LINHA_LABEL}" if invoice.linha_digitavel else details)
    if invoice.linha_digitavel:
        await send(update, t.code(format_linha_digitavel(invoice.linha_digitavel)))
    else:
        await send(update, t.NO_BOLETO_CODE)
    if not invoice.pix_code:
        await send(update, t.NO_PIX, actions)
        return
    await send(update, t.pix_label(invoice))
    await send(update, t.code(invoice.pix_code))
    await chat.send_photo(
        photo=qr_png(invoice.pix_code), caption=t.QR_CAPTION, reply_markup=actions
    )


@step(FLOW)
async def send_pdf(update: Update, context: BotContext, session: BackendSession) -> int:
    invoice_id = BUTTONS.argument(update, "pdf")
    backend = context.services.backend
    invoice = await backend.get_invoice(session, invoice_id)
    await answer_query(update)
    if invoice.status is not InvoiceStatus.OPEN:
        back = [button(t.BUTTON_BACK_TO_LIST, BUTTONS.pack("list")), *menu_row()]
        await send(update, t.not_payable(invoice), InlineKeyboardMarkup([back]))
        return LISTING
    chat = await uploading(update)
    document = await backend.get_boleto_pdf(session, invoice.id)
    await chat.send_document(
        document=document.content,
        filename=_boleto_filename(document, invoice.id),
        caption=t.pdf_caption(invoice),
    )
    return LISTING


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = common.on_buttons(BUTTONS)

    # The flow's buttons work in every state: an older message of the flow may be pressed.
    buttons = [
        on("contract", choose_contract, ID),
        on("contracts", pick_contract),
        on("period", all_open, ALL),
        on("period", PERIOD.choose, KEY),
        on("periods", PERIOD.pick),
        on("page", change_page, PAGE),
        on("list", back_to_list),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(start, pattern=r"^menu:invoices$"),
            # A boleto button keeps working on an old list, even after the flow was left.
            on("show", show_boleto, ID),
            on("pdf", send_pdf, ID),
        ],
        states={
            CHOOSE_CONTRACT: buttons,
            CHOOSE_PERIOD: buttons,
            TYPE_PERIOD: [
                typed(FLOW, application, PERIOD.typed),
                text_expected(FLOW, application),  # a photo, a sticker…: stay in the step
                *buttons,
            ],
            LISTING: buttons,
        },
    )
