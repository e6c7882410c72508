"""Habilitação Provisória (seed 1.3): re-enable a suspended contract for a few days.

States:
    CHOOSE_CONTRACT → more than one contract is suspended: pick one
    CONFIRM         → the provider's rule (days, interval) and a confirmation button

A subscriber with nothing suspended gets the seed's message right away; an ineligible contract
gets the provider's reason (e.g. used less than the interval ago, with the date it becomes
possible again). The contract id travels in the buttons; the backend checks it belongs to the
subscriber (a forged one → NotFound → polite message). Nothing is kept in chat_data.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.errors import Rejected
from backend_client.models import BackendSession, Contract, ContractStatus
from bot.conversations.common import ask_contract, flow, on_buttons, pressed_contract
from bot.handlers.access import END, leave, step
from bot.services.context import BotContext
from bot.ui.callbacks import ID, Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import send, show
from bot.ui.texts import enabling as t

FLOW = "enabling"
PREFIX = "hab"
BUTTONS = Buttons(PREFIX)
CHOOSE_CONTRACT, CONFIRM = range(2)
# Contracts for which asking makes sense: suspended, or already enabled (the provider explains).
CANDIDATES = (ContractStatus.SUSPENDED, ContractStatus.TEMPORARILY_ENABLED)


def _done(context: BotContext) -> int:
    """The flow is over: leave it (nothing of it is kept)."""
    leave(context)
    return END


def _back_keyboard(several: bool) -> InlineKeyboardMarkup:
    rows = [[button(t.BUTTON_CONTRACTS, BUTTONS.pack("contracts"))]] if several else []
    rows.append(menu_row())
    return InlineKeyboardMarkup(rows)


async def _candidates(context: BotContext, session: BackendSession) -> list[Contract]:
    subscriber = await context.services.backend.get_subscriber(session)
    return [c for c in subscriber.contracts if c.status in CANDIDATES]


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    candidates = await _candidates(context, session)
    if not candidates:
        await show(update, t.NOTHING_SUSPENDED, InlineKeyboardMarkup([menu_row()]))
        return _done(context)
    if len(candidates) == 1:
        return await _offer(update, context, session, candidates[0], several=False)
    await ask_contract(update, t.CHOOSE_CONTRACT, candidates, t.contract_button, BUTTONS)
    return CHOOSE_CONTRACT


@step(FLOW)
async def choose_contract(update: Update, context: BotContext, session: BackendSession) -> int:
    contract_id = BUTTONS.argument(update, "contract")
    subscriber = await context.services.backend.get_subscriber(session)
    contract = pressed_contract(subscriber.contracts, contract_id)
    several = sum(1 for c in subscriber.contracts if c.status in CANDIDATES) > 1
    return await _offer(update, context, session, contract, several=several)


async def _offer(
    update: Update,
    context: BotContext,
    session: BackendSession,
    contract: Contract,
    *,
    several: bool,
) -> int:
    if contract.status not in CANDIDATES:
        await show(update, t.not_suspended(contract), _back_keyboard(several))
        return CHOOSE_CONTRACT if several else _done(context)
    policy = await context.services.backend.get_temporary_enabling_policy(session, contract.id)
    if not policy.eligible:
        await show(update, t.not_eligible(contract, policy.reason), _back_keyboard(several))
        return CHOOSE_CONTRACT if several else _done(context)
    rows = [[button(t.BUTTON_CONFIRM, BUTTONS.pack("confirm", contract.id))]]
    rows += _back_keyboard(several).inline_keyboard
    await show(update, t.confirm(contract, policy), InlineKeyboardMarkup(rows))
    return CONFIRM


@step(FLOW)
async def confirm(update: Update, context: BotContext, session: BackendSession) -> int:
    contract_id = BUTTONS.argument(update, "confirm")
    backend = context.services.backend
    subscriber = await backend.get_subscriber(session)
    contract = pressed_contract(subscriber.contracts, contract_id)
    try:
        enabling = await backend.request_temporary_enabling(session, contract.id)
    except Rejected as refusal:  # e.g. asked again inside the interval: says from when
        await show(update, t.refused(refusal.reason), InlineKeyboardMarkup([menu_row()]))
        return _done(context)
    keyboard = InlineKeyboardMarkup([[button(t.BUTTON_INVOICES, "menu:invoices"), *menu_row()]])
    # Some systems answer without a protocol: then none is announced, nor sent (empty).
    protocol = enabling.protocol.strip()
    await show(
        update, t.enabled(contract, enabling.enabled_until, has_protocol=bool(protocol)), keyboard
    )
    if protocol:
        await send(update, t.code(protocol))
    return _done(context)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = on_buttons(BUTTONS)

    buttons = [
        on("contract", choose_contract, ID),
        on("contracts", start),
        on("confirm", confirm, ID),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:enabling$")],
        states={CHOOSE_CONTRACT: buttons, CONFIRM: buttons},
    )
