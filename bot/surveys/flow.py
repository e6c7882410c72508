"""The survey in the chat: the offer (0-10 buttons), the score, the optional comment.

An offer is stored first (at most one per subscriber in 30 days, ``SurveyStore.offer``) with the
time it may be sent — now, or the end of quiet hours — and sent by :func:`send_due`, at once and
from a repeating job, so a restart or quiet hours lose nothing. A score is recorded once, however
often its button is pressed; then the next text message of that chat, within
:data:`COMMENT_MINUTES`, is the comment — unless a guided flow is waiting for that text (flows
are registered before this handler, so they take it) or the subscriber taps "Pular".
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.notifications.jobs import add_sent_listener
from bot.provider.store import store_of as provider_store_of
from bot.services import sessions
from bot.services.context import BotContext, services_of
from bot.support.handoff import add_ended_listener
from bot.support.store import Handoff
from bot.surveys import texts
from bot.surveys.store import SurveyStore
from bot.ui.callbacks import Buttons
from bot.ui.screens import answer_query

logger = logging.getLogger(__name__)
BUTTONS = Buttons("nps")
STORE_KEY = "surveys"
COMMENT_KEY = "survey_comment"  # chat_data: {"id": survey id, "until": ISO time}
COMMENT_MINUTES = 30
SEND_INTERVAL = 60.0


def store_of(application: Any) -> SurveyStore:
    store = application.bot_data.get(STORE_KEY)
    if store is None:
        store = application.bot_data[STORE_KEY] = SurveyStore(application.bot_data["engine"])
    return store


def install(application: Any) -> None:
    """Hook the survey after hand-offs and ticket closures, and add its handlers."""
    add_ended_listener(application, _after_handoff)
    add_sent_listener(application, _after_notification)
    application.add_handler(
        CallbackQueryHandler(on_score, pattern=BUTTONS.pattern("s", r"\d{1,9}:\d{1,2}"))
    )
    application.add_handler(CallbackQueryHandler(on_skip, pattern=BUTTONS.pattern("skip", r"\d+")))


def comment_handler(application: Any) -> MessageHandler[Any, Any]:
    """Register after the guided flows, before free text: it takes a chat's text only while
    that chat owes a comment."""
    return _PendingComment(application)


class _PendingComment(MessageHandler[Any, Any]):
    def __init__(self, application: Any) -> None:
        super().__init__(filters.TEXT & ~filters.COMMAND, on_comment)
        self._application = application

    def check_update(self, update: object) -> Any:
        found = super().check_update(update)
        if not found or not isinstance(update, Update) or update.effective_chat is None:
            return None
        chat_data = self._application.chat_data.get(update.effective_chat.id) or {}
        pending = chat_data.get(COMMENT_KEY)
        if not isinstance(pending, dict):
            return None
        now = services_of(self._application).clock()
        try:
            until = datetime.fromisoformat(str(pending.get("until")))
        except ValueError:
            return None
        return found if now < until else None


# --- offering ----------------------------------------------------------------------------------
async def offer(
    application: Any,
    chat_id: int,
    subscriber_id: str,
    trigger: str,
    reference: str | None = None,
    member: str | None = None,
) -> bool:
    """Offer the survey (stored, then sent now or after quiet hours); False when this subscriber
    was asked in the last 30 days."""
    services = services_of(application)
    now = services.clock()
    send_after = services.planner.quiet_hours.next_allowed(now)
    survey = await store_of(application).offer(
        subscriber_id, chat_id, trigger, reference, member, now, send_after
    )
    if survey is None:
        return False
    await send_due(application)
    return True


async def send_due(application: Any) -> int:
    """Send the offers whose time has come; returns how many went out."""
    store = store_of(application)
    now = services_of(application).clock()
    provider_name = provider_store_of(application).current.provider.name
    sent = 0
    for survey in await store.due(now):
        if not await store.mark_sent(survey.id, now):
            continue  # another sender took it
        rows = [
            [InlineKeyboardButton(str(n), callback_data=BUTTONS.pack("s", survey.id, n))
             for n in numbers]
            for numbers in (range(0, 6), range(6, 11))
        ]  # fmt: skip
        try:
            await application.bot.send_message(
                survey.chat_id,
                texts.question(provider_name, survey.trigger),
                parse_mode=ParseMode.HTML,
                reply_markup=InlineKeyboardMarkup(rows),
            )
            sent += 1
        except TelegramError as error:  # a blocked chat: the offer is simply not made
            logger.info("survey %s not delivered: %s", survey.id, type(error).__name__)
    return sent


async def _send_job(context: Any) -> None:
    await send_due(context.application)


def schedule(application: Any) -> None:
    """The offers deferred by quiet hours (or left by a restart) go out within a minute."""
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _send_job, interval=SEND_INTERVAL, first=1, name="survey-send"
        )


async def _after_handoff(application: Any, handoff: Handoff) -> None:
    if handoff.agent_name is None:
        return  # nobody on the team answered: there is nothing to rate
    subscriber_id = await _subscriber_of(application, handoff.chat_id)
    if subscriber_id is None:
        logger.info("survey after hand-off %s: the chat's subscriber is unknown", handoff.id)
        return
    first_name = (handoff.agent_name.split() or [None])[0]
    await offer(application, handoff.chat_id, subscriber_id, "handoff", str(handoff.id), first_name)


async def _after_notification(
    application: Any, chat_id: int, kind: str, payload: dict[str, Any]
) -> None:
    if kind != "ticket_closed":
        return
    subscriber_id = await _subscriber_of(application, chat_id)
    if subscriber_id is not None:
        reference = payload.get("protocol") or payload.get("ticket_id")
        await offer(application, chat_id, subscriber_id, "ticket", reference and str(reference))


async def _subscriber_of(application: Any, chat_id: int) -> str | None:
    """The chat's subscriber: its logged-in session, else the contact it is linked to."""
    session = sessions.current(application.chat_data.get(chat_id) or {})
    if session is not None:
        return str(session.subscriber_id)
    link = await services_of(application).notifications.get_link(chat_id)
    return link.subscriber_id if link is not None and link.active else None


# --- answering ---------------------------------------------------------------------------------
async def on_score(update: Update, context: BotContext) -> None:
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    survey_id, _, raw_score = BUTTONS.argument(update, "s").partition(":")
    score = int(raw_score)
    if not 0 <= score <= 10:
        await answer_query(update)
        return
    store = store_of(context.application)
    if not await store.answer(int(survey_id), chat.id, score, context.services.clock()):
        await answer_query(update, texts.ALREADY_ANSWERED)
        return
    await answer_query(update)
    if context.chat_data is not None:
        until = context.services.clock() + timedelta(minutes=COMMENT_MINUTES)
        context.chat_data[COMMENT_KEY] = {"id": int(survey_id), "until": until.isoformat()}
    skip = InlineKeyboardButton(texts.BUTTON_SKIP, callback_data=BUTTONS.pack("skip", survey_id))
    await query.edit_message_text(
        texts.thanks_for_score(score),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[skip]]),
    )


async def on_skip(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    await answer_query(update)
    if context.chat_data is not None:
        context.chat_data.pop(COMMENT_KEY, None)
    await query.edit_message_text(texts.THANKS)


async def on_comment(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or context.chat_data is None:
        return
    pending = context.chat_data.pop(COMMENT_KEY, None) or {}
    text = (message.text or "").strip()
    if text and await store_of(context.application).comment(int(pending["id"]), chat.id, text):
        await message.reply_text(texts.THANKS_FOR_COMMENT)
    else:
        await message.reply_text(texts.THANKS)
