"""Starting and ending a hand-off to the provider's team (issue 22).

:func:`start_handoff` is the entry from anywhere (the menu's button, an apology's button, the
``human`` intent, self-help): callback data ``support:start`` reaches it too. During the team's
hours it opens (or reuses) the subscriber's forum topic in the ``[support] chat_id`` supergroup,
posts a summary card and puts the subscriber in the queue; outside them it offers a ticket.
:func:`end_handoff` ends it (either side) and tells the listeners added with
:func:`add_ended_listener` — the satisfaction survey hooks in there.

Telegram: ``createForumTopic`` (chat_id, name of 1-128 characters) returns a ForumTopic with its
``message_thread_id``; ``closeForumTopic``/``reopenForumTopic`` take chat_id and
message_thread_id; ``sendMessage`` takes ``message_thread_id`` "for forum supergroups only"
(https://core.telegram.org/bots/api#createforumtopic, #closeforumtopic, #sendmessage).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from backend_client.errors import BackendError
from backend_client.features import Feature
from backend_client.models import BackendSession, InvoiceStatus, NewTicket, TicketStatus
from bot.provider import store as provider_store
from bot.services import sessions
from bot.services.context import BotContext, services_of
from bot.support import texts
from bot.support.store import Handoff, HandoffStore
from bot.ui.screens import answer_query, send

logger = logging.getLogger(__name__)

STORE_KEY = "support.store"
LISTENERS_KEY = "support.on_ended"
CHAT_KEY = "handoff_id"  # chat_data: the open hand-off (a fast path; the database decides)
PASSWORD_FLOWS = frozenset({"login", "password"})
TOPIC_NAME_LIMIT = 128

EndedListener = Callable[[Any, Handoff], Awaitable[None]]


def store_of(application: Any) -> HandoffStore:
    store = application.bot_data.get(STORE_KEY)
    if store is None:
        store = application.bot_data[STORE_KEY] = HandoffStore(application.bot_data["engine"])
    return store


def add_ended_listener(application: Any, listener: EndedListener) -> None:
    """``listener(application, handoff)`` runs after every hand-off ends (the survey's hook)."""
    application.bot_data.setdefault(LISTENERS_KEY, []).append(listener)


def masked_document(document: str) -> str:
    """The middle of a CPF (``***.456.789-**``) or CNPJ (``**.ABC.345/****-**``); never all."""
    clean = re.sub(r"[^0-9A-Za-z]", "", document).upper()
    if len(clean) == 11:
        return f"***.{clean[3:6]}.{clean[6:9]}-**"
    if len(clean) == 14:
        return f"**.{clean[2:5]}.{clean[5:8]}/****-**"
    return "***"


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


def in_queue_keyboard() -> InlineKeyboardMarkup:
    return keyboard((texts.BUTTON_END, "support:end"))


async def start_handoff(update: Update, context: BotContext) -> None:
    """ "Falar com atendente": hand the chat to the team, or say why not."""
    await answer_query(update)
    chat = update.effective_chat
    if chat is None:
        return
    chat_data = context.chat_data if context.chat_data is not None else {}
    support = provider_store.current(context).support
    session = sessions.current(chat_data)
    if support.chat_id is None:
        await send(update, texts.NOT_AVAILABLE, keyboard((texts.BUTTON_TICKET, "tk:new")))
        return
    if session is None:
        await send(update, texts.LOGIN_FIRST, keyboard(("🔑 Entrar", "login:start")))
        return
    if sessions.active_flow(chat_data) in PASSWORD_FLOWS:
        await send(update, texts.NOT_FROM_PASSWORD)
        return
    store = store_of(context.application)
    if await store.current(chat.id) is not None:
        await send(update, texts.ALREADY, in_queue_keyboard())
        return
    now = context.services.clock()
    if not support.is_open(now):
        await send(
            update,
            texts.out_of_hours(support.hours_text),
            keyboard((texts.BUTTON_TICKET, "tk:new"), ("🏠 Menu", "menu:home")),
        )
        return
    sessions.leave_flow(chat_data)
    try:
        handoff = await _open(context, support.chat_id, chat.id, session, now)
    except TelegramError as error:
        logger.warning("hand-off: the team's group refused the topic: %s", error.message)
        await send(update, texts.UNAVAILABLE)
        return
    chat_data[CHAT_KEY] = handoff.id
    await send(update, texts.QUEUED, in_queue_keyboard())


async def _open(
    context: BotContext, group_id: int, chat_id: int, session: BackendSession, now: datetime
) -> Handoff:
    backend = context.services.backend
    store = store_of(context.application)
    bot = context.bot
    subscriber = None
    with contextlib.suppress(BackendError):
        subscriber = await backend.get_subscriber(session)
    thread_id = await store.topic(chat_id, group_id)
    if thread_id is not None:
        try:
            await bot.reopen_forum_topic(group_id, thread_id)
        except TelegramError as error:
            if "TOPIC_NOT_MODIFIED" not in error.message:  # open already: fine
                thread_id = None  # deleted by the team: a new one
    if thread_id is None:
        contract = subscriber.contracts[0].number if subscriber and subscriber.contracts else ""
        parts = [session.name, masked_document(session.document)]
        if contract:
            parts.append(f"contrato {contract}")
        name = " · ".join(parts)[:TOPIC_NAME_LIMIT]
        topic = await bot.create_forum_topic(group_id, name)
        thread_id = topic.message_thread_id
        await store.save_topic(chat_id, group_id, thread_id)
    card = await summary_card(context, session, subscriber)
    await bot.send_message(group_id, card, message_thread_id=thread_id)
    return await store.open(chat_id, group_id, thread_id, now)  # after the card: none without


async def summary_card(context: BotContext, session: BackendSession, subscriber: Any) -> str:
    """The card the team sees first: plan, connection, open invoices, recent tickets."""
    backend = context.services.backend
    lines = [f"🆕 <b>{escape(session.name)}</b> · {masked_document(session.document)}"]
    if subscriber is None:
        lines.append("(o sistema do provedor não respondeu: sem resumo)")
        return "\n".join(lines)
    for contract in subscriber.contracts:
        online = any(login.online for login in contract.logins)
        connection = "online" if online else "offline"
        if not contract.logins:
            connection = "sem login de acesso"
        lines.append(
            f"📄 Contrato {escape(contract.number)} · {escape(contract.plan.name)} · "
            f"{escape(str(contract.status))} · conexão {connection}"
        )
    try:
        invoices = await backend.list_invoices(session, statuses=frozenset({InvoiceStatus.OPEN}))
        today = context.services.clock().date()
        overdue = sum(1 for invoice in invoices if invoice.due_date < today)
        lines.append(f"💰 Faturas em aberto: {len(invoices)} (vencidas: {overdue})")
    except BackendError:
        lines.append("💰 Faturas: o sistema não respondeu")
    try:
        tickets = (await backend.list_tickets(session))[:3]
        for ticket in tickets:
            state = "fechado" if ticket.status is TicketStatus.CLOSED else "aberto"
            lines.append(f"🎫 {escape(ticket.protocol)} · {escape(ticket.subject)} · {state}")
        if not tickets:
            lines.append("🎫 Nenhum chamado recente")
    except BackendError:
        lines.append("🎫 Chamados: o sistema não respondeu")
    lines.append("Responda neste tópico; /encerrar termina o atendimento.")
    return "\n".join(lines)


async def transcript(store: HandoffStore, handoff: Handoff) -> str:
    """The conversation as plain text (for a ticket message)."""
    lines = [texts.transcript_heading(handoff.agent_name)]
    for line in await store.lines(handoff.id):
        who = "Cliente" if line.author == "subscriber" else (line.author_name or "Equipe")
        what = line.text or ""
        if line.kind != "text":
            what = f"[{'foto' if line.kind == 'photo' else 'documento'}] {what}".strip()
        lines.append(f"{line.at.strftime('%d/%m %H:%M')} {who}: {what}")
    return "\n".join(lines)


async def end_handoff(application: Any, handoff: Handoff, by: str, who: str = "") -> bool:
    """End ``handoff`` (``by`` "subscriber", "team" or "ticket"); tell both sides, close the
    topic, record the conversation in its ticket when it has one, run the listeners. False when
    it had ended already."""
    services = services_of(application)
    store = store_of(application)
    ended = await store.end(handoff.id, by, services.clock())
    if ended is None:
        return False
    chat_data = application.chat_data.get(handoff.chat_id)
    if chat_data is not None:
        chat_data.pop(CHAT_KEY, None)
        application.mark_data_for_update_persistence(chat_ids=handoff.chat_id)
    bot = application.bot
    note = {
        "subscriber": texts.TEAM_ENDED_BY_SUBSCRIBER,
        "team": texts.TEAM_ENDED_BY_TEAM.format(name=escape(who)),
    }.get(by)
    with contextlib.suppress(TelegramError):
        if note:
            await bot.send_message(handoff.group_id, note, message_thread_id=handoff.thread_id)
        await bot.close_forum_topic(handoff.group_id, handoff.thread_id)
    if by == "team":
        with contextlib.suppress(TelegramError):
            await bot.send_message(
                handoff.chat_id,
                texts.ENDED_BY_TEAM,
                reply_markup=keyboard(("🏠 Menu", "menu:home")),
            )
    session = sessions.current(chat_data or {})
    if by != "ticket" and session is not None and not services.lacks(Feature.NEW_TICKET):
        # The conversation as a ticket message in the provider's system (it stays here too).
        try:
            await _record_in_ticket(services.backend, store, ended, session)
            ended = await store.get(ended.id) or ended
        except BackendError as error:
            logger.info("hand-off %s: kept in the bot only: %s", ended.id, type(error).__name__)
    for listener in application.bot_data.get(LISTENERS_KEY, []):
        try:
            await listener(application, ended)
        except Exception:  # a listener's failure must not undo the end
            logger.exception("hand-off: an on-ended listener failed")
    return True


async def _record_in_ticket(
    backend: Any, store: HandoffStore, handoff: Handoff, session: BackendSession
) -> None:
    if not await store.lines(handoff.id):
        return  # nothing was said
    if handoff.ticket_id:
        await backend.reply_ticket(session, handoff.ticket_id, await transcript(store, handoff))
    else:
        await _new_ticket(backend, store, handoff, session)


async def open_ticket(context: BotContext, handoff: Handoff, session: BackendSession) -> str:
    """A ticket in the provider's system with what the subscriber wrote; its protocol."""
    return await _new_ticket(
        context.services.backend, store_of(context.application), handoff, session
    )


async def _new_ticket(
    backend: Any, store: HandoffStore, handoff: Handoff, session: BackendSession
) -> str:
    subjects = await backend.list_ticket_subjects(session)
    if not subjects:
        raise BackendError("the system offers no ticket subject")
    wanted = ("atendimento", "outros", "suporte")
    chosen = next((s for s in subjects if s.name.casefold() in wanted), subjects[0])
    subscriber = await backend.get_subscriber(session)
    contract_id = subscriber.contracts[0].id if subscriber.contracts else None
    ticket = await backend.open_ticket(
        session,
        NewTicket(
            subject_id=chosen.id,
            description=await transcript(store, handoff),
            contract_id=contract_id,
            idempotency_key=f"handoff-{handoff.id}",
        ),
    )
    await store.set_ticket(handoff.id, ticket.id)
    return ticket.protocol
