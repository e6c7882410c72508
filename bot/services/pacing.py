"""One pace for everything the bot sends to Telegram: subscribers' replies first, broadcasts in
the room they leave.

Telegram refuses (429, "retry after N") a bot that sends more than about 30 messages a second
in all, or keeps writing to one chat more than about once a second; paid broadcasts
(``allow_paid_broadcast``) raise the first limit to 1000/s. A broadcast to 100,000 chats would
otherwise take every slot and leave a subscriber who is chatting right now waiting, so all
traffic shares one :class:`TrafficPacer`:

- **Overall bucket** (token bucket, ``overall_rate``/s): every message with a ``chat_id`` takes a
  token from it — the bot's replies (*interactive*) and broadcast messages (*bulk*) alike.
- **Broadcast lane** (second bucket, ``bulk_rate``/s, ``BROADCAST_RATE``): a broadcast message
  takes a token from it as well, so broadcasts never go faster than configured even when the
  bot is otherwise idle.
- **Interactive first**: a broadcast message takes an overall token only when at least
  ``reserve`` tokens stay in the bucket afterwards and no reply is waiting for the bucket;
  replies may use it all. So a reply never queues behind a broadcast: it finds the reserve (a
  short burst) available at once, and while replies keep coming the broadcast slows down by
  exactly what they use. Without a broadcast nothing changes for replies.
- **One message per second per chat** for broadcast messages: a chat that just got a reply (or
  another broadcast) is written to again only a second later; replies themselves are never
  delayed for this (a subscriber's own conversation sends 2-3 messages in a row, which Telegram
  allows in private chats).
- **Groups**: at most 20 messages a minute per group chat (Telegram's limit), for replies.
- **RetryAfter**: when Telegram answers 429, *all* traffic holds for the time it asks
  (:meth:`TrafficPacer.hold`): replies are retried after it (twice at most, as PTB's
  AIORateLimiter did); a broadcast message is not retried here — the broadcast records the
  pause and sends that recipient again after it.

Without paid broadcasts the overall rate is ``TELEGRAM_MAX_RATE`` (30/s): with the default
``BROADCAST_RATE`` of 25/s, 5/s plus the reserve are always left to replies. With
``PAID_BROADCAST=true`` the overall bucket is ``max(TELEGRAM_MAX_RATE, BROADCAST_RATE)`` (at most
Telegram's 1000/s), while replies — not paid — also keep to ``TELEGRAM_MAX_RATE`` through a bucket
of their own.

:class:`PacedRateLimiter` plugs the pacer into python-telegram-bot (``ApplicationBuilder.
rate_limiter``); broadcast senders call :meth:`TrafficPacer.bulk_slot` themselves and mark their
request with :data:`PACED` (``rate_limit_args``) so it is not counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

PACED = {"paced": "bulk"}  # rate_limit_args of a broadcast request already paced
PER_CHAT_INTERVAL = 1.0  # seconds between broadcast messages to one chat
GROUP_LIMIT, GROUP_WINDOW = 20, 60.0  # Telegram: 20 messages a minute per group
INTERACTIVE_RETRIES = 2
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """``rate`` tokens a second, holding at most ``capacity``; starts full."""

    def __init__(self, rate: float, capacity: float, clock: Clock) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a bucket needs a positive rate and room for one token")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._level = capacity
        self._updated = clock()

    @property
    def level(self) -> float:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now
        return self._level

    def take(self) -> None:
        self._level = self.level - 1

    def wait_for(self, level: float) -> float:
        """Seconds until the bucket holds ``level`` tokens (0 when it does)."""
        missing = level - self.level
        return max(0.0, missing / self.rate)


class TrafficPacer:
    """The shared pace (see the module's docstring). All waiting is ``asyncio.sleep``."""

    def __init__(
        self,
        *,
        overall_rate: float,
        bulk_rate: float,
        interactive_rate: float | None = None,
        reserve: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``overall_rate`` 0 = replies are not limited (broadcasts still keep ``bulk_rate``)."""
        if bulk_rate <= 0:
            raise ValueError("bulk_rate must be positive")
        self._clock = clock
        self._sleep = sleep
        self.bulk_rate = bulk_rate
        self.overall_rate = overall_rate
        # Room for the broadcast to catch up after a late wake-up (timer resolution), so that
        # sleeping in whole milliseconds still achieves the configured rate.
        slack = max(2.0, bulk_rate * 0.02)
        self.reserve = reserve if reserve is not None else max(1.0, overall_rate * 0.1)
        # Half a second of the overall rate may go at once after a quiet spell (replies to
        # several chats together); a broadcast never takes it below the reserve.
        capacity = max(self.reserve + slack + 1, overall_rate / 2)
        self._overall = TokenBucket(overall_rate, capacity, clock) if overall_rate else None
        self._bulk = TokenBucket(bulk_rate, slack + 1, clock)
        self._interactive = (
            TokenBucket(interactive_rate, max(1.0, interactive_rate * 0.1) + 1, clock)
            if interactive_rate
            else None
        )
        self._bulk_lock = asyncio.Lock()
        self._interactive_lock = asyncio.Lock()
        self._starving = 0  # replies waiting for the overall bucket right now
        self._held_until = 0.0
        self._last_sent: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self.bulk_sent = 0
        self.interactive_sent = 0

    # --- RetryAfter -------------------------------------------------------------------------------
    def hold(self, seconds: float) -> None:
        """Telegram said "retry after ``seconds``": nothing is sent before that."""
        self._held_until = max(self._held_until, self._clock() + seconds)

    @property
    def held_for(self) -> float:
        return max(0.0, self._held_until - self._clock())

    async def _wait_hold(self) -> None:
        while (remaining := self.held_for) > 0:
            await self._sleep(remaining)

    # --- broadcasts -----------------------------------------------------------------------------
    async def bulk_slot(self, chat_id: int) -> None:
        """Wait until a broadcast message may go to ``chat_id`` now, and count it as sent."""
        async with self._bulk_lock:
            while True:
                await self._wait_hold()
                wait = self._chat_wait(chat_id)
                wait = max(wait, self._bulk.wait_for(1))
                if self._overall is not None:
                    wait = max(wait, self._overall.wait_for(1 + self.reserve))
                    if self._starving and wait == 0:
                        wait = 1 / self._overall.rate  # a reply is waiting: it goes first
                if wait <= 0 and self.held_for <= 0:
                    break
                await self._sleep(max(wait, 0.0005))
            self._bulk.take()
            if self._overall is not None:
                self._overall.take()
            self._sent_to(chat_id)
            self.bulk_sent += 1

    def _chat_wait(self, chat_id: int) -> float:
        last = self._last_sent.get(chat_id)
        return 0.0 if last is None else max(0.0, last + PER_CHAT_INTERVAL - self._clock())

    def _sent_to(self, chat_id: int) -> None:
        now = self._clock()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 4096 and len(self._last_sent) % 1024 == 0:
            cutoff = now - PER_CHAT_INTERVAL
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > cutoff}

    # --- the bot's own replies ----------------------------------------------------------------
    async def interactive_slot(self, chat_id: int | None) -> None:
        """Wait for a reply's turn (never behind a broadcast message)."""
        if chat_id is None:  # getUpdates, answerCallbackQuery…: not messages to a chat
            return
        async with self._interactive_lock:
            if chat_id < 0:
                await self._group_turn(chat_id)
            while True:
                await self._wait_hold()
                overall = self._overall.wait_for(1) if self._overall is not None else 0.0
                own = self._interactive.wait_for(1) if self._interactive is not None else 0.0
                if max(overall, own) <= 0 and self.held_for <= 0:
                    break
                self._starving += overall > 0
                try:
                    await self._sleep(max(overall, own, 0.0005))
                finally:
                    self._starving -= overall > 0
            if self._overall is not None:
                self._overall.take()
            if self._interactive is not None:
                self._interactive.take()
            self._sent_to(chat_id)
            self.interactive_sent += 1

    async def _group_turn(self, chat_id: int) -> None:
        sent = self._groups.setdefault(chat_id, deque())
        while True:
            now = self._clock()
            while sent and sent[0] <= now - GROUP_WINDOW:
                sent.popleft()
            if len(sent) < GROUP_LIMIT:
                sent.append(now)
                return
            await self._sleep(sent[0] + GROUP_WINDOW - now)


def retry_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PacedRateLimiter(BaseRateLimiter[dict[str, str]]):
    """python-telegram-bot's hook: every Bot API request of the application goes through here."""

    def __init__(self, pacer: TrafficPacer, max_retries: int = INTERACTIVE_RETRIES) -> None:
        self.pacer = pacer
        self._max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, str] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        if rate_limit_args == PACED:
            # A broadcast message: the broadcast took its slot; a 429 holds everything and is
            # the broadcast's to handle (it pauses and sends this recipient again later).
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                self.pacer.hold(retry_seconds(error))
                raise
        for attempt in range(self._max_retries + 1):
            await self.pacer.interactive_slot(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.pacer.hold(seconds + 0.1)
                if attempt == self._max_retries:
                    logger.warning("Telegram still asks to wait after %d retries", attempt)
                    raise
                logger.info("Telegram asked to wait %.1f s (%s); retrying", seconds, endpoint)
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_id(value: Any) -> int | None:
    if value is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(value)
    return 0  # "@channelname": a chat, counted as one (never a group we can tell apart)
