"""Showing a screen: edit the message whose button was pressed, or send a new one.

The rules Telegram enforces live here once: every callback query is answered, a message is never
edited to identical content (a double tap), and long texts are split under the size limit.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import Bot, Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from bot.telegram_html import TEXT_LIMIT
from bot.ui.formatting import plain_text, split_message

logger = logging.getLogger(__name__)


# Queries answered lately, by id (Telegram's ids are unique): a callback query may be answered
# once only; a second answerCallbackQuery is refused with 400 "query is too old and response
# timeout expired or query ID is invalid" (QUERY_ID_INVALID, see tdlib/telegram-bot-api
# telegram-bot-api/Client.cpp). Kept here, not on the update (frozen, no weak references) nor
# on the context (the error handler gets a new one); a few thousand ids are far more than the
# updates handled at once (CONCURRENT_UPDATES).
_ANSWERED: OrderedDict[str, None] = OrderedDict()
_ANSWERED_LIMIT = 8192


async def answer_query(update: Update, text: str | None = None) -> None:
    """Answer the button press, once per update whatever path calls this (a later call, with or
    without a text, does nothing); an expired query is harmless.

    Every press must be answered: clients show a progress bar until answerCallbackQuery is
    called (https://core.telegram.org/bots/api#callbackquery); ``commands.answer_unanswered``
    answers, last of all, a press no path answered.
    """
    query = update.callback_query
    if query is None or query.id in _ANSWERED:
        return
    _ANSWERED[query.id] = None  # before the call: a concurrent or failed path never answers again
    while len(_ANSWERED) > _ANSWERED_LIMIT:
        _ANSWERED.popitem(last=False)
    try:
        await query.answer(text)
    except TelegramError as error:
        logger.info("a button press could not be answered: %s", error)


async def uploading(update: Update) -> Chat:
    """Answer the button press and show "sending a file…" in the chat, before the slow part
    (fetching or rendering a file); the chat to send it to."""
    await answer_query(update)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    return chat


async def show(
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Show ``text`` in place of the pressed message when possible, else as new message(s)."""
    query = update.callback_query
    if not plain_text(text):
        await answer_query(update)
        _log_empty()
        return None
    if query is not None:
        await answer_query(update)
        message = query.message
        if isinstance(message, Message) and message.text is not None and len(text) <= TEXT_LIMIT:
            if plain_text(text) == message.text.strip() and message.reply_markup == keyboard:
                return message  # nothing would change: Telegram rejects such an edit
            try:
                edited = await message.edit_text(text, reply_markup=keyboard)
            except BadRequest as error:
                # The message may be too old or gone; fall through to sending a new one.
                if "not modified" in str(error).lower():
                    return message
            else:
                return edited if isinstance(edited, Message) else message
    return await send(update, text, keyboard)


async def send(
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send ``text`` to the chat, split if needed; the keyboard goes on the last part."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await send_to_chat(chat.get_bot(), chat.id, text, keyboard)


async def send_to_chat(
    bot: Bot, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> Message | None:
    """``send`` without an update to answer (a timer, a notice).

    A part that would display nothing is not sent: Telegram refuses it ("Bad Request: message
    text is empty"), so it is skipped and logged instead.
    """
    parts = [part for part in split_message(text) if plain_text(part)]
    if not parts:
        _log_empty()
        return None
    sent: Message | None = None
    for index, part in enumerate(parts):
        is_last = index == len(parts) - 1
        sent = await bot.send_message(chat_id, part, reply_markup=keyboard if is_last else None)
    return sent


def _log_empty() -> None:
    """A text that would display nothing (Telegram refuses it): a bug upstream, said once."""
    logger.warning("not sending a message whose text is empty (Telegram refuses it)")
