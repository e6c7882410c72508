"""Relaying a hand-off both ways, its buttons, and the no-reply job (issue 22).

Handlers run in :data:`GROUP`, before the guards: the team's group is not a subscriber's chat
(``guards.private_chats_only`` would answer it), and a subscriber in a hand-off talks to a person,
not to the screens. What a subscriber types during a login or password step is never relayed
(the step takes it, and ``stray_passwords`` deletes it).

Telegram: a message in a topic carries ``message_thread_id`` and ``is_topic_message``; the bot
sends back into it with ``message_thread_id`` (https://core.telegram.org/bots/api#message,
#sendmessage); photos and documents are sent on by ``file_id`` ("pass a file_id as String to send
a file that exists on the Telegram servers", #sending-files). ``getChatMember`` tells whether the
sender is an administrator of the group (#getchatmember) — only they may answer subscribers.
The bot must be an administrator of the group to receive its messages at all (privacy mode,
https://core.telegram.org/bots/features#privacy-mode).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from html import escape
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from backend_client.errors import BackendError
from bot.handlers import stray_passwords
from bot.provider import store as provider_store
from bot.services import sessions
from bot.services.context import BotContext, services_of
from bot.support import texts
from bot.support.handoff import (
    CHAT_KEY,
    PASSWORD_FLOWS,
    end_handoff,
    in_queue_keyboard,
    keyboard,
    open_ticket,
    start_handoff,
    store_of,
)
from bot.support.store import Handoff
from bot.ui.screens import answer_query, send

logger = logging.getLogger(__name__)

GROUP = -5
JOB_INTERVAL_SECONDS = 30
TEAM_STATUSES = frozenset({"creator", "administrator"})
# Commands (/menu, /start…) still reach the bot: the hand-off goes on meanwhile.
_RELAYED = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL


class _SupportChat(filters.MessageFilter):
    """Messages in the provider's ``[support] chat_id`` group (read per update)."""

    def __init__(self, application: Any) -> None:
        super().__init__(name="support_chat")
        self.application = application

    def filter(self, message: Message) -> bool:
        chat_id = provider_store.store_of(self.application).current.support.chat_id
        return chat_id is not None and message.chat_id == chat_id


def handlers(application: Any) -> list[Any]:
    """The hand-off's handlers, all for :data:`GROUP`."""
    return [
        MessageHandler(_SupportChat(application), from_team),
        CallbackQueryHandler(on_button, pattern=r"^support:"),
        MessageHandler(filters.ChatType.PRIVATE & _RELAYED, from_subscriber),
    ]


def install(application: Any) -> None:
    """Handlers in :data:`GROUP`; the no-reply check every :data:`JOB_INTERVAL_SECONDS`."""
    for handler in handlers(application):
        application.add_handler(handler, group=GROUP)


def schedule(application: Any) -> None:
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            offer_tickets, JOB_INTERVAL_SECONDS, first=JOB_INTERVAL_SECONDS, name="handoff-timeout"
        )


def _content(message: Message) -> tuple[str, str | None, str | None]:
    """(kind, text or caption, file_id)."""
    if message.photo:
        return "photo", message.caption, message.photo[-1].file_id
    if message.document is not None:
        return "document", message.caption, message.document.file_id
    return "text", message.text, None


async def _deliver(
    bot: Any, chat_id: int, kind: str, text: str | None, file_id: str | None, **extra: Any
) -> None:
    """Send on as plain text (no HTML: what people typed is shown as typed)."""
    if kind == "photo":
        await bot.send_photo(chat_id, file_id, caption=text, parse_mode=None, **extra)
    elif kind == "document":
        await bot.send_document(chat_id, file_id, caption=text, parse_mode=None, **extra)
    else:
        await bot.send_message(chat_id, text or "", parse_mode=None, **extra)


async def from_subscriber(update: Update, context: BotContext) -> None:
    message = update.effective_message
    chat_data = context.chat_data
    if message is None or chat_data is None or CHAT_KEY not in chat_data:
        return  # not in a hand-off: the screens take it
    if sessions.active_flow(chat_data) in PASSWORD_FLOWS or stray_passwords.was_deleted(context):
        return  # a password step takes it; it never reaches the team
    store = store_of(context.application)
    handoff = await store.current(message.chat_id)
    if handoff is None:
        chat_data.pop(CHAT_KEY, None)
        return
    kind, text, file_id = _content(message)
    await store.add_line(
        handoff.id, context.services.clock(), "subscriber", kind, text=text, file_id=file_id
    )
    try:
        await _deliver(
            context.bot, handoff.group_id, kind, text, file_id, message_thread_id=handoff.thread_id
        )
    except TelegramError as error:
        logger.warning("hand-off %s: not relayed to the team: %s", handoff.id, error.message)
        await send(update, texts.UNAVAILABLE, in_queue_keyboard())
    raise ApplicationHandlerStop


async def from_team(update: Update, context: BotContext) -> None:
    """A message in the team's group: relayed when it is in an open hand-off's topic and its
    sender administers the group; ``/encerrar`` ends the hand-off."""
    message = update.effective_message
    sender = update.effective_user
    if message is None or sender is None or sender.is_bot:
        raise ApplicationHandlerStop
    thread_id = message.message_thread_id if message.is_topic_message else None
    store = store_of(context.application)
    handoff = await store.in_topic(message.chat_id, thread_id) if thread_id else None
    command = (message.text or "").split(maxsplit=1)[0].split("@")[0] if message.text else ""
    if handoff is None:
        if command == "/encerrar" and thread_id:
            await context.bot.send_message(
                message.chat_id, texts.TEAM_NOT_OPEN, message_thread_id=thread_id
            )
        raise ApplicationHandlerStop
    member = await context.bot.get_chat_member(message.chat_id, sender.id)
    if member.status not in TEAM_STATUSES:
        await context.bot.send_message(
            message.chat_id, texts.TEAM_ADMINS_ONLY, message_thread_id=thread_id
        )
        raise ApplicationHandlerStop
    if command == "/encerrar":
        await end_handoff(context.application, handoff, "team", sender.first_name)
        raise ApplicationHandlerStop
    now = context.services.clock()
    if handoff.status == "queued" and await store.take(
        handoff.id, sender.id, sender.first_name, now
    ):
        await context.bot.send_message(handoff.chat_id, texts.taken(sender.first_name))
    else:
        handoff = await store.get(handoff.id) or handoff
        if handoff.agent_id is not None and handoff.agent_id != sender.id:
            # The first reply took the chat: one person answers the subscriber.
            await context.bot.send_message(
                message.chat_id,
                texts.TEAM_TAKEN.format(name=escape(handoff.agent_name or "")),
                message_thread_id=thread_id,
            )
            raise ApplicationHandlerStop
    kind, text, file_id = _content(message)
    if kind == "text" and not text:
        raise ApplicationHandlerStop  # a sticker, a poll…: not relayed
    await store.add_line(
        handoff.id, now, "team", kind, text=text, file_id=file_id, author_name=sender.first_name
    )
    await _deliver(context.bot, handoff.chat_id, kind, text, file_id)
    raise ApplicationHandlerStop


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    action = (query.data or "").split(":", 1)[1]
    if action == "start":
        await start_handoff(update, context)
        raise ApplicationHandlerStop
    store = store_of(context.application)
    handoff = await store.current(chat.id)
    if handoff is None:
        await answer_query(update, "Este atendimento já foi encerrado.")
        raise ApplicationHandlerStop
    await answer_query(update)
    if action == "end":
        await end_handoff(context.application, handoff, "subscriber")
        await send(update, texts.ENDED_BY_SUBSCRIBER, keyboard(("🏠 Menu", "menu:home")))
    elif action == "wait":
        await send(update, texts.KEEP_WAITING, in_queue_keyboard())
    elif action == "ticket":
        await _ticket_instead(update, context, handoff)
    raise ApplicationHandlerStop


async def _ticket_instead(update: Update, context: BotContext, handoff: Handoff) -> None:
    session = sessions.current(context.chat_data or {})
    if session is None:
        await send(update, texts.LOGIN_FIRST, keyboard(("🔑 Entrar", "login:start")))
        return
    try:
        protocol = await open_ticket(context, handoff, session)
    except BackendError:
        await send(update, texts.TICKET_FAILED, in_queue_keyboard())
        return
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            handoff.group_id,
            texts.TEAM_TICKET.format(protocol=protocol),
            message_thread_id=handoff.thread_id,
        )
    await end_handoff(context.application, handoff, "ticket")
    await send(update, texts.ticket_opened(protocol), keyboard(("🏠 Menu", "menu:home")))


async def offer_tickets(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job: a subscriber nobody answered within ``reply_timeout_minutes`` is offered a
    ticket with what they wrote (once per hand-off; the state is in the database, so a restart
    keeps counting from the hand-off's start)."""
    application = context.application
    services = services_of(application)
    support = provider_store.store_of(application).current.support
    limit = services.clock() - timedelta(minutes=support.reply_timeout_minutes)
    store = store_of(application)
    for handoff in await store.waiting(limit):
        try:
            await application.bot.send_message(
                handoff.chat_id,
                texts.NO_REPLY,
                reply_markup=keyboard(
                    (texts.BUTTON_TICKET, "support:ticket"),
                    (texts.BUTTON_WAIT, "support:wait"),
                    (texts.BUTTON_END, "support:end"),
                ),
            )
        except TelegramError as error:
            logger.warning("hand-off %s: no-reply offer not sent: %s", handoff.id, error.message)
            continue
        await store.mark_offered(handoff.id)
