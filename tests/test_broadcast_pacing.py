"""The shared pace (bot.services.pacing): broadcast rate, one message a second per chat, group
limits, RetryAfter holds, and replies that never queue behind a broadcast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.localapi.core import LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.services.pacing import PACED, PacedRateLimiter, TrafficPacer
from tests.support.bot_env import TOKEN


class VirtualTime:
    """A clock that only moves when someone sleeps (for one coroutine at a time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def pacer(time_: VirtualTime, **kwargs: float) -> TrafficPacer:
    return TrafficPacer(clock=time_, sleep=time_.sleep, **kwargs)  # type: ignore[arg-type]


async def test_broadcasts_keep_their_rate() -> None:
    clock = VirtualTime()
    pace = pacer(clock, overall_rate=30, bulk_rate=25)
    start = clock.now
    for chat in range(250):
        await pace.bulk_slot(chat)
    elapsed = clock.now - start
    # 25/s after a burst of a few messages (the bucket starts full).
    assert 9.7 <= elapsed <= 10.0
    assert pace.bulk_sent == 250


async def test_paid_broadcasts_go_up_to_a_thousand_a_second() -> None:
    clock = VirtualTime()
    pace = pacer(clock, overall_rate=1000, bulk_rate=1000, interactive_rate=30)
    start = clock.now
    for chat in range(5000):
        await pace.bulk_slot(chat)
    assert 4.8 <= clock.now - start <= 5.05


async def test_one_broadcast_message_a_second_per_chat() -> None:
    clock = VirtualTime()
    pace = pacer(clock, overall_rate=0, bulk_rate=100)
    await pace.bulk_slot(7)
    first = clock.now
    await pace.bulk_slot(8)  # another chat: no wait
    assert clock.now == first
    await pace.bulk_slot(7)
    assert clock.now - first >= 1.0
    # A reply to a chat counts too: the next broadcast message there waits a second.
    await pace.interactive_slot(9)
    replied = clock.now
    await pace.bulk_slot(9)
    assert clock.now - replied >= 1.0


async def test_replies_are_not_held_back_per_chat_but_groups_are() -> None:
    clock = VirtualTime()
    pace = pacer(clock, overall_rate=30, bulk_rate=25)
    start = clock.now
    for _ in range(3):  # a flow sends a few messages in a row to its chat
        await pace.interactive_slot(5)
    assert clock.now - start < 0.1
    for _ in range(20):
        await pace.interactive_slot(-100123)
    before = clock.now
    await pace.interactive_slot(-100123)  # the 21st message to a group in a minute
    assert clock.now - before >= 59


async def test_retry_after_holds_everything() -> None:
    clock = VirtualTime()
    pace = pacer(clock, overall_rate=30, bulk_rate=25)
    pace.hold(7)
    start = clock.now
    await pace.bulk_slot(1)
    assert clock.now - start >= 7
    pace.hold(3)
    start = clock.now
    await pace.interactive_slot(2)
    assert clock.now - start >= 3
    pace.hold(3)
    start = clock.now
    await pace.interactive_slot(None)  # getUpdates, answerCallbackQuery…: never held
    assert clock.now == start


async def test_replies_do_not_queue_behind_a_running_broadcast() -> None:
    """Real time: a broadcast wants the whole overall rate; replies still go at once, and the
    broadcast gets what they leave."""
    pace = TrafficPacer(overall_rate=40, bulk_rate=40)
    stop = asyncio.Event()
    sent_by_broadcast = 0

    async def broadcast() -> None:
        nonlocal sent_by_broadcast
        chat = 0
        while not stop.is_set():
            chat += 1
            await pace.bulk_slot(chat)
            sent_by_broadcast += 1

    task = asyncio.create_task(broadcast())
    await asyncio.sleep(0.2)  # the broadcast drained the burst and runs at full rate
    waits = []
    for n in range(10):
        started = time.perf_counter()
        await pace.interactive_slot(10_000 + n)
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.06)
    stop.set()
    await task
    assert max(waits) < 0.008, waits  # the reserve is there for replies
    assert pace.interactive_sent == 10
    assert sent_by_broadcast > 15  # the broadcast kept going with what replies left


# --- through python-telegram-bot ------------------------------------------------------------------
@pytest.fixture
async def paced_bot() -> AsyncIterator[tuple[ExtBot, LocalBotApi, TrafficPacer]]:  # type: ignore[type-arg]
    api = LocalBotApi(TOKEN)
    for chat in (1, 2, 3):
        api.user(chat)
    pace = TrafficPacer(overall_rate=50, bulk_rate=40)
    bot: ExtBot = ExtBot(  # type: ignore[type-arg]
        TOKEN, request=InProcessRequest(api), rate_limiter=PacedRateLimiter(pace)
    )
    await bot.initialize()
    yield bot, api, pace
    await bot.shutdown()


async def test_the_rate_limiter_counts_replies_and_lets_paced_broadcasts_through(
    paced_bot: tuple[ExtBot, LocalBotApi, TrafficPacer],  # type: ignore[type-arg]
) -> None:
    bot, api, pace = paced_bot
    await bot.send_message(1, "resposta")
    assert pace.interactive_sent == 1
    await pace.bulk_slot(2)
    await bot.send_message(2, "aviso", rate_limit_args=PACED)
    assert (pace.interactive_sent, pace.bulk_sent) == (1, 1)  # not counted twice
    assert [e.message.text for e in api.chat_events(2) if e.message] == ["aviso"]


async def test_a_reply_hit_by_429_is_retried_after_the_wait(
    paced_bot: tuple[ExtBot, LocalBotApi, TrafficPacer],  # type: ignore[type-arg]
) -> None:
    bot, api, _ = paced_bot
    api.inject_flood_wait(1, "sendMessage")
    started = time.perf_counter()
    await bot.send_message(3, "depois da espera")
    assert time.perf_counter() - started >= 1.0
    assert [e.message.text for e in api.chat_events(3) if e.message] == ["depois da espera"]


async def test_a_broadcast_message_hit_by_429_is_the_broadcasts_to_handle(
    paced_bot: tuple[ExtBot, LocalBotApi, TrafficPacer],  # type: ignore[type-arg]
) -> None:
    bot, api, pace = paced_bot
    api.inject_flood_wait(5, "sendMessage")
    with pytest.raises(RetryAfter):
        await bot.send_message(2, "aviso", rate_limit_args=PACED)
    assert pace.held_for > 4  # and everything else waits too
    assert api.chat_events(2) == []
