"""OrderedConcurrentProcessor: chats run concurrently, each chat strictly in arrival order."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import CallbackQuery, Chat, InlineQuery, Message, Update, User
from telegram.ext import Application, ContextTypes, MessageHandler, TypeHandler, filters

from bot.localapi.core import LocalBotApi
from bot.transport import AiohttpRequest
from bot.update_processor import SHARED_LANE, OrderedConcurrentProcessor, lane_of
from tests.support.bot_env import TOKEN
from tests.support.fake_telegram import FakeTelegram

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
_update_ids = iter(range(1, 10**9))


def message(chat_id: int, text: str) -> Update:
    user = User(chat_id, "Ana", False)
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(
        next(_update_ids), message=Message(1, time_now(), chat, from_user=user, text=text)
    )


def time_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.fixture
async def make_app() -> AsyncIterator[Callable[[Callback, int], Awaitable[Application]]]:
    """A real Application (offline Bot API) whose only handler is ``callback``."""
    started: list[Application] = []

    async def make(callback: Callback, limit: int = 64) -> Application:
        processor = OrderedConcurrentProcessor(limit)
        application = (
            Application.builder()
            .token(TOKEN)
            .request(FakeTelegram())
            .get_updates_request(FakeTelegram())
            .updater(None)
            .concurrent_updates(processor)
            .build()
        )
        application.add_handler(TypeHandler(Update, callback))
        await application.initialize()
        await application.start()
        started.append(application)
        return application

    yield make
    for application in started:
        if application.running:
            await application.stop()
        await application.shutdown()


async def feed(application: Application, updates: list[Any]) -> None:
    for update in updates:
        await application.update_queue.put(update)
    await asyncio.wait_for(application.update_queue.join(), 10)


# --- ordering and concurrency --------------------------------------------------------------------
async def test_slow_chat_does_not_delay_others_and_each_chat_keeps_its_order(
    make_app: Callable[[Callback, int], Awaitable[Application]],
) -> None:
    log: list[tuple[str, int, str]] = []  # (event, chat, text)
    running: dict[int, int] = {}

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        chat, text = update.message.chat_id, update.message.text
        running[chat] = running.get(chat, 0) + 1
        assert running[chat] == 1, f"two updates of chat {chat} at once"
        log.append(("start", chat, text))
        await asyncio.sleep(0.5 if text.endswith("slow") else 0.01)
        log.append(("end", chat, text))
        running[chat] -= 1

    application = await make_app(handler, 8)
    updates = []
    for step in range(1, 6):  # interleaved: A1 B1 C1 A2 B2 C2 …, A1 and B3 are slow
        for chat, name in ((1, "A"), (2, "B"), (3, "C")):
            slow = (name, step) in (("A", 1), ("B", 3))
            updates.append(message(chat, f"{name}{step}{' slow' if slow else ''}"))
    started = time.monotonic()
    await feed(application, updates)
    elapsed = time.monotonic() - started

    for chat, name in ((1, "A"), (2, "B"), (3, "C")):
        ends = [text.split()[0] for event, c, text in log if event == "end" and c == chat]
        assert ends == [f"{name}{step}" for step in range(1, 6)]
    # C never waits for A's or B's slow steps; B's fast steps before B3 do not wait for A1.
    ends = [text.split()[0] for event, _, text in log if event == "end"]
    assert ends.index("C5") < ends.index("A1")
    assert ends.index("B2") < ends.index("A1")
    assert ends.index("A5") > ends.index("A1")
    # Sequentially this would take > 2 × 0.5 s + 13 × 0.01 s; the slow steps overlapped.
    assert elapsed < 0.9


async def test_a_flooded_chat_does_not_take_every_slot(
    make_app: Callable[[Callback, int], Awaitable[Application]],
) -> None:
    finished: list[str] = []

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await asyncio.sleep(0.01)
        finished.append(update.message.text)

    application = await make_app(handler, 4)
    flood = [message(1, f"A{i}") for i in range(40)]
    await feed(application, [*flood, message(2, "B")])
    # Were the waiting A updates holding the 4 slots, B would come after nearly all of A.
    assert finished.index("B") < 5
    assert finished[: finished.index("B")] + finished[finished.index("B") + 1 :] == [
        f"A{i}" for i in range(40)
    ]


async def test_concurrency_is_bounded_by_max_concurrent_updates(
    make_app: Callable[[Callback, int], Awaitable[Application]],
) -> None:
    now_running = 0
    peak = 0

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal now_running, peak
        now_running += 1
        peak = max(peak, now_running)
        assert application.update_processor.current_concurrent_updates <= 5
        await asyncio.sleep(0.05)
        now_running -= 1

    application = await make_app(handler, 5)
    await feed(application, [message(chat, "x") for chat in range(100, 130)])
    assert peak == 5
    assert application.update_processor.current_concurrent_updates == 0


async def test_an_exception_does_not_break_the_chain(
    make_app: Callable[[Callback, int], Awaitable[Application]],
) -> None:
    done: list[str] = []
    errors: list[BaseException | None] = []

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await asyncio.sleep(0.01)
        if update.message.text == "A2":
            raise RuntimeError("boom")
        done.append(update.message.text)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    application = await make_app(handler, 8)
    application.add_error_handler(on_error)
    await feed(application, [message(1, f"A{i}") for i in range(1, 5)])
    assert done == ["A1", "A3", "A4"]
    assert len(errors) == 1 and str(errors[0]) == "boom"
    assert isinstance(application.update_processor, OrderedConcurrentProcessor)
    assert application.update_processor.active_lanes == 0


async def test_ten_thousand_chats_leave_nothing_behind(
    make_app: Callable[[Callback, int], Awaitable[Application]],
) -> None:
    seen: dict[int, list[str]] = {}

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.setdefault(update.message.chat_id, []).append(update.message.text)
        await asyncio.sleep(0)

    application = await make_app(handler, 64)
    processor = application.update_processor
    assert isinstance(processor, OrderedConcurrentProcessor)
    # Every chat writes once, the first thousand twice (their lanes queue).
    updates = [message(1_000_000 + chat, "1") for chat in range(10_000)]
    updates += [message(1_000_000 + chat, "2") for chat in range(1_000)]
    await feed(application, updates)
    assert len(seen) == 10_000
    assert all(texts == (["1", "2"] if chat < 1_001_000 else ["1"]) for chat, texts in seen.items())
    assert processor.active_lanes == 0 and processor._tails == {}
    assert processor.current_concurrent_updates == 0


# --- the processor on its own --------------------------------------------------------------------
async def test_a_cancelled_waiting_update_keeps_the_order_and_the_slots() -> None:
    processor = OrderedConcurrentProcessor(2)
    log: list[str] = []
    release_first = asyncio.Event()

    async def step(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        log.append(f"end {name}")

    update = message(7, "x")
    first = asyncio.create_task(processor.process_update(update, step("1", release_first)))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(processor.process_update(update, step("2")))
    third = asyncio.create_task(processor.process_update(update, step("3")))
    await asyncio.sleep(0.01)
    assert processor.current_concurrent_updates == 1  # the waiting ones hold no slot
    second.cancel()
    await asyncio.sleep(0.01)
    assert log == ["start 1"]  # 3 still waits for 1, although 2 is gone
    release_first.set()
    await asyncio.gather(first, third)
    with pytest.raises(asyncio.CancelledError):
        await second
    assert log == ["start 1", "end 1", "start 3", "end 3"]
    assert processor.active_lanes == 0
    assert processor.current_concurrent_updates == 0
    gc.collect()  # step("2") was closed, not left "never awaited"


async def test_an_exception_reaches_the_caller_and_the_lane_moves_on() -> None:
    processor = OrderedConcurrentProcessor(4)

    async def fail() -> None:
        raise ValueError("x")

    async def ok() -> str:
        return "ok"

    update = message(8, "x")
    results = await asyncio.gather(
        processor.process_update(update, fail()),
        processor.process_update(update, ok()),
        return_exceptions=True,
    )
    assert isinstance(results[0], ValueError) and results[1] is None
    assert processor.active_lanes == 0


def test_lanes() -> None:
    ana = User(42, "Ana", False)
    group = Chat(-100123, Chat.SUPERGROUP)
    in_group = Message(1, time_now(), group, from_user=ana, text="oi")
    in_private = Message(2, time_now(), Chat(42, Chat.PRIVATE), from_user=ana, text="oi")
    assert lane_of(Update(1, message=in_group)) == -100123
    assert lane_of(Update(2, message=in_private)) == 42
    inline_button = CallbackQuery("q", ana, "ci", inline_message_id="im", data="d")
    assert lane_of(Update(3, callback_query=inline_button)) == 42  # the user: her private lane
    chat_button = CallbackQuery("q", ana, "ci", message=in_group, data="d")
    assert lane_of(Update(4, callback_query=chat_button)) == -100123
    assert lane_of(Update(5, inline_query=InlineQuery("i", ana, "q", "o"))) == 42
    assert lane_of(Update(6)) == SHARED_LANE
    assert lane_of({"custom": "object"}) == SHARED_LANE


def test_needs_a_positive_limit() -> None:
    with pytest.raises(ValueError, match="positive"):
        OrderedConcurrentProcessor(0)


# --- end to end: polling a local Bot API over aiohttp --------------------------------------------
async def test_polling_bot_answers_every_chat_in_order(served: tuple[LocalBotApi, str]) -> None:
    api, url = served

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        if update.message.text.endswith("slow"):
            await asyncio.sleep(0.2)
        await update.message.reply_text(update.message.text)

    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=2))
        .concurrent_updates(OrderedConcurrentProcessor(16))
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        users = [api.user(500 + n) for n in range(20)]
        for step in range(5):
            for n, user in enumerate(users):
                await user.send(f"{n}:{step}{' slow' if n % 5 == 0 and step == 1 else ''}")
        for user in users:
            await user.wait_until(lambda events: len(events) >= 5, within=10)
        await application.updater.stop()
        await application.stop()
    for n, user in enumerate(users):
        answered = [e.message.text for e in user.chat.events if e.message is not None]
        assert [text.split()[0] for text in answered] == [f"{n}:{step}" for step in range(5)]
