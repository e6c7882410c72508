"""The broadcasts' Telegram :class:`~bot.broadcasts.delivery.Sender`: one message as every
recipient gets it (the preview too); a Telegram error becomes ``Undelivered`` with
:func:`bot.delivery.classify`'s outcome (the policy notifications follow)."""

from __future__ import annotations

from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.broadcasts.content import Message
from bot.broadcasts.delivery import Undelivered
from bot.delivery import classify
from bot.services.pacing import PACED, PacedRateLimiter


async def deliver(bot: Bot, chat_id: int, message: Message, **extra: Any) -> None:
    """Send ``message`` to ``chat_id`` exactly as every recipient gets it (also the preview)."""
    if message.paid:
        extra["allow_paid_broadcast"] = True
    if message.media_kind == "photo":
        await bot.send_photo(
            chat_id,
            photo=message.media_file_id,
            caption=message.text,
            parse_mode=ParseMode.HTML,
            **extra,
        )
    elif message.media_kind == "document":
        await bot.send_document(
            chat_id,
            document=message.media_file_id,
            caption=message.text,
            parse_mode=ParseMode.HTML,
            **extra,
        )
    else:
        await bot.send_message(chat_id, message.text, parse_mode=ParseMode.HTML, **extra)


class TelegramSender:
    """The broadcast service's :class:`~bot.broadcasts.delivery.Sender` through a PTB bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, message: Message) -> None:
        extra: dict[str, Any] = {}
        if isinstance(getattr(self.bot, "rate_limiter", None), PacedRateLimiter):
            extra["rate_limit_args"] = PACED  # the broadcast took its slot already
        try:
            await deliver(self.bot, chat_id, message, **extra)
        except TelegramError as error:
            # One reading of Telegram's errors for broadcasts and notifications: bot.delivery.
            raise Undelivered(classify(error)) from error
