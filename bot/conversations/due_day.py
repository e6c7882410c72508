"""Alterar Vencimento (seed 1.8): ask for another due day; on agreeing, record and e-mail it.

States:
    CHOOSE_CONTRACT → a subscriber with several contracts picks one
    CHOOSE_DAY      → the current due day and the allowed days as buttons; when the system
                      reports a request awaiting the provider (``DueDayOptions.pending``), that
                      request instead (day, protocol, date) and no days: the system refuses any
                      other request for the contract meanwhile, the same day or another
    CONFIRM         → the terms (pro rata on the next invoice): Concordo / Voltar

On "Concordo" the backend records the request (protocol); then the request is e-mailed to the
provider's billing address and to the subscriber (``bot.services.mailer``). The request stands
whatever happens to the e-mail, and the user is told exactly that: sent, queued for retry
(SMTP down), or not e-mailed (no SMTP configured).

chat_data["due_day"] = {"contract", "number", "plan", "current", "days": [...], "day",
"several"}; cleared when the request is made.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.errors import Rejected
from backend_client.models import (
    BackendSession,
    Contract,
    ContractStatus,
    DueDayChangeRequest,
    DueDayOptions,
    Subscriber,
)
from bot.conversations import free_text
from bot.conversations.common import ask_contract, flow, on_buttons, pressed_contract, typed
from bot.handlers.access import END, leave, step
from bot.intents.details import due_day as day_in
from bot.provider.store import current as current_provider
from bot.services import mailer
from bot.services.context import BotContext
from bot.ui.callbacks import ID, Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import send, show
from bot.ui.texts import due_day as t
from bot.ui.texts import free_text as free_text_texts

logger = logging.getLogger(__name__)

FLOW = "due_day"
PREFIX = "venc"
BUTTONS = Buttons(PREFIX)
CHOOSE_CONTRACT, CHOOSE_DAY, CONFIRM = range(3)
DAYS_PER_ROW = 4


def _data(context: BotContext) -> dict[str, Any]:
    return context.flow_data(FLOW)


def _clear(context: BotContext) -> None:
    assert context.chat_data is not None
    context.chat_data.pop(FLOW, None)


def _done(context: BotContext) -> int:
    """The flow is over: forget its data and leave it."""
    _clear(context)
    leave(context)
    return END


def _contracts(subscriber: Subscriber) -> list[Contract]:
    return [c for c in subscriber.contracts if c.status is not ContractStatus.CANCELLED]


def _days_keyboard(data: dict[str, Any]) -> InlineKeyboardMarkup:
    days = [button(t.day_button(d), BUTTONS.pack("day", d)) for d in data["days"]]
    rows = [days[i : i + DAYS_PER_ROW] for i in range(0, len(days), DAYS_PER_ROW)]
    if data.get("several"):
        rows.append([button(t.BUTTON_CONTRACTS, BUTTONS.pack("contracts"))])
    rows.append(menu_row())
    return InlineKeyboardMarkup(rows)


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _begin(update, context, session)


async def propose(update: Update, context: BotContext, session: BackendSession, day: int) -> int:
    """The flow with ``day`` already asked for ("mudar o vencimento para dia 20", free text:
    bot.conversations.free_text): its terms, once the contract is known, when the contract
    offers that day; else the days, saying why."""
    return await _begin(update, context, session, day)


async def _begin(
    update: Update, context: BotContext, session: BackendSession, day: int | None = None
) -> int:
    _clear(context)
    subscriber = await context.services.backend.get_subscriber(session)
    contracts = _contracts(subscriber)
    if not contracts:
        await show(update, t.NO_CONTRACTS, InlineKeyboardMarkup([menu_row()]))
        return _done(context)
    if len(contracts) == 1:
        return await _offer_days(update, context, session, contracts[0], several=False, day=day)
    if day is not None:
        _data(context)["asked_day"] = day  # proposed once the contract is chosen
    await ask_contract(
        update,
        t.CHOOSE_CONTRACT,
        contracts,
        lambda c: t.contract_button(c.number, c.plan.name, c.due_day),
        BUTTONS,
    )
    return CHOOSE_CONTRACT


@step(FLOW)
async def choose_contract(update: Update, context: BotContext, session: BackendSession) -> int:
    contract_id = BUTTONS.argument(update, "contract")
    subscriber = await context.services.backend.get_subscriber(session)
    contracts = _contracts(subscriber)
    contract = pressed_contract(contracts, contract_id)
    asked = _data(context).get("asked_day")
    several = len(contracts) > 1
    return await _offer_days(update, context, session, contract, several=several, day=asked)


async def _offer_days(
    update: Update,
    context: BotContext,
    session: BackendSession,
    contract: Contract,
    *,
    several: bool,
    day: int | None = None,
) -> int:
    """The days offered for ``contract``; with ``day`` (asked for in words), its terms."""
    options = await context.services.backend.get_due_day_options(session, contract.id)
    if options.pending is not None:
        return await _show_pending(
            update, context, contract, options, several=several, asked_day=day
        )
    data = _data(context)
    data.clear()
    data.update(
        contract=contract.id,
        number=contract.number,
        plan=contract.plan.name,
        current=options.current_day,
        days=[d for d in options.available_days if d != options.current_day],
        day=None,
        several=several,
    )
    if not data["days"]:
        text = t.no_other_day(contract.number, contract.plan.name, options.current_day)
        rows = [[button(t.BUTTON_CONTRACTS, BUTTONS.pack("contracts"))]] if several else []
        await show(update, text, InlineKeyboardMarkup([*rows, menu_row()]))
        return CHOOSE_CONTRACT if several else _done(context)
    if day is not None:
        return await _propose(update, data, day)
    return await _ask_day(update, data)


async def _show_pending(
    update: Update,
    context: BotContext,
    contract: Contract,
    options: DueDayOptions,
    *,
    several: bool,
    asked_day: int | None = None,
) -> int:
    """The contract has a request awaiting the provider: show it (day, protocol, date); the
    system takes no other request for the contract meanwhile, so no day is offered."""
    assert options.pending is not None
    _clear(context)
    text = t.pending_request(
        contract.number,
        contract.plan.name,
        options.current_day,
        options.pending.requested_day,
        options.pending.protocol,
        options.pending.requested_at,
        asked_day=asked_day,
    )
    rows = [[button(t.BUTTON_CONTRACTS, BUTTONS.pack("contracts"))]] if several else []
    await show(update, text, InlineKeyboardMarkup([*rows, menu_row()]))
    return CHOOSE_CONTRACT if several else _done(context)


async def _ask_day(update: Update, data: dict[str, Any], note: str | None = None) -> int:
    text = t.choose_day(data["number"], data["plan"], data["current"], note)
    await show(update, text, _days_keyboard(data))
    return CHOOSE_DAY


@step(FLOW)
async def back_to_days(update: Update, context: BotContext, session: BackendSession) -> int:
    data = _data(context)
    if "contract" not in data:  # an old button after the request was made
        return await _begin(update, context, session)
    return await _ask_day(update, data)


@step(FLOW)
async def choose_day(update: Update, context: BotContext, session: BackendSession) -> int:
    data = _data(context)
    if "contract" not in data:
        return await _begin(update, context, session)
    new_day = BUTTONS.number(update, "day", max_digits=2)
    if new_day not in data["days"]:  # forged, or a day no longer offered
        return await _ask_day(update, data, t.DAY_UNAVAILABLE)
    return await _propose(update, data, new_day)


@step(FLOW)
async def typed_day(update: Update, context: BotContext, session: BackendSession) -> int:
    """A day typed instead of tapped ("15", "dia 15", "pro dia 15"); other text goes on to
    free text (bot.conversations.free_text)."""
    assert update.message is not None and update.message.text is not None
    data = _data(context)
    asked = day_in(update.message.text, loose=True)
    if "contract" not in data or asked is None:
        return await _begin(update, context, session, asked)
    return await _propose(update, data, asked)


async def _propose(update: Update, data: dict[str, Any], new_day: int) -> int:
    """The terms of moving to ``new_day``, or the days again when it is not offered."""
    if new_day not in data["days"]:
        note = free_text_texts.day_not_offered(new_day, data["current"])
        return await _ask_day(update, data, note)
    data["day"] = new_day
    keyboard = InlineKeyboardMarkup(
        [
            [button(t.BUTTON_AGREE, BUTTONS.pack("agree"))],
            [button(t.BUTTON_BACK, BUTTONS.pack("days")), *menu_row()],
        ]
    )
    await show(update, t.terms(data["number"], data["plan"], data["current"], new_day), keyboard)
    return CONFIRM


@step(FLOW)
async def agree(update: Update, context: BotContext, session: BackendSession) -> int:
    data = _data(context)
    if "contract" not in data or not data.get("day"):
        return await _begin(update, context, session)
    backend = context.services.backend
    subscriber = await backend.get_subscriber(session)  # before the request: for the e-mails
    try:
        request = await backend.request_due_day_change(session, data["contract"], data["day"])
    except Rejected as refusal:
        # A request already awaiting the provider (asked on another screen, or the same day
        # again) is shown as such; any other refusal goes back to the days with its reason.
        options = await backend.get_due_day_options(session, data["contract"])
        contract = next((c for c in _contracts(subscriber) if c.id == data["contract"]), None)
        if options.pending is not None and contract is not None:
            return await _show_pending(
                update,
                context,
                contract,
                options,
                several=bool(data.get("several")),
                asked_day=data["day"],
            )
        data["day"] = None
        return await _ask_day(update, data, refusal.reason)
    _clear(context)
    logger.info(
        "due-day change requested: contract %s, day %s -> %s, protocol %s",
        request.contract_id,
        request.current_day,
        request.requested_day,
        request.protocol,
    )
    outcome, copied_to = await _email(update, context, subscriber, data, request)
    if outcome is mailer.DeliveryOutcome.SENT:
        text = t.requested_sent(request.requested_day, copied_to)
    elif outcome is mailer.DeliveryOutcome.QUEUED:
        text = t.requested_queued(request.requested_day)
    else:
        text = t.requested_no_email(request.requested_day)
    await show(update, text, InlineKeyboardMarkup([menu_row()]))
    await send(update, t.code(request.protocol))
    return _done(context)


async def _email(
    update: Update,
    context: BotContext,
    subscriber: Subscriber,
    data: dict[str, Any],
    request: DueDayChangeRequest,
) -> tuple[mailer.DeliveryOutcome, str | None]:
    """E-mail the request to the provider and a copy to the subscriber (when they have one)."""
    dispatcher = mailer.dispatcher_for(context.application)
    billing = dispatcher.billing_address
    if not dispatcher.enabled or billing is None:
        logger.info("e-mail disabled: due-day request %s not e-mailed", request.protocol)
        return mailer.DeliveryOutcome.DISABLED, None
    facts = t.RequestFacts(
        protocol=request.protocol,
        name=subscriber.name,
        subscriber_document=subscriber.document,
        number=data["number"],
        plan=data["plan"],
        current=request.current_day,
        new=request.requested_day,
        requested_at=request.requested_at,
    )
    copy_to = subscriber.email if mailer.is_address(subscriber.email) else None
    messages = [
        dispatcher.compose(
            billing,
            t.provider_email_subject(request.protocol, data["number"], request.requested_day),
            t.provider_email_body(facts, subscriber_email=copy_to),
            reply_to=copy_to,
        )
    ]
    if copy_to is not None:
        messages.append(
            dispatcher.compose(
                copy_to,
                t.subscriber_email_subject(request.protocol, request.requested_day),
                t.subscriber_email_body(facts, provider=current_provider(context).provider.name),
            )
        )
    if update.effective_chat is not None:
        await update.effective_chat.send_action(ChatAction.TYPING)
    return await dispatcher.send(messages), copy_to


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = on_buttons(BUTTONS)

    buttons = [
        on("contract", choose_contract, ID),
        on("contracts", start),
        on("day", choose_day, r"\w{1,10}"),
        on("days", back_to_days),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:due_day$")],
        states={
            CHOOSE_CONTRACT: buttons,
            CHOOSE_DAY: [*buttons, typed(FLOW, application, typed_day, free_text.TYPED_DAY)],
            CONFIRM: [on("agree", agree), *buttons],
        },
    )
