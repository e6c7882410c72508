"""Broadcasts inside the bot: the shared pacer, the service in ``bot_data``, start-up, the
dispatch job and shutdown.

- :func:`create_pacer` builds the one :class:`~bot.services.pacing.TrafficPacer` of the process
  (``bot.application`` installs it as python-telegram-bot's rate limiter, so replies and
  broadcasts share it).
- :func:`install` puts the :class:`~bot.broadcasts.service.BroadcastService` (sending through
  :class:`~bot.broadcasts.sender.TelegramSender`) in ``bot_data["broadcasts"]``; :func:`start`
  (post_init) settles recipients a crash left mid-send and schedules the dispatch tick;
  :func:`stop` (before the application stops) lets the messages in flight finish and be
  recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.broadcasts.sender import TelegramSender
from bot.broadcasts.service import BroadcastService, default_concurrency
from bot.broadcasts.store import BroadcastStore
from bot.notifications.store import NotificationStore
from bot.services.pacing import TrafficPacer
from bot.settings import Settings

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
