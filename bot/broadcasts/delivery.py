"""Sending one broadcast: the run loop, Telegram-free.

Messages go out through a :class:`Sender` (``bot.broadcasts.sender`` has the Telegram one, which
raises :class:`Undelivered` with ``bot.delivery``'s outcome) at the pace of a :class:`Pacer`
(``bot.services.pacing``, shared with the bot's replies, see that module for how subscribers
chatting meanwhile are not starved).

Telegram's answers: RetryAfter pauses the whole broadcast (everything the bot sends, in fact)
for the time asked and the recipient is sent again later; Forbidden marks the recipient
``blocked`` and deactivates the chat's link; a migrated group follows its new chat id; "chat not
found" fails the recipient and deactivates the link; other refusals fail the recipient with
their reason; network errors before the request went out are retried (3 attempts); a timeout
after it went out is ``uncertain`` (never resent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot import delivery, metrics
from bot.broadcasts import store as db
from bot.broadcasts.content import Message
from bot.broadcasts.journal import Journal
from bot.broadcasts.store import Broadcast, BroadcastStore, Outcome, Recipient
from bot.logs import chat_ref
from bot.notifications.store import NotificationStore

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # network errors before the request went out
PAGE = 1000  # recipients read at a time


class Undelivered(Exception):
    """What a Sender raises when a message did not (certainly) arrive: the one delivery policy's
    reading of the error (``bot.delivery.classify``)."""

    def __init__(self, outcome: delivery.Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


class Sender(Protocol):
    async def send(self, chat_id: int, message: Message) -> None: ...


class Pacer(Protocol):
    async def bulk_slot(self, chat_id: int) -> None: ...

    def hold(self, seconds: float) -> None: ...


@dataclass
class _Worker:
    task: asyncio.Task[None] | None = None
    waiting: bool = False  # for a pace slot: safe to cancel


@dataclass
class Run:
    """One broadcast being sent by this process: its pending recipients go out through
    ``sender`` at ``pacer``'s pace, ``concurrency`` at a time, each outcome committed to
    ``store`` (through a :class:`~bot.broadcasts.journal.Journal`) before the next recipient.
    ``links`` learns of chats that blocked the bot, vanished or moved; ``retry_later(seconds)``
    is told when the database failed and the run stopped (to start it again after that)."""

    broadcast: Broadcast
    store: BroadcastStore
    sender: Sender
    pacer: Pacer
    links: NotificationStore
    clock: Callable[[], datetime]
    concurrency: int
    poll_interval: float = 1.0
    retry_later: Callable[[float], None] = field(default=lambda seconds: None)
    task: asyncio.Task[None] | None = None
    journal: Journal | None = None
    control: asyncio.Task[None] | None = None
    stopped: str | None = None  # why: paused, cancelled, shutdown, error
    workers: list[_Worker] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _next_pass_at: float = 0.0
    _flood_waits: int = 0
    _flood_seconds: float = 0.0
    _last_tick: float = field(default_factory=time.monotonic)

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
        self._stopping.set()
        for worker in self.workers:
            if worker.waiting and worker.task is not None:
                worker.task.cancel()

    async def send(self) -> None:
        """Send until no recipient is pending (the broadcast is then ``done``) or the run is
        stopped (paused, cancelled, shutting down: the rest stays pending)."""
        store = self.store
        broadcast = await store.get(self.broadcast.id) or self.broadcast
        message = Message.of(broadcast, broadcast.paid)
        await store.settle_sending(broadcast.id)
        # The journal records the sending time with the recipients (it survives a crash).
        journal = self.journal = Journal(
            store, broadcast_id=broadcast.id, take_time=self._take_time
        )
        journal.start()
        control = self.control = asyncio.create_task(
            self._control(), name=f"broadcast-{broadcast.id}-control"
        )
        try:
            await self._send_all(journal, message)
        finally:
            self.stop(self.stopped or "finished")
            control.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await control
            await self._flush_time()
            await journal.close()
        if self.stopped == "finished":
            if await store.count_status(broadcast.id, db.PENDING) == 0:
                await store.transition(
                    broadcast.id, db.DONE, allowed_from=(db.RUNNING,), now=self.clock()
                )
                logger.info("broadcast %s: done", broadcast.id)
        else:
            logger.info("broadcast %s: stopped (%s)", broadcast.id, self.stopped)

    # --- the loop --------------------------------------------------------------------------------
    async def _send_all(self, journal: Journal, message: Message) -> None:
        queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=self.concurrency * 4)
        self.workers = [_Worker() for _ in range(self.concurrency)]
        for worker in self.workers:
            worker.task = asyncio.create_task(self._work(worker, queue, journal, message))
        try:
            while not self._stopping.is_set():
                put = await self._one_pass(queue)
                await self._join(queue)
                if self._stopping.is_set():
                    break
                if not put and not await self.store.count_status(self.broadcast.id, db.PENDING):
                    break
                delay = self._next_pass_at - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
            if not self._stopping.is_set():
                self.stopped = "finished"
        finally:
            while not queue.empty():  # not taken: stays pending
                queue.get_nowait()
                queue.task_done()
            for _ in self.workers:
                queue.put_nowait(None)
            tasks = [w.task for w in self.workers if w.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one_pass(self, queue: asyncio.Queue[Recipient | None]) -> int:
        """Queue every pending recipient once; returns how many."""
        after, put = 0, 0
        while not self._stopping.is_set():
            page = await self.store.pending_page(self.broadcast.id, after, PAGE)
            if not page:
                break
            for recipient in page:
                if self._stopping.is_set():
                    break
                await queue.put(recipient)
                put += 1
            after = page[-1].id
        return put

    async def _join(self, queue: asyncio.Queue[Recipient | None]) -> None:
        """Wait until the workers took everything (or the run stops)."""
        joined = asyncio.create_task(queue.join())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({joined, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (joined, stopping):
            task.cancel()
        if self._stopping.is_set():  # drop what was not taken; it stays pending
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()

    async def _work(
        self,
        worker: _Worker,
        queue: asyncio.Queue[Recipient | None],
        journal: Journal,
        message: Message,
    ) -> None:
        while True:
            recipient = await queue.get()
            try:
                if recipient is None:
                    return
                if self._stopping.is_set():
                    continue
                worker.waiting = True
                try:
                    await self.pacer.bulk_slot(recipient.chat_id)
                finally:
                    worker.waiting = False
                if self._stopping.is_set():
                    continue
                await self._deliver(recipient, journal, message)
            except asyncio.CancelledError:
                if recipient is not None and not self._stopping.is_set():
                    raise
                return  # stopped while waiting for a slot: the recipient stays pending
            except Exception as error:  # the database failed: stop, resume later
                logger.error("broadcast %s stopped: %r", self.broadcast.id, error)
                self.stop("error")
                self.retry_later(30)
            finally:
                queue.task_done()

    async def _deliver(self, recipient: Recipient, journal: Journal, message: Message) -> None:
        await journal.sending(recipient.id)  # committed before anything goes out
        outcome, chat_id = await self._attempt(recipient, recipient.chat_id, message, moved=False)
        await journal.record(outcome)  # committed before taking the next recipient
        metrics.BROADCAST_MESSAGES.labels(outcome.status).inc()
        if outcome.status == db.BLOCKED or outcome.reason == "chat_not_found":
            await self.links.deactivate(chat_id)

    async def _attempt(
        self, recipient: Recipient, chat_id: int, message: Message, *, moved: bool
    ) -> tuple[Outcome, int]:
        """Send once (and once more to a migrated chat's new id); the outcome and the chat."""
        outcome = await self._try(recipient, chat_id, message)
        if isinstance(outcome, delivery.Outcome):  # the chat moved
            new_id = outcome.new_chat_id
            assert new_id is not None
            if moved:
                return Outcome(recipient.id, db.FAILED, "migrated", outcome.detail), chat_id
            moved_link = await self.store.move_chat(chat_id, new_id, recipient.id)
            self.links.links_changed(chat_id, new_id)
            if not moved_link:
                detail = outcome.detail
                return Outcome(recipient.id, db.FAILED, "migrated_duplicate", detail), chat_id
            logger.info(
                "chat %s migrated to %s; sending there", chat_ref(chat_id), chat_ref(new_id)
            )
            return await self._attempt(recipient, new_id, message, moved=True)
        return outcome, chat_id

    async def _try(
        self, recipient: Recipient, chat_id: int, message: Message
    ) -> Outcome | delivery.Outcome:
        """Send once; the recipient's outcome, or the delivery outcome when the chat moved."""
        rid = recipient.id
        try:
            await self.sender.send(chat_id, message)
        except Undelivered as error:
            found = error.outcome
        except Exception as error:  # a bug or an unknown answer: recorded, never resent
            logger.exception(
                "broadcast %s: unexpected error for chat %s", self.broadcast.id, chat_ref(chat_id)
            )
            return Outcome(rid, db.FAILED, "unexpected", repr(error))
        else:
            return Outcome(rid, db.SENT, sent_at=self.clock())
        kind, detail = found.kind, found.detail
        if kind is delivery.Kind.FLOOD_WAIT:
            seconds = found.retry_after
            self.pacer.hold(seconds)
            self._flood_waits += 1
            self._flood_seconds += seconds
            self._later(seconds)
            logger.warning(
                "broadcast %s: Telegram asked to wait %.1f s; pausing", self.broadcast.id, seconds
            )
            return Outcome(rid, db.PENDING, "flood_wait", detail)
        if kind is delivery.Kind.BLOCKED:
            return Outcome(rid, db.BLOCKED, "blocked", detail)
        if kind is delivery.Kind.CHAT_GONE:
            return Outcome(rid, db.FAILED, "chat_not_found", detail)
        if kind is delivery.Kind.MOVED:
            return found
        if kind is delivery.Kind.NOT_SENT:
            if recipient.attempts + 1 >= MAX_ATTEMPTS:
                return Outcome(rid, db.FAILED, "network", detail)
            self._later(2.0 * 2**recipient.attempts)
            return Outcome(rid, db.PENDING, "network", detail)
        if kind is delivery.Kind.MAYBE_SENT:
            return Outcome(rid, db.UNCERTAIN, "timeout", detail)
        return Outcome(rid, db.FAILED, (found.reason or "rejected")[:40], detail)

    def _later(self, seconds: float) -> None:
        """The next pass (recipients to try again) starts no sooner than this."""
        self._next_pass_at = max(self._next_pass_at, time.monotonic() + seconds)

    # --- control -------------------------------------------------------------------------------
    async def _control(self) -> None:
        """Notice a pause or cancel made elsewhere; count the sending time."""
        store = self.store
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)
            await self._flush_time()
            if self._stopping.is_set():
                return
            status = await store.status_of(self.broadcast.id)
            if status != db.RUNNING:
                self.stop(status or "deleted")

    def _take_time(self) -> tuple[float, int, float]:
        """Sending time, flood waits and flood seconds since they were last taken: each moment
        is counted once, by the journal's next commit or by the periodic flush."""
        now = time.monotonic()
        active, self._last_tick = now - self._last_tick, now
        waits, seconds = self._flood_waits, self._flood_seconds
        self._flood_waits, self._flood_seconds = 0, 0.0
        return active, waits, seconds

    async def _flush_time(self) -> None:
        active, waits, seconds = self._take_time()
        await self.store.add_time(
            self.broadcast.id, active=active, flood_waits=waits, flood_seconds=seconds
        )
