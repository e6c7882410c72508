"""Provider broadcasts end to end below the chat: audiences from the sandbox provider, scheduling
with a controllable clock, cancel / pause while running, a crash mid-broadcast, Telegram's 429,
blocked, vanished and migrated chats — delivered through the local Bot API."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.error import TimedOut

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.feed import SandboxFeed
from bot.broadcasts.audience import Audience
from bot.broadcasts.content import InvalidInput, Message
from bot.broadcasts.sender import TelegramSender
from bot.broadcasts.service import BroadcastService, Draft, StateError
from bot.broadcasts.store import BroadcastStore
from bot.localapi.core import BotApiError, LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.notifications.store import NotificationStore
from bot.services.pacing import TrafficPacer
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from tests.support.bot_env import START, TODAY, TOKEN, Clock

# Linked chats of the demo subscribers (see backend_client/sandbox/seed.py):
# s1 Maria — c1 fibra-300, active, overdue, Campinas/Cambuí (two chats)
# s2 João — c2 fibra-500, suspended, overdue, Sumaré/Centro
# s3 Silva & Filhos — c3 empresa-600 Campinas/Centro and c4 empresa-1g-ip Sumaré/Centro, active
# s4 Café Aroma — c5 fibra-500, active, all paid, Campinas/Cambuí (+ one deactivated chat)
LINKS = {101: "s1", 102: "s1", 201: "s2", 301: "s3", 401: "s4"}
INACTIVE = {402: "s4"}
SENDS = ("sendMessage", "sendPhoto", "sendDocument")


class TestBotApi(LocalBotApi):
    """The local Bot API plus what it cannot do by itself: migrated groups, odd refusals."""

    __test__ = False

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.migrated: dict[int, int] = {}
        self.refused: dict[int, str] = {}

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.migrated:
            raise BotApiError(
                "Bad Request: group chat was upgraded to a supergroup chat",
                400,
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id in self.refused:
            raise BotApiError(f"Bad Request: {self.refused[chat_id]}")
        return await super()._m_sendmessage(params, files)


@dataclass
class World:
    clock: Clock
    api: TestBotApi
    bot: Bot
    links: NotificationStore
    store: BroadcastStore
    feed: SandboxFeed
    service: BroadcastService

    def received(self, chat_id: int) -> list[str]:
        return [
            (e.message.text or e.message.caption or "")
            for e in self.api.chat_events(chat_id)
            if e.kind == "sent" and e.message is not None
        ]

    def deliveries(self) -> Counter[int]:
        """Messages each chat received."""
        chats = {int(params["chat_id"]) for method, params in self.api.calls if method in SENDS}
        return Counter({chat: len(self.received(chat)) for chat in chats if self.received(chat)})

    def new_service(self, sender: Any = None, **kwargs: Any) -> BroadcastService:
        """Another process (or the same one restarted) over the same databases."""
        return BroadcastService(
            self.store,
            self.links,
            clock=self.clock,
            feed=self.feed,
            sender=sender if sender is not None else TelegramSender(self.bot),
            pacer=kwargs.pop("pacer", TrafficPacer(overall_rate=0, bulk_rate=1000)),
            poll_interval=kwargs.pop("poll_interval", 0.05),
            **kwargs,
        )


@pytest.fixture
async def world(
    seeded_sandbox_file: Path, tmp_path: Path, bot_database_url: str
) -> AsyncIterator[World]:
    clock = Clock(START)
    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    backend = SandboxBackend(f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}", today=lambda: TODAY)
    await backend.start()
    engine = create_engine(bot_database_url)
    await upgrade(engine)
    links = NotificationStore(engine)
    api = TestBotApi(TOKEN)
    for chat_id, subscriber in {**LINKS, **INACTIVE}.items():
        api.user(chat_id)
        await links.link(
            chat_id, subscriber, "ct", f"Contato {chat_id}", clock() - timedelta(days=9)
        )
    for chat_id in INACTIVE:
        await links.deactivate(chat_id)
    bot = Bot(TOKEN, request=InProcessRequest(api))
    await bot.initialize()
    feed = SandboxFeed(backend)
    store = BroadcastStore(engine)
    world = World(clock, api, bot, links, store, feed, None)  # type: ignore[arg-type]
    world.service = world.new_service()
    yield world
    await world.service.stop(grace=1)
    await bot.shutdown()
    await backend.close()
    await engine.dispose()


async def send_now(world: World, audience: Audience, text: str = "Aviso de teste") -> int:
    broadcast = await world.service.create(Draft(text, audience), created_by="test")
    await world.service.run(broadcast.id)
    return broadcast.id


async def chats_of(world: World, audience: Audience) -> set[int]:
    found = await world.service.recipients(await world.service.check_audience(audience))
    assert found is not None
    return {chat_id for chat_id, _ in found}


# --- audience ---------------------------------------------------------------------------------
AUDIENCES: list[tuple[Audience, set[int]]] = [
    (Audience(places=(("Sumaré", None),)), {201, 301}),
    (Audience(places=(("Campinas", "Cambuí"),)), {101, 102, 401}),
    (Audience(places=(("campinas", "CENTRO"),)), {301}),  # case and accents ignored
    (Audience(places=(("SUMARE", None), ("Campinas", "Cambui"))), {101, 102, 201, 301, 401}),
    (Audience(plans=("fibra-500",)), {201, 401}),
    (Audience(plans=("Fibra 300 Mega", "empresa-600")), {101, 102, 301}),  # by name or id
    (Audience(statuses=("suspended",)), {201}),
    (Audience(statuses=("overdue",)), {101, 102, 201}),
    (Audience(statuses=("active",)), {101, 102, 301, 401}),
    (Audience(contract_ids=("c4",)), {301}),
    (Audience(subscriber_ids=("s4", "s9")), {401}),  # the deactivated chat 402 is left out
    # Segments combine with AND, on one and the same contract:
    (Audience(statuses=("suspended", "overdue"), places=(("Campinas", None),)), {101, 102}),
    (Audience(statuses=("active", "overdue"), places=(("Campinas", None),)), {101, 102, 301, 401}),
    (Audience(statuses=("active",), plans=("fibra-300", "fibra-500")), {101, 102, 401}),
    (Audience(places=(("Sumaré", "Centro"),), plans=("empresa-600",)), set()),
    (Audience(places=(("Sumaré", "Centro"),), plans=("empresa-1g-ip",)), {301}),
    (Audience(statuses=("overdue",), subscriber_ids=("s2", "s3")), {201}),
    (Audience(contract_ids=("c3", "c5"), places=(("Campinas", "Cambuí"),)), {401}),
]


async def test_audience_segments_and_their_combinations(world: World) -> None:
    for audience, chats in AUDIENCES:
        checked = await world.service.check_audience(audience)
        assert await chats_of(world, audience) == chats, audience
        assert await world.service.count(checked) == len(chats), audience


async def test_an_audience_answered_in_many_pages_reaches_every_page(world: World) -> None:
    world.feed.page_size = 1  # the provider's system answers one subscriber a page
    audience = Audience(places=(("SUMARE", None), ("Campinas", "Cambui")))
    assert await chats_of(world, audience) == {101, 102, 201, 301, 401}
    broadcast_id = await send_now(world, audience)
    assert all(world.received(chat) == ["Aviso de teste"] for chat in LINKS)
    report = await world.service.report(broadcast_id)
    assert report is not None and (report.sent, report.total) == (5, 5)


async def test_everyone_means_every_active_linked_chat(world: World) -> None:
    assert await world.service.count(Audience(everyone=True)) == 5
    broadcast_id = await send_now(world, Audience(everyone=True))
    assert world.received(402) == []
    assert all(world.received(chat) == ["Aviso de teste"] for chat in LINKS)
    report = await world.service.report(broadcast_id)
    assert report is not None and report.broadcast.status == "done"
    assert (report.sent, report.failed, report.blocked, report.pending) == (5, 0, 0, 0)


async def test_unknown_places_and_plans_are_refused_naming_the_field(world: World) -> None:
    for audience, field in [
        (Audience(places=(("Curitiba", None),)), "audience.places[0].city"),
        (Audience(places=(("Sumaré", "Cambuí"),)), "audience.places[0].neighbourhood"),
        (Audience(plans=("fibra-9000",)), "audience.plans[0]"),
        (Audience(), "audience"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await world.service.create(Draft("Oi", audience), created_by="test")
        assert caught.value.field == field
    assert await world.store.count() == 0


async def test_html_is_checked_before_anything_is_recorded(world: World) -> None:
    for text, kind in [
        ("Promoção <b>imperdível", "html"),
        ("<span>Preços</span> & condições", "html"),
        ("<script>alert(1)</script>", "html"),
        ("<b> </b>", "empty"),
        ("x" * 4097, "too_long"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await world.service.create(Draft(text, Audience(everyone=True)), created_by="t")
        assert (caught.value.field, caught.value.kind) == ("text", kind), text
    with pytest.raises(InvalidInput, match="1024"):
        draft = Draft("y" * 1025, Audience(everyone=True), media_kind="photo", media_file_id="F")
        await world.service.create(draft, created_by="t")
    assert await world.store.count() == 0
    assert not any(method == "sendMessage" for method, _ in world.api.calls)


# --- scheduling ---------------------------------------------------------------------------------
async def test_a_scheduled_broadcast_waits_for_its_time(world: World) -> None:
    at = START + timedelta(hours=2)
    broadcast = await world.service.create(
        Draft("<i>Manutenção às 12h</i>", Audience(plans=("fibra-500",)), send_at=at), "test"
    )
    assert await world.service.dispatch_due() == []
    world.clock.advance(hours=1, minutes=59)
    assert await world.service.dispatch_due() == []
    await world.service.wait_idle()
    assert world.received(201) == [] and world.received(401) == []
    assert (await world.store.get(broadcast.id)).status == "scheduled"  # type: ignore[union-attr]

    world.clock.advance(minutes=1)
    assert await world.service.dispatch_due() == [broadcast.id]
    await world.service.wait_idle()
    assert world.received(201) == ["Manutenção às 12h"]
    assert world.received(401) == ["Manutenção às 12h"]
    assert world.received(101) == []
    assert (await world.store.get(broadcast.id)).status == "done"  # type: ignore[union-attr]
    # Later ticks send nothing again.
    world.clock.advance(hours=1)
    assert await world.service.dispatch_due() == []


async def test_past_or_far_times_are_refused(world: World) -> None:
    for when, kind in [
        (START - timedelta(minutes=1), "time_past"),
        (START + timedelta(days=400), "time_far"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await world.service.create(
                Draft("Oi", Audience(everyone=True), send_at=when), created_by="t"
            )
        assert caught.value.kind == kind


# --- cancel, pause, resume ----------------------------------------------------------------------
class GatedSender:
    """Sends for real, but each message waits for the test to let it through."""

    def __init__(self, inner: TelegramSender) -> None:
        self.inner = inner
        self.gate = asyncio.Semaphore(0)
        self.sent = 0
        self._progress = asyncio.Condition()

    async def send(self, chat_id: int, message: Message) -> None:
        await self.gate.acquire()
        await self.inner.send(chat_id, message)
        async with self._progress:
            self.sent += 1
            self._progress.notify_all()

    async def let_through(self, count: int) -> None:
        target = self.sent + count
        for _ in range(count):
            self.gate.release()
        async with self._progress:
            await self._progress.wait_for(lambda: self.sent >= target)


async def _many_chats(world: World, count: int) -> None:
    for n in range(count):
        world.api.user(9000 + n)
        await world.links.link(9000 + n, f"x{n}", "ct", "X", START)


async def test_cancel_while_running_stops_and_never_sends_the_rest(world: World) -> None:
    await _many_chats(world, 20)
    sender = GatedSender(TelegramSender(world.bot))
    service = world.service = world.new_service(sender, concurrency=2)
    broadcast = await service.create(Draft("Queda geral", Audience(everyone=True)), "test")
    await service.dispatch_due()
    await sender.let_through(3)
    await service.cancel(broadcast.id)
    for _ in range(2):
        sender.gate.release()  # the messages already in flight (one per sender) finish
    await service.wait_idle()
    report = await service.report(broadcast.id)
    assert report is not None and report.broadcast.status == "cancelled"
    assert report.sent == 5 and report.pending == 20
    assert report.broadcast.finished_at is not None

    # A cancelled broadcast never resumes, here or after a restart.
    for _ in range(30):
        sender.gate.release()
    assert await service.dispatch_due() == []
    assert await world.new_service(sender).dispatch_due() == []
    assert sum(world.deliveries().values()) == report.sent
    with pytest.raises(StateError):
        await service.cancel(broadcast.id)


async def test_cancel_from_another_process_is_noticed_while_running(world: World) -> None:
    await _many_chats(world, 10)
    sender = GatedSender(TelegramSender(world.bot))
    service = world.service = world.new_service(sender, concurrency=2)
    broadcast = await service.create(Draft("Queda geral", Audience(everyone=True)), "test")
    await service.dispatch_due()
    await sender.let_through(2)
    command_line = world.new_service(sender=None)
    command_line.sender = None  # records only, like `minha-central broadcast cancel`
    await command_line.cancel(broadcast.id)
    for _ in range(100):  # the sending process looks at the database every 0.05 s
        if service._runs[broadcast.id].stopped:
            break
        await asyncio.sleep(0.01)
    for _ in range(2):
        sender.gate.release()  # the messages in flight finish
    await asyncio.wait_for(service.wait_idle(), 5)
    report = await service.report(broadcast.id)
    assert report is not None and report.broadcast.status == "cancelled"
    assert report.sent == 4 and report.pending == 11


async def test_pause_and_resume_send_everyone_exactly_once(world: World) -> None:
    await _many_chats(world, 15)
    sender = GatedSender(TelegramSender(world.bot))
    service = world.service = world.new_service(sender, concurrency=3)
    broadcast = await service.create(Draft("Novo plano", Audience(everyone=True)), "test")
    await service.dispatch_due()
    await sender.let_through(4)
    paused = await service.pause(broadcast.id)
    assert paused.status == "paused"
    for _ in range(3):
        sender.gate.release()  # those in flight
    await service.wait_idle()
    assert await service.dispatch_due() == []  # a paused broadcast stays paused
    done_before = sender.sent
    assert done_before < 20

    for _ in range(40):
        sender.gate.release()
    await service.resume(broadcast.id)
    await service.wait_idle()
    report = await service.report(broadcast.id)
    assert report is not None and report.broadcast.status == "done"
    assert report.sent == 20 and report.pending == 0
    assert set(world.deliveries().values()) == {1}
    assert len(world.deliveries()) == 20
    with pytest.raises(StateError):
        await service.resume(broadcast.id)


# --- crash and restart ----------------------------------------------------------------------------
class CrashingSender:
    """Delivers ``healthy`` messages normally; then the process "dies": sends hang forever,
    every other one after it reached the chat (so some interrupted chats have the message and
    some do not)."""

    def __init__(self, inner: TelegramSender, healthy: int) -> None:
        self.inner = inner
        self.healthy = healthy
        self.calls = 0
        self.hung: list[int] = []
        self.delivered_then_hung: list[int] = []

    async def send(self, chat_id: int, message: Message) -> None:
        self.calls += 1
        if self.calls <= self.healthy:
            await self.inner.send(chat_id, message)
            return
        if self.calls % 2:
            await self.inner.send(chat_id, message)
            self.delivered_then_hung.append(chat_id)
        self.hung.append(chat_id)
        await asyncio.Event().wait()


async def _kill(service: BroadcastService) -> None:
    """Stop every task of the service at once, with no chance to record anything more."""
    tasks = []
    for run in service._runs.values():
        tasks += [w.task for w in run.workers if w.task is not None]
        tasks += [t for t in (run.control, run.task) if t is not None]
        if run.journal is not None and run.journal._task is not None:
            tasks.append(run.journal._task)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.both_databases
async def test_a_crash_mid_broadcast_resumes_with_no_duplicate_and_no_loss(world: World) -> None:
    await _many_chats(world, 45)  # 50 recipients with the demo links
    crashing = CrashingSender(TelegramSender(world.bot), healthy=20)
    service = world.service = world.new_service(crashing, concurrency=4)
    broadcast = await service.create(Draft("Manutenção <b>hoje</b>", Audience(everyone=True)), "t")
    await service.dispatch_due()
    for _ in range(500):
        if len(crashing.hung) == 4:  # every worker is stuck mid-send
            break
        await asyncio.sleep(0.01)
    assert len(crashing.hung) == 4
    await _kill(service)
    counts = (await world.store.counts([broadcast.id]))[broadcast.id]
    assert counts["sending"] == 4 and counts["sent"] == 20

    # The bot starts again: interrupted recipients are uncertain and never sent again.
    restarted = world.service = world.new_service()
    assert await restarted.recover() == 4
    assert await restarted.dispatch_due() == [broadcast.id]
    await restarted.wait_idle()

    report = await restarted.report(broadcast.id)
    assert report is not None and report.broadcast.status == "done"
    assert (report.sent, report.uncertain, report.pending, report.failed) == (46, 4, 0, 0)
    deliveries = world.deliveries()
    assert max(deliveries.values()) == 1  # nobody twice
    everyone = set(LINKS) | {9000 + n for n in range(45)}
    uncertain = set(crashing.hung)
    # No loss: everyone who was not interrupted mid-send has the message exactly once; of the
    # interrupted ones, those whose message went out have it once, the others are reported.
    assert {c for c in everyone - uncertain if deliveries[c] == 1} == everyone - uncertain
    assert {c for c in uncertain if deliveries[c]} == set(crashing.delivered_then_hung)
    recorded = {chat: status for chat, status, _ in await world.store.recipients(broadcast.id)}
    assert {c for c, s in recorded.items() if s == "uncertain"} == uncertain


class SlowDyingSender:
    """Each message takes 20 ms; after ``healthy`` of them the process "dies": the next send
    hangs for ever and nothing more is written (as with SIGKILL)."""

    def __init__(self, inner: TelegramSender, healthy: int) -> None:
        self.inner, self.healthy, self.calls = inner, healthy, 0
        self.died = asyncio.Event()
        self.last_sent = 0.0

    async def send(self, chat_id: int, message: Message) -> None:
        self.calls += 1
        if self.calls > self.healthy:
            self.died.set()
            await asyncio.Event().wait()
        await asyncio.sleep(0.02)
        await self.inner.send(chat_id, message)
        self.last_sent = time.monotonic()


@pytest.mark.both_databases
async def test_the_sending_time_survives_crashes_and_leaves_the_downtime_out(
    world: World,
) -> None:
    await _many_chats(world, 45)  # 50 recipients
    sending, dead, broadcast = 0.0, [], None
    try:
        for _ in range(2):  # two crashes, 15 messages each
            sender = SlowDyingSender(TelegramSender(world.bot), healthy=15)
            # The periodic flush would come only after 30 s: what is recorded by then is recorded
            # with the messages themselves.
            service = world.service = world.new_service(sender, concurrency=1, poll_interval=30)
            await service.recover()
            started = time.monotonic()
            if broadcast is None:
                broadcast = await service.create(Draft("Aviso", Audience(everyone=True)), "test")
            await service.dispatch_due()
            assert service.running == [broadcast.id]
            await asyncio.wait_for(sender.died.wait(), 20)
            sending += sender.last_sent - started
            dead.append(service)  # its tasks hang; nothing more is written
            await asyncio.sleep(0.5)  # the bot is down
        recorded = (await world.store.get(broadcast.id)).active_seconds  # type: ignore[union-attr]
        assert sending - 0.2 <= recorded <= sending + 0.2, (recorded, sending)

        restarted = world.service = world.new_service(concurrency=1)
        assert await restarted.recover() == 1  # the second crash's message in flight
        started = time.monotonic()
        await restarted.run(broadcast.id)
        sending += time.monotonic() - started
        report = await restarted.report(broadcast.id)
        assert report is not None and report.broadcast.status == "done"
        assert (report.sent, report.uncertain) == (48, 2)
        # The time sending, each crash losing at most a moment; the 2 × 0.5 s down are not in it.
        assert sending - 0.2 <= report.broadcast.active_seconds <= sending + 0.2
    finally:
        for service in dead:
            await _kill(service)


async def test_a_clean_shutdown_records_what_is_in_flight(world: World) -> None:
    await _many_chats(world, 15)
    sender = GatedSender(TelegramSender(world.bot))
    service = world.service = world.new_service(sender, concurrency=3)
    broadcast = await service.create(Draft("Aviso", Audience(everyone=True)), "test")
    await service.dispatch_due()
    await sender.let_through(5)
    stopping = asyncio.create_task(service.stop(grace=5))
    await asyncio.sleep(0.05)
    for _ in range(3):
        sender.gate.release()  # the three in flight finish
    await stopping
    counts = (await world.store.counts([broadcast.id]))[broadcast.id]
    assert counts["sending"] == 0 and counts["uncertain"] == 0
    assert (await world.store.get(broadcast.id)).status == "running"  # type: ignore[union-attr]

    restarted = world.new_service()
    assert await restarted.recover() == 0
    await restarted.run(broadcast.id)
    assert (await world.store.get(broadcast.id)).status == "done"  # type: ignore[union-attr]
    assert set(world.deliveries().values()) == {1} and len(world.deliveries()) == 20


# --- Telegram's answers ---------------------------------------------------------------------------
async def test_flood_wait_pauses_the_broadcast_and_loses_nobody(world: World) -> None:
    world.api.inject_flood_wait(1, "sendMessage")
    started = time.monotonic()
    broadcast_id = await send_now(world, Audience(everyone=True))
    assert time.monotonic() - started >= 1.0  # the whole broadcast waited as asked
    report = await world.service.report(broadcast_id)
    assert report is not None
    assert (report.sent, report.pending, report.failed) == (5, 0, 0)
    assert report.broadcast.flood_waits == 1 and report.broadcast.flood_seconds == 1.0
    assert set(world.deliveries().values()) == {1} and len(world.deliveries()) == 5
    # The 429 was the first attempt; the next message went out only after the wait.
    sends = [m for m, _ in world.api.calls if m == "sendMessage"]
    assert len(sends) == 6


async def test_blocked_vanished_migrated_and_refused_chats(world: World) -> None:
    world.api.block(201)
    await world.links.link(777, "s3", "ct", "Sem chat", START)  # never talked to the bot
    world.api.migrated[401] = -100401
    world.api.user(-100401, chat_type="supergroup")
    world.api.refused[102] = "message must be non-empty"
    broadcast_id = await send_now(world, Audience(everyone=True))

    report = await world.service.report(broadcast_id)
    assert report is not None and report.broadcast.status == "done"
    assert (report.sent, report.blocked, report.failed) == (3, 1, 2)
    assert report.counts.failed_by_reason == {"chat_not_found": 1, "rejected": 1}
    rows = await world.store.recipients(broadcast_id)
    recorded = {chat: (status, reason) for chat, status, reason in rows}
    assert recorded[201] == ("blocked", "blocked")
    assert recorded[777] == ("failed", "chat_not_found")
    assert recorded[102] == ("failed", "rejected")
    assert recorded[-100401] == ("sent", None)  # followed the group to its new id
    assert world.received(-100401) == ["Aviso de teste"]
    # A blocked or vanished chat is no longer linked as active; the migrated link moved.
    assert not (await world.links.get_link(201)).active  # type: ignore[union-attr]
    assert not (await world.links.get_link(777)).active  # type: ignore[union-attr]
    assert await world.links.get_link(401) is None
    assert (await world.links.get_link(-100401)).subscriber_id == "s4"  # type: ignore[union-attr]
    # The next broadcast leaves them out.
    assert await world.service.count(Audience(everyone=True)) == 4


async def test_the_report_counts_and_times(world: World) -> None:
    world.api.block(301)
    broadcast_id = await send_now(world, Audience(statuses=("active",)))
    report = await world.service.report(broadcast_id)
    assert report is not None
    data = report.to_json()
    assert data["progress"] == {"total": 4, "processed": 4, "percent": 100.0}
    assert data["report"]["sent"] == 3 and data["report"]["blocked"] == 1
    assert data["report"]["pending"] == 0 and data["report"]["uncertain"] == 0
    assert data["report"]["sending_seconds"] is not None
    assert data["report"]["rate_per_second"] is None or data["report"]["rate_per_second"] > 0
    assert data["audience"] == {"statuses": ["active"]}
    assert data["started_at"] and data["finished_at"]


async def test_media_goes_by_file_id_with_the_caption(world: World) -> None:
    stored = world.api.new_file(b"\x89PNG fake", None, "image/png")
    draft = Draft(
        "<b>Nova cobertura</b> no seu bairro",
        Audience(subscriber_ids=("s2",)),
        media_kind="photo",
        media_file_id=stored.file_id,
    )
    broadcast = await world.service.create(draft, created_by="test")
    await world.service.run(broadcast.id)
    sent = [e.message for e in world.api.chat_events(201) if e.kind == "sent" and e.message]
    assert len(sent) == 1 and sent[0].photo is not None
    assert sent[0].photo.file_id == stored.file_id
    assert sent[0].caption == "Nova cobertura no seu bairro"


class TimingOutBot:
    """The bot, whose send_message times out once for some chats (bot.delivery's TimedOut rule)."""

    def __init__(self, bot: Bot, errors: dict[int, Exception]) -> None:
        self.bot, self.errors = bot, errors

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        error = self.errors.pop(chat_id, None)
        if error is not None:
            if "not* sent" not in str(error):
                await self.bot.send_message(chat_id, text, **kwargs)  # it did arrive
            raise error
        return await self.bot.send_message(chat_id, text, **kwargs)


async def test_a_timeout_that_may_have_delivered_is_uncertain_and_a_pool_timeout_is_retried(
    world: World,
) -> None:
    """The rule notifications follow too: maybe sent → uncertain, never resent; the pool's
    "Request was *not* sent" → sent again (once it gets through)."""
    bot = TimingOutBot(
        world.bot,
        {
            101: TimedOut("Timed out waiting for the answer to POST sendMessage"),
            201: TimedOut("Pool timeout: ... Request was *not* sent to Telegram."),
        },
    )
    await world.service.stop(grace=1)
    world.service = world.new_service(sender=TelegramSender(bot))  # type: ignore[arg-type]
    broadcast_id = await send_now(world, Audience(everyone=True))
    report = await world.service.report(broadcast_id)
    assert report is not None and report.broadcast.status == "done"
    assert (report.sent, report.uncertain, report.failed) == (4, 1, 0)
    recorded = {chat: status for chat, status, _ in await world.store.recipients(broadcast_id)}
    assert recorded[101] == "uncertain" and recorded[201] == "sent"
    assert world.received(101) == ["Aviso de teste"]  # once: never sent again
    assert world.received(201) == ["Aviso de teste"]
