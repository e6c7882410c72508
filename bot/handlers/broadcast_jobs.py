"""Broadcasts inside the bot: the Telegram sender, the shared pacer, start-up and shutdown.

- :func:`create_pacer` builds the one :class:`~bot.services.pacing.TrafficPacer` of the process
  (``bot.application`` installs it as python-telegram-bot's rate limiter, so replies and
  broadcasts share it).
- :func:`install` puts the :class:`~bot.services.broadcasts.BroadcastService` in
  ``bot_data["broadcasts"]``; :func:`start` (post_init) settles recipients a crash left mid-send
  and schedules the dispatch tick; :func:`stop` (before the application stops) lets the messages
  in flight finish and be recorded.
- :class:`TelegramSender` sends one broadcast message; a Telegram error becomes the service's
  ``Undelivered`` with :func:`bot.delivery.classify`'s outcome (the policy notifications follow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.delivery import classify
from bot.services.broadcasts import (
    BroadcastService,
    Message,
    Undelivered,
    default_concurrency,
)
from bot.services.pacing import PACED, PacedRateLimiter, TrafficPacer
from bot.settings import Settings
from bot.storage.broadcasts import BroadcastStore
from bot.storage.notifications import NotificationStore

logger = logging.getLogger(__name__)
SERVICE_KEY = "broadcasts"
PACER_KEY = "pacer"
DISPATCH_INTERVAL = 5.0  # seconds between looks for scheduled broadcasts whose time has come


def create_pacer(settings: Settings) -> TrafficPacer:
    """The process's pace (see ``bot.services.pacing``)."""
    overall = settings.telegram_max_rate
    if settings.paid_broadcast and overall:
        # Paid broadcasts may go beyond Telegram's free 30/s; replies keep to it.
        return TrafficPacer(
            overall_rate=max(overall, settings.broadcast_rate),
            bulk_rate=settings.broadcast_rate,
            interactive_rate=overall,
        )
    return TrafficPacer(overall_rate=overall, bulk_rate=settings.broadcast_rate)


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
    """The broadcast service's :class:`~bot.services.broadcasts.Sender` through a PTB bot."""

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


def install(
    application: Any,
    settings: Settings,
    *,
    engine: Any,
    links: NotificationStore,
    feed: Any,
    clock: Callable[[], datetime],
    pacer: TrafficPacer,
) -> BroadcastService:
    service = BroadcastService(
        BroadcastStore(engine),
        links,
        clock=clock,
        feed=feed,
        sender=TelegramSender(application.bot),
        pacer=pacer,
        rate=settings.broadcast_rate,
        paid=settings.paid_broadcast,
        concurrency=default_concurrency(settings.broadcast_rate),
    )
    application.bot_data[SERVICE_KEY] = service
    application.bot_data[PACER_KEY] = pacer
    return service


def service_of(application: Any) -> BroadcastService:
    found: BroadcastService = application.bot_data[SERVICE_KEY]
    return found


async def start(application: Any) -> None:
    """post_init: recipients left ``sending`` become ``uncertain``; then dispatch on a tick
    (broadcasts left running resume at the first one)."""
    service = service_of(application)
    await service.recover()
    queue = application.job_queue
    if queue is None:
        logger.warning("no job queue: scheduled broadcasts are not sent")
        return
    queue.run_repeating(_dispatch_job, interval=DISPATCH_INTERVAL, first=1, name="broadcasts")


async def stop(application: Any) -> None:
    """Before the application stops: finish and record the messages in flight."""
    service = application.bot_data.get(SERVICE_KEY)
    if service is not None:
        await service.stop()


async def _dispatch_job(context: Any) -> None:
    await service_of(context.application).dispatch_due()
