"""📶 Estou sem internet (issue 22): diagnosis first, then guided steps, then a person.

States:
    CHOOSE_CONTRACT → several contracts: which address is down
    STEPPING        → a diagnosis or a step on screen, with "✅ Voltou!" / "❌ Continua sem
                      internet" (or "Testar mesmo assim" under an area outage)
    OFFER           → still down after the steps: a ticket "Sem conexão" with the diagnosis and
                      the steps tried already written (confirmed before it is sent, in the
                      tickets flow), and "Falar com atendente" in support hours

Diagnosis, per contract: suspended (blocked for non-payment → Faturas, Habilitação Provisória);
an outage in its area (declared by staff, bot.outages, or known to the system) with its
forecast; each access login online or not with its last session. Entered from the menu
(``menu:no_internet``) and from the ``no_internet`` intent (bot.conversations.free_text).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ConversationHandler

from backend_client.errors import BackendError, NotFound
from backend_client.features import Feature
from backend_client.models import (
    AccessLogin,
    BackendSession,
    ConnectionSession,
    Contract,
    ContractStatus,
    DateRange,
)
from bot.conversations import opening
from bot.conversations.common import flow
from bot.handlers.access import END, leave, step
from bot.outages.service import outages_at, store_of
from bot.outages.watch import watch
from bot.provider.store import current
from bot.services.context import BotContext
from bot.support.handoff import start_handoff
from bot.ui.callbacks import ID, Buttons
from bot.ui.formatting import local_time
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import no_internet as t

FLOW = "no_internet"
PREFIX = "net"
BUTTONS = Buttons(PREFIX)
CHOOSE_CONTRACT, STEPPING, OFFER = range(3)
# How far back the last session of an access login is looked for.
SESSIONS_WINDOW = timedelta(days=30)

Logins = list[tuple[AccessLogin, ConnectionSession | None]]


def _done(context: BotContext) -> int:
    leave(context)
    return END


def _answers(step_index: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(t.BUTTON_BACK_ONLINE, BUTTONS.pack("ok"))],
            [button(t.BUTTON_STILL_DOWN, BUTTONS.pack("still", step_index))],
        ]
    )


async def _contracts(context: BotContext, session: BackendSession) -> list[Contract]:
    subscriber = await context.services.backend.get_subscriber(session)
    return [c for c in subscriber.contracts if c.status is not ContractStatus.CANCELLED]


async def _contract(context: BotContext, session: BackendSession, contract_id: str) -> Contract:
    found = next((c for c in await _contracts(context, session) if c.id == contract_id), None)
    if found is None:
        raise NotFound(f"contract {contract_id}")
    return found


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    assert context.chat_data is not None
    context.chat_data[FLOW] = {}
    contracts = await _contracts(context, session)
    if not contracts:
        await show(update, t.NO_CONTRACTS, InlineKeyboardMarkup([menu_row()]))
        return _done(context)
    if len(contracts) == 1:
        return await _diagnose(update, context, session, contracts[0])
    rows = [[button(t.contract_button(c), BUTTONS.pack("contract", c.id))] for c in contracts]
    rows.append(menu_row())
    await show(update, t.CHOOSE_CONTRACT, InlineKeyboardMarkup(rows))
    return CHOOSE_CONTRACT


@step(FLOW)
async def choose_contract(update: Update, context: BotContext, session: BackendSession) -> int:
    contract = await _contract(context, session, BUTTONS.argument(update, "contract"))
    return await _diagnose(update, context, session, contract)


async def _last_session(
    context: BotContext, session: BackendSession, login: AccessLogin
) -> ConnectionSession | None:
    if context.services.lacks(Feature.CONNECTIONS):
        return None
    today = local_time(context.services.clock()).date()
    try:
        found = await context.services.backend.list_connection_sessions(
            session, login.id, DateRange(today - SESSIONS_WINDOW, today)
        )
    except BackendError:  # the diagnosis goes on without it
        return None
    return max(found, key=lambda s: s.started_at, default=None)


async def _logins(context: BotContext, session: BackendSession, contract: Contract) -> Logins:
    return [(login, await _last_session(context, session, login)) for login in contract.logins]


async def _diagnose(
    update: Update, context: BotContext, session: BackendSession, contract: Contract
) -> int:
    data = context.flow_data(FLOW)
    data["contract"], data["tried"] = contract.id, 0
    if contract.status is ContractStatus.SUSPENDED:
        rows = []
        if opening.offered(context, "invoices"):
            rows.append([button(t.BUTTON_INVOICES, "menu:invoices")])
        if opening.offered(context, "enabling"):
            rows.append([button(t.BUTTON_ENABLING, "menu:enabling")])
        rows.append(menu_row())
        await show(update, t.suspended(contract), InlineKeyboardMarkup(rows))
        return _done(context)
    store = store_of(context.application)
    outages = await outages_at(context.services, store, session, contract.address)
    if outages:
        now = context.services.clock()
        first = outages[0]
        data["outage"] = first.description
        # The area as the subscriber's address names it (staff may type "CAMBUI, campinas").
        address = contract.address
        hood = address.neighbourhood if first.neighbourhood else None
        text = t.outage(address.city, hood, first.description, first.forecast, now)
        rows = [[button(t.BUTTON_TRY_STEPS, BUTTONS.pack("steps"))], menu_row()]
        if first.declared_id is not None:
            rows.insert(0, [button(t.BUTTON_WATCH, BUTTONS.pack("watch", first.declared_id))])
        await show(update, text, InlineKeyboardMarkup(rows))
        return STEPPING
    return await _status_and_first_step(update, context, session, contract)


async def _status_and_first_step(
    update: Update, context: BotContext, session: BackendSession, contract: Contract
) -> int:
    logins = await _logins(context, session, contract)
    online = bool(logins) and all(login.online for login, _ in logins)
    await show(update, t.diagnosis(contract, t.status(logins), online))
    await send(update, t.STEPS[0], _answers(0))
    return STEPPING


@step(FLOW)
async def steps(update: Update, context: BotContext, session: BackendSession) -> int:
    """ "Testar mesmo assim" under an area outage."""
    contract = await _contract(context, session, str(context.flow_data(FLOW).get("contract")))
    return await _status_and_first_step(update, context, session, contract)


@step(FLOW)
async def watch_outage(update: Update, context: BotContext, session: BackendSession) -> int:
    """ "Avise-me quando voltar": told when staff end that (active, declared) outage."""
    raw = BUTTONS.argument(update, "watch")
    found = await store_of(context.application).get(int(raw)) if raw.isdigit() else None
    if found is None or found.ended_at is not None:  # over meanwhile, or forged
        text = t.outage_over(found.city, found.neighbourhood) if found else t.BACK_ONLINE
        await show(update, text, InlineKeyboardMarkup([menu_row()]))
        return _done(context)
    assert context.chat_data is not None
    watch(context.chat_data, found.id)
    await show(update, t.WATCHING, InlineKeyboardMarkup([menu_row()]))
    return _done(context)


@step(FLOW)
async def back_online(update: Update, context: BotContext, session: BackendSession) -> int:
    await show(update, t.BACK_ONLINE, InlineKeyboardMarkup([menu_row()]))
    return _done(context)


@step(FLOW)
async def still_down(update: Update, context: BotContext, session: BackendSession) -> int:
    tried = int(BUTTONS.argument(update, "still")) + 1
    context.flow_data(FLOW)["tried"] = tried
    if tried < len(t.STEPS):
        await answer_query(update)
        await send(update, t.STEPS[tried], _answers(tried))
        return STEPPING
    rows = []
    can_ticket = opening.offered(context, "tickets") and not context.services.lacks(
        Feature.NEW_TICKET
    )
    if can_ticket:
        rows.append([button(t.BUTTON_TICKET, BUTTONS.pack("ticket"))])
    support = current(context).support
    human = support.chat_id is not None and support.is_open(context.services.clock())
    if human:
        rows.append([button(t.BUTTON_HUMAN, BUTTONS.pack("human"))])
    rows.append(menu_row())
    if can_ticket:
        text = t.STILL_DOWN + (t.STILL_DOWN_HUMAN if human else t.STILL_DOWN_END)
    else:
        text = t.NOTHING_MORE
    await answer_query(update)
    await send(update, text, InlineKeyboardMarkup(rows))
    return OFFER


@step(FLOW)
async def ticket(update: Update, context: BotContext, session: BackendSession) -> int:
    """A ticket "Sem conexão" (else "Outros") with the diagnosis and the steps tried already
    in its description: the tickets flow shows its summary, to confirm before it is sent."""
    from bot.conversations.tickets import compose

    data = context.flow_data(FLOW)
    contract = await _contract(context, session, str(data.get("contract")))
    logins = await _logins(context, session, contract)
    description = t.ticket_description(
        contract, logins, int(data.get("tried", 0)), outage=data.get("outage")
    )
    leave(context)

    async def new_ticket(update: Update, context: BotContext, session: BackendSession) -> object:
        return await compose.new_ticket_on(
            update, context, session, t.SUBJECT, fallback=t.FALLBACK_SUBJECT,
            text=description, contract_id=contract.id,
        )  # fmt: skip

    await opening.in_flow(update, context, "tickets", compose.FLOW, new_ticket)
    return END


@step(FLOW)
async def human(update: Update, context: BotContext, session: BackendSession) -> int:
    leave(context)
    await start_handoff(update, context)
    return END


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    def on(action: str, callback: Any, argument: str | None = None) -> CallbackQueryHandler:  # type: ignore[type-arg]
        return CallbackQueryHandler(callback, pattern=BUTTONS.pattern(action, argument))

    buttons = [
        on("contract", choose_contract, ID),
        on("steps", steps),
        on("ok", back_online),
        on("watch", watch_outage, r"[0-9]{1,9}"),
        on("still", still_down, ID),
        on("ticket", ticket),
        on("human", human),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=r"^menu:no_internet$")],
        states={CHOOSE_CONTRACT: buttons, STEPPING: buttons, OFFER: buttons},
    )
