"""Sending notifications: the polling round and the delivery job.

The polling round (:class:`PollLoop`) runs in a task of its own, started by the repeating poll
job: on a real system with paced requests it may take longer than a poll interval (hours for
10,000 SGP subscribers at 2 requests/s), so a poll while it runs does nothing, and stopping the
bot cancels it (its position is saved after every page: the next start continues it). What a
page finds is delivered at once, not at the end of the round.

Telegram's errors are read by the one delivery policy (:func:`bot.delivery.classify`, which
broadcasts follow too):

- blocked (Forbidden) or a vanished chat: the link is deactivated, nothing more is sent there;
- flood wait (RetryAfter): this and the rest of the batch wait as long as Telegram asks;
- moved (a group became a supergroup): the link and the chat's notifications follow the new
  chat id, and the message goes there;
- not sent (network trouble before the message went out): retried later with back-off
  (bounded);
- maybe sent (a timeout after the request may have reached Telegram): ``uncertain``, never sent
  again;
- refused (any other 400 and the like): failed.

Each message of a notification is one step: the row is ``sending`` only around that Bot API call
and records the part as sent right after it, so a crash leaves at most that one message
uncertain; everything else is sent after the restart, and a reminder (text, linha, PIX)
interrupted between its messages resumes with the missing ones. One :class:`DeliveryLoop` per
process sends, one notification at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import metrics
from bot.delivery import Kind, Outcome, classify
from bot.notifications.service import (
    Notice,
    NotificationDetector,
    NotificationPlanner,
    RoundReport,
)
from bot.notifications.store import Claimed, NotificationStore
from bot.ui.callbacks import MENU, Buttons
from bot.ui.texts import notifications as texts

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BATCH = 50
# The Faturas flow's buttons (bot.conversations.invoices.PREFIX; handlers sit below the flows).
INVOICE_BUTTONS = Buttons("inv")


def render(kind: str, payload: dict[str, Any]) -> list[str]:
    """The messages of one notification; a code to copy goes alone in its own message, its
    label at the end of the message before (as on Faturas' "Ver boleto")."""
    if kind.startswith("invoice_"):
        parts = [texts.invoice_reminder(kind, payload)]
        for index, (label, code) in enumerate(texts.reminder_codes(payload)):
            if index == 0:
                parts[0] += f"\n\n{label}"
            else:
                parts.append(label)
            parts.append(code)
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


def buttons(kind: str, payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """A reminder's last message carries "Ver boleto" and "Boleto em PDF" (issue 21): the
    Faturas flow's own buttons, which work from any chat message (entry points; logged out,
    the subscriber is asked to log in first)."""
    invoice_id = payload.get("invoice_id")
    if not kind.startswith("invoice_") or not invoice_id:
        return None
    rows = [
        [
            InlineKeyboardButton(
                texts.BUTTON_SEE_BOLETO, callback_data=INVOICE_BUTTONS.pack("show", invoice_id)
            ),
            InlineKeyboardButton(
                texts.BUTTON_BOLETO_PDF, callback_data=INVOICE_BUTTONS.pack("pdf", invoice_id)
            ),
        ]
    ]
    if payload.get("others"):  # other overdue invoices: Faturas opens on all the open ones
        rows.append(
            [InlineKeyboardButton(texts.BUTTON_ALL_INVOICES, callback_data=MENU.pack("invoices"))]
        )
    return InlineKeyboardMarkup(rows)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    blocked: int = 0
    uncertain: int = 0
    skipped: int = 0  # taken by another sender meanwhile
    flood: bool = False  # Telegram asked to wait: the rest of the round waits


# ``on_sent(chat_id, kind, payload)`` runs once a notification has gone out whole.
OnSent = Callable[[int, str, dict[str, Any]], Awaitable[None]]


async def deliver_due(
    bot: Bot,
    store: NotificationStore,
    clock: Callable[[], datetime],
    batch: int = BATCH,
    on_sent: OnSent | None = None,
) -> DeliveryReport:
    """Send up to ``batch`` due notifications, one after the other."""
    report = DeliveryReport()
    now = clock()
    due = await store.due(now, batch)
    moved: dict[int, int] = {}  # chats that migrated during this round: old id → new id
    for index, item in enumerate(due):
        outcome, wait = await _deliver_one(bot, store, item, clock, moved)
        if outcome == "sent" and on_sent is not None:
            try:
                await on_sent(moved.get(item.chat_id, item.chat_id), item.kind, item.payload)
            except Exception:  # what follows a notice never undoes its delivery
                logger.exception("a listener of delivered notifications failed")
        if outcome == "flood":
            # Telegram asked us to slow down: everything not yet tried waits too.
            wait_until = clock() + timedelta(seconds=wait)
            for rest in due[index + 1 :]:
                await store.retry_later(rest.id, wait_until, "waiting for Telegram's flood limit")
            report.deferred += len(due) - index
            report.flood = True
            break
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def _deliver_one(
    bot: Bot,
    store: NotificationStore,
    item: Claimed,
    clock: Callable[[], datetime],
    moved: dict[int, int] | None = None,
) -> tuple[str, float]:
    """Send the missing messages of one notification; the outcome and, for "flood", how long
    to wait. ``moved`` maps the chats that migrated in this round to their new ids (the store
    moved their rows already)."""
    moved = {} if moved is None else moved
    chat_id = moved.get(item.chat_id, item.chat_id)
    link = await store.get_link(chat_id)
    if link is None or not link.active:
        await store.mark_failed(item.id, "chat no longer linked")
        return "failed", 0
    messages = render(item.kind, item.payload)
    keyboard = buttons(item.kind, item.payload)
    followed = False  # a migration is followed once per notification
    for part in range(item.parts_sent, len(messages)):
        if not await store.start_part(item.id, part):
            return "skipped", 0
        while True:
            try:
                markup = keyboard if part == len(messages) - 1 else None
                await bot.send_message(
                    chat_id, messages[part], parse_mode=ParseMode.HTML, reply_markup=markup
                )
            except TelegramError as error:
                found = classify(error)
                if found.kind is Kind.MOVED and not followed and found.new_chat_id is not None:
                    # A group became a supergroup: the link and the outbox follow the new id,
                    # and this message goes there (as broadcasts do).
                    followed = True
                    new_id = found.new_chat_id
                    if not await store.move_chat(chat_id, new_id, item.id):
                        return "failed", 0  # queued for the new chat already: sent from there
                    logger.info("a linked chat migrated to a supergroup; sending there")
                    moved[chat_id] = new_id
                    chat_id = new_id
                    continue
                return await _settle(store, item, chat_id, found, clock)
            break
        await store.part_sent(item.id, part, len(messages), clock())
    return "sent", 0


async def _settle(
    store: NotificationStore,
    item: Claimed,
    chat_id: int,
    found: Outcome,
    clock: Callable[[], datetime],
) -> tuple[str, float]:
    """What the delivery policy's outcome means for this notification (bot.delivery)."""
    kind, detail = found.kind, found.detail
    if kind is Kind.FLOOD_WAIT:
        # Not sent (429); this part and the rest of the reminder wait.
        wait = found.retry_after
        await store.retry_later(item.id, clock() + timedelta(seconds=wait), "flood wait")
        return "flood", wait
    if kind is Kind.BLOCKED:
        logger.info("a chat blocked the bot; unlinking it from notifications")
        await store.deactivate(chat_id)
        await store.mark_failed(item.id, f"blocked: {detail}")
        return "blocked", 0
    if kind is Kind.MAYBE_SENT:
        await store.mark_uncertain(item.id, f"may have been sent: {detail}")
        return "uncertain", 0
    if kind is Kind.NOT_SENT:
        return await _network_trouble(store, item, clock, detail)
    if kind is Kind.CHAT_GONE:
        await store.deactivate(chat_id)
    # Refused, a vanished chat, or a chat that migrated twice in a row: never resent.
    await store.mark_failed(item.id, f"rejected: {detail}")
    return "failed", 0


async def _network_trouble(
    store: NotificationStore, item: Claimed, clock: Callable[[], datetime], error: str
) -> tuple[str, float]:
    """The message did not go out: try it (and the parts after it) later, with back-off."""
    failures = item.attempts + 1
    if failures >= MAX_ATTEMPTS:
        await store.mark_failed(item.id, f"gave up: {error}")
        return "failed", 0
    backoff = timedelta(minutes=2**failures)
    await store.retry_later(item.id, clock() + backoff, f"network: {error}", failed_try=True)
    return "deferred", 0


async def poll_and_plan(
    detector: NotificationDetector,
    planner: NotificationPlanner,
    now: datetime,
    on_added: Callable[[], None] | None = None,
) -> int:
    """One polling round (or the rest of one): facts → notices → outbox, page by page. The
    provider's system failing pauses the round (it continues at a later poll); ``on_added`` is
    called after each page that added something (to deliver it at once)."""

    async def plan(notices: list[Notice], when: datetime) -> int:
        added = await planner.plan(notices, when)
        if added and on_added is not None:
            on_added()
        return added

    report: RoundReport = await detector.poll(now, plan)
    return report.added


class PollLoop:
    """Runs the polling round in its own task (see the module's docstring)."""

    def __init__(
        self,
        detector: NotificationDetector,
        planner: NotificationPlanner,
        clock: Callable[[], datetime],
    ) -> None:
        self._detector = detector
        self._planner = planner
        self._clock = clock
        self._task: asyncio.Task[int] | None = None

    def kick(self, on_added: Callable[[], None]) -> asyncio.Task[int] | None:
        """Start a round (or continue the saved one) unless one is running; ``on_added`` after
        each page that added notices."""
        if self._task is not None and not self._task.done():
            return None
        self._task = asyncio.get_running_loop().create_task(
            self._run(on_added), name="notify-round"
        )
        return self._task

    async def wait(self) -> int:
        """The running round's end (what it added); 0 when none runs."""
        return await self._task if self._task is not None else 0

    async def _run(self, on_added: Callable[[], None]) -> int:
        try:
            return await poll_and_plan(self._detector, self._planner, self._clock(), on_added)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let a round's bug kill polling: the next poll tries again
            logger.exception("notification round failed")
            return 0

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class DeliveryLoop:
    """The one sender of notifications in a process.

    :meth:`run` is called by the repeating delivery job and, after a poll found something new, by
    a one-off job: whoever calls while a round is running only asks that round to look again, so
    two rounds never send at the same time (each would take the other's rows between their
    messages and stretch a reminder's parts apart).
    """

    def __init__(
        self,
        store: NotificationStore,
        clock: Callable[[], datetime],
        on_sent: OnSent | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_sent = on_sent
        self._running = False
        self._again = False

    @property
    def running(self) -> bool:
        return self._running

    async def run(self, bot: Bot, batch: int = BATCH) -> DeliveryReport:
        """Send everything due now; returns what this call sent (nothing when another call is
        running already: that one sends it)."""
        total = DeliveryReport()
        if self._running:
            self._again = True
            return total
        self._running = True
        try:
            while True:
                self._again = False
                report = await deliver_due(bot, self._store, self._clock, batch, self._on_sent)
                for outcome in ("sent", "failed", "blocked", "deferred", "uncertain"):
                    count = getattr(report, outcome)
                    if count:
                        metrics.NOTIFICATIONS.labels(outcome).inc(count)
                    setattr(total, outcome, getattr(total, outcome) + count)
                total.skipped += report.skipped
                if report.flood:
                    return total  # the rest waits for Telegram; the next tick tries again
                tried = report.sent + report.failed + report.blocked + report.uncertain
                if tried + report.skipped + report.deferred < batch and not self._again:
                    return total
        finally:
            self._running = False


DELIVERY_KEY = "notification_delivery"
POLL_KEY = "notification_poll"
SENT_LISTENERS_KEY = "notification_sent_listeners"
SentListener = Callable[[Any, int, str, dict[str, Any]], Awaitable[None]]


def add_sent_listener(application: Any, listener: SentListener) -> None:
    """``listener(application, chat_id, kind, payload)`` runs after each notification delivered
    whole (the satisfaction survey follows a ticket's closure this way)."""
    application.bot_data.setdefault(SENT_LISTENERS_KEY, []).append(listener)


async def schedule(application: Any) -> None:
    """At start-up: settle rows a crash left mid-send, then poll and deliver on a schedule.

    The schedule is rebuilt at every start; what is due lives in the database, so a restart
    loses nothing and sends nothing twice. Delivery starts at once (what a crash interrupted
    goes out right away), then every ``DELIVERY_INTERVAL`` seconds and after every poll that
    found something new.
    """
    found = application.bot_data["services"]
    recovered = await found.notifications.recover_interrupted()
    if recovered:
        logger.warning(
            "%d notification(s) were interrupted mid-send; not sending them again", recovered
        )

    async def on_sent(chat_id: int, kind: str, payload: dict[str, Any]) -> None:
        for listener in application.bot_data.get(SENT_LISTENERS_KEY, []):
            await listener(application, chat_id, kind, payload)

    application.bot_data[DELIVERY_KEY] = DeliveryLoop(found.notifications, found.clock, on_sent)
    if found.detector is not None:
        application.bot_data[POLL_KEY] = PollLoop(found.detector, found.planner, found.clock)
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
    # At once after a (re)start, whatever the time between post_init and the job queue's start:
    # a run_repeating job whose ``first`` has passed when the scheduler starts waits one whole
    # interval (APScheduler 3 IntervalTrigger.get_next_fire_time rounds up to the next interval),
    # and a one-off job later than ``misfire_grace_time`` (1 s by default) is skipped;
    # ``None`` runs it "no matter how late it is" (APScheduler BaseScheduler.add_job).
    queue.run_once(
        _deliver_job, 0, name="notify-deliver-now", job_kwargs={"misfire_grace_time": None}
    )
    queue.run_repeating(
        _deliver_job, interval=DELIVERY_INTERVAL, first=DELIVERY_INTERVAL, name="notify-deliver"
    )


DELIVERY_INTERVAL = 20.0


async def _poll_job(context: Any) -> None:
    # Not awaited here: PTB's Application.stop waits for running jobs, and a round may be long.
    # What a page adds is sent by the one delivery loop (now, or right after its round).
    queue = context.job_queue

    def deliver_now() -> None:
        if queue is not None:
            queue.run_once(_deliver_job, 0, name="notify-deliver-now")

    context.application.bot_data[POLL_KEY].kick(deliver_now)


async def stop(application: Any) -> None:
    """At shutdown: cancel a running round (its position is saved; the next start goes on)."""
    poll: PollLoop | None = application.bot_data.get(POLL_KEY)
    if poll is not None:
        await poll.stop()


async def _deliver_job(context: Any) -> None:
    delivery: DeliveryLoop = context.application.bot_data[DELIVERY_KEY]
    await delivery.run(context.bot)
