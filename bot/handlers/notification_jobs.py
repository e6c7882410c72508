"""Sending notifications: the polling job, the delivery job, and their Telegram error rules.

- Forbidden (the user blocked the bot) or a vanished chat: the link is deactivated, nothing more
  is sent there.
- RetryAfter: this and the rest of the batch wait as long as Telegram asks.
- Network trouble before anything went out: retried later with back-off (bounded).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from backend_client.errors import BackendError
from bot import metrics
from bot.services.notifications import NotificationDetector, NotificationPlanner
from bot.storage.notifications import Claimed, NotificationStore
from bot.ui.texts import notifications as texts

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BATCH = 50


def render(kind: str, payload: dict[str, Any]) -> list[str]:
    """The messages of one notification; copyable values go alone in their own message."""
    if kind.startswith("invoice_"):
        parts = [texts.invoice_reminder(kind, payload)]
        parts += [texts.copy_value(payload[k]) for k in ("linha", "pix") if payload.get(k)]
        return parts
    if kind == "payment_confirmed":
        return [texts.payment_confirmed(payload)]
    if kind == "enabling_ending":
        return [texts.enabling_ending(payload)]
    if kind in ("ticket_answered", "ticket_closed"):
        return [texts.ticket_event(kind, payload)]
    if kind == "fiscal_note":
        return [texts.fiscal_note(payload)]
    raise ValueError(f"unknown notification kind {kind!r}")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    blocked: int = 0


def _retry_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def deliver_due(
    bot: Bot, store: NotificationStore, clock: Callable[[], datetime], batch: int = BATCH
) -> DeliveryReport:
    report = DeliveryReport()
    now = clock()
    claimed = await store.claim_due(now, batch)
    for index, item in enumerate(claimed):
        outcome, wait = await _deliver_one(bot, store, item, now)
        if outcome == "flood":
            # Telegram asked us to slow down: everything not yet tried waits too.
            wait_until = now + timedelta(seconds=wait)
            for rest in claimed[index + 1 :]:
                await store.retry_later(rest.id, wait_until, "waiting for Telegram's flood limit")
            report.deferred += len(claimed) - index
            break
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def _deliver_one(
    bot: Bot, store: NotificationStore, item: Claimed, now: datetime
) -> tuple[str, float]:
    """Send one notification; returns the outcome and, for "flood", how long to wait."""
    link = await store.get_link(item.chat_id)
    if link is None or not link.active:
        await store.mark_failed(item.id, "chat no longer linked")
        return "failed", 0
    messages = render(item.kind, item.payload)
    sent_parts = 0
    try:
        for text in messages:
            await bot.send_message(item.chat_id, text, parse_mode=ParseMode.HTML)
            sent_parts += 1
    except Forbidden as error:
        logger.info("chat %s blocked the bot; unlinking it from notifications", item.chat_id)
        await store.deactivate(item.chat_id)
        await store.mark_failed(item.id, f"blocked: {error}")
        return "blocked", 0
    except RetryAfter as error:
        wait = _retry_seconds(error)
        if sent_parts:
            await store.mark_sent(item.id, now)  # never repeat what the chat already has
            return "sent", wait
        await store.retry_later(item.id, now + timedelta(seconds=wait), "flood wait")
        return "flood", wait
    except BadRequest as error:
        if "chat not found" in str(error).lower():
            await store.deactivate(item.chat_id)
        await store.mark_failed(item.id, f"rejected: {error}")
        return "failed", 0
    except (NetworkError, TelegramError) as error:
        if sent_parts:
            await store.mark_sent(item.id, now)
            return "sent", 0
        if item.attempts >= MAX_ATTEMPTS:
            await store.mark_failed(item.id, f"gave up: {error}")
            return "failed", 0
        backoff = timedelta(minutes=2**item.attempts)
        await store.retry_later(item.id, now + backoff, f"network: {error}")
        return "deferred", 0
    await store.mark_sent(item.id, now)
    return "sent", 0


async def poll_and_plan(
    detector: NotificationDetector, planner: NotificationPlanner, now: datetime
) -> int:
    """One polling round: facts → notices → outbox. The backend being down only skips a round."""
    try:
        notices = await detector.detect(now)
    except BackendError as error:
        logger.warning("notification poll skipped: backend unavailable (%s)", error)
        return 0
    return await planner.plan(notices, now)


async def schedule(application: Any) -> None:
    """At start-up: settle rows a crash left mid-send, then poll and deliver on a schedule.

    The schedule is rebuilt at every start; what is due lives in the database, so a restart
    loses nothing and sends nothing twice.
    """
    found = application.bot_data["services"]
    recovered = await found.notifications.recover_interrupted()
    if recovered:
        logger.warning(
            "%d notification(s) were interrupted mid-send; not sending them again", recovered
        )
    queue = application.job_queue
    if queue is None:
        logger.warning("no job queue: notifications are not scheduled")
        return
    if found.detector is not None:
        queue.run_repeating(
            _poll_job, interval=found.settings.notify_poll_seconds, first=10, name="notify-poll"
        )
    else:
        logger.info("this backend offers no notification feed; only pushed events are sent")
    queue.run_repeating(_deliver_job, interval=DELIVERY_INTERVAL, first=15, name="notify-deliver")


DELIVERY_INTERVAL = 20.0


async def _poll_job(context: Any) -> None:
    found = context.application.bot_data["services"]
    added = await poll_and_plan(found.detector, found.planner, found.clock())
    if added:
        await _deliver_job(context)


async def _deliver_job(context: Any) -> None:
    found = context.application.bot_data["services"]
    while True:
        report = await deliver_due(context.bot, found.notifications, found.clock)
        for outcome in ("sent", "failed", "blocked", "deferred"):
            count = getattr(report, outcome)
            if count:
                metrics.NOTIFICATIONS.labels(outcome).inc(count)
        if report.sent + report.failed + report.blocked < BATCH or report.deferred:
            return
