"""Notifications with a controllable clock: the right day, quiet hours, exactly once, opt-out,
blocked chats — detected from the sandbox provider and delivered through the offline Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import Bot
from telegram.error import TimedOut

from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.feed import SandboxFeed
from bot.localapi.core import BotApiError, LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.notifications import jobs as notification_jobs
from bot.notifications.jobs import DeliveryLoop, DeliveryReport, deliver_due, poll_and_plan
from bot.notifications.service import NotificationDetector, NotificationPlanner, QuietHours
from bot.notifications.store import NotificationStore, Outgoing
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from bot.ui.formatting import TIMEZONE, local_time
from tests.support.bot_env import TOKEN, BotEnv, Clock

pytestmark = pytest.mark.both_databases

CHAT = 555001
OTHER_CHAT = 555002


@dataclass
class World:
    clock: Clock
    backend: SandboxBackend
    store: NotificationStore
    detector: NotificationDetector
    planner: NotificationPlanner
    api: LocalBotApi
    bot: Bot

    def received(self, chat_id: int = CHAT) -> list[str]:
        return [
            e.message.text or ""
            for e in self.api.chat_events(chat_id)
            if e.kind == "sent" and e.message is not None
        ]

    async def run(self) -> list[str]:
        """One poll and one delivery round; returns the texts that reached the chat."""
        before = len(self.received())
        await poll_and_plan(self.detector, self.planner, self.clock())
        await deliver_due(self.bot, self.store, self.clock)
        return self.received()[before:]


# A reminder's messages: its text ending with the linha digitável's label, the linha alone, the
# PIX copia e cola's label, the PIX alone.
PARTS = 4


def is_whole_reminder(texts: list[str]) -> bool:
    return (
        len(texts) == PARTS
        and "vence em 3 dias" in texts[0]
        and is_valid_linha_digitavel(re.sub(r"\D", "", texts[1]))
        and texts[2].startswith("💠 PIX copia e cola")
        and is_valid_brcode(texts[3])
    )


def at(day: str, hour: int = 10) -> datetime:
    """``day`` at ``hour`` in São Paulo."""
    return (
        datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=TIMEZONE).astimezone(UTC)
    )


@pytest.fixture
async def world(
    seeded_sandbox_file: Path, tmp_path: Path, bot_database_url: str
) -> AsyncIterator[World]:
    clock = Clock(at("2026-12-07"))
    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    backend = SandboxBackend(
        f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        today=lambda: local_time(clock()).date(),
    )
    await backend.start()
    engine = create_engine(bot_database_url)
    await upgrade(engine)
    store = NotificationStore(engine)
    # Linked a month before, so recent facts are news to it.
    await store.link(CHAT, "s1", "ct-1", "Maria Aparecida dos Santos", at("2026-11-01"))
    api = LocalBotApi(TOKEN)
    api.user(CHAT)
    api.user(OTHER_CHAT)
    bot = Bot(TOKEN, request=InProcessRequest(api))
    await bot.initialize()
    yield World(
        clock,
        backend,
        store,
        NotificationDetector(SandboxFeed(backend)),
        NotificationPlanner(store, QuietHours()),
        api,
        bot,
    )
    await bot.shutdown()
    await backend.close()
    await engine.dispose()


async def test_reminders_on_the_right_days(world: World) -> None:
    # The demo subscriber's invoice inv-1012 is due on 10/12/2026.
    sent = await world.run()
    # The reminder, the linha digitável alone, the PIX copia e cola alone; each code labelled in
    # the message right above it, as on Faturas' "Ver boleto".
    assert len(sent) == 4
    assert "vence em 3 dias, em 10/12/2026" in sent[0]
    assert "R$ 99,90" in sent[0]
    assert sent[0].endswith("Linha digitável do boleto — toque no código abaixo para copiar:")
    assert is_valid_linha_digitavel(re.sub(r"\D", "", sent[1]))
    assert sent[2].startswith("💠 PIX copia e cola — R$ 99,90.")
    assert is_valid_brcode(sent[3])
    # Maria's November invoice is overdue too: the reminder says so, with its amount today
    # (R$ 99,90 with the fine and interest of its days late).
    assert (
        "Você tem também outra fatura vencida em aberto, R$ 102,80 no total. Com faturas "
        "vencidas o serviço pode ser suspenso, e só volta com todas pagas: veja todas no "
        "botão abaixo." in sent[0]
    )

    world.clock.now = at("2026-12-08")
    assert await world.run() == []  # already reminded for "due soon"

    world.clock.now = at("2026-12-10")
    assert "vence hoje (10/12/2026)" in (await world.run())[0]

    world.clock.now = at("2026-12-11")
    assert "está em aberto há 1 dia" in (await world.run())[0]

    world.clock.now = at("2026-12-13")
    assert await world.run() == []

    world.clock.now = at("2026-12-15")
    assert "está em aberto há 5 dias" in (await world.run())[0]


async def test_quiet_hours_defer_to_eight_in_the_morning(world: World) -> None:
    world.clock.now = at("2026-12-07", hour=22)
    assert await world.run() == []
    world.clock.now = at("2026-12-08", hour=7)
    assert (await deliver_due(world.bot, world.store, world.clock)).sent == 0
    assert world.received() == []
    world.clock.now = at("2026-12-08", hour=8)
    report = await deliver_due(world.bot, world.store, world.clock)
    assert report.sent == 1
    assert "vence em 3 dias" in world.received()[0]


async def test_no_duplicate_after_overlapping_polls_or_a_crash_mid_send(world: World) -> None:
    await poll_and_plan(world.detector, world.planner, world.clock())
    assert await poll_and_plan(world.detector, world.planner, world.clock()) == 0
    # The process dies with the reminder's first message in flight (it may have reached the
    # chat or not).
    (due,) = await world.store.due(world.clock())
    assert await world.store.start_part(due.id, 0)
    assert await world.store.recover_interrupted() == 1
    assert await world.run() == []
    assert (await world.store.count_by_status()).get("uncertain") == 1


async def test_muted_kind_is_not_sent_but_others_are(world: World) -> None:
    await world.store.set_muted(CHAT, {"invoices"})
    assert await world.run() == []
    await world.backend.simulate_payment("inv-1011")
    sent = await world.run()
    assert len(sent) == 1 and "Recebemos o pagamento" in sent[0]


async def test_payment_and_ticket_answer_are_notified_once(world: World) -> None:
    await world.run()
    await world.backend.simulate_payment("inv-1012")
    await world.backend.simulate_provider_reply("tk-1", "Técnico agendado para amanhã & <ok>")
    sent = await world.run()
    assert any("Recebemos o pagamento da sua fatura" in text for text in sent)
    answer = next(text for text in sent if "recebeu uma resposta" in text)
    assert "Técnico agendado para amanhã & <ok>" in answer
    assert await world.run() == []


async def test_facts_older_than_the_link_are_not_news(world: World) -> None:
    await world.backend.simulate_payment("inv-1012", paid_on=date(2026, 12, 6))
    await world.store.link(OTHER_CHAT, "s1", "ct-2", "Carlos", world.clock())
    await world.run()
    assert any("Recebemos o pagamento" in text for text in world.received(CHAT))
    assert all("Recebemos o pagamento" not in text for text in world.received(OTHER_CHAT))


async def test_blocked_chat_is_deactivated_and_skipped(world: World) -> None:
    world.api.block(CHAT)
    assert await world.run() == []
    link = await world.store.get_link(CHAT)
    assert link is not None and not link.active
    world.clock.now = at("2026-12-10")
    assert await world.run() == []
    assert (await world.store.count_by_status()).get("pending", 0) == 0


async def test_flood_wait_is_honoured(world: World) -> None:
    world.api.inject_flood_wait(30, "sendMessage")
    await poll_and_plan(world.detector, world.planner, world.clock())
    report = await deliver_due(world.bot, world.store, world.clock)
    assert report.sent == 0 and report.deferred == 1
    world.clock.advance(seconds=10)
    assert (await deliver_due(world.bot, world.store, world.clock)).sent == 0
    world.clock.advance(seconds=25)
    assert (await deliver_due(world.bot, world.store, world.clock)).sent == 1


def test_quiet_hours_parse_and_boundaries() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet.next_allowed(at("2026-12-07", 20)) == at("2026-12-07", 20)
    assert quiet.next_allowed(at("2026-12-07", 21)) == at("2026-12-08", 8)
    assert quiet.next_allowed(at("2026-12-08", 3)) == at("2026-12-08", 8)
    assert quiet.next_allowed(at("2026-12-08", 8)) == at("2026-12-08", 8)


# --- crashes, restarts and the one delivery loop (issue 17, defect 11) ---------------------------
MANY = [600001 + n for n in range(30)]


async def _link_many(world: World) -> list[int]:
    """31 chats of Maria's: one reminder (text, linha, PIX) each, 93 messages in all."""
    for chat_id in MANY:
        world.api.user(chat_id)
        await world.store.link(chat_id, "s1", "ct-1", "Maria", at("2026-11-01"))
    assert await poll_and_plan(world.detector, world.planner, world.clock()) == 31
    return [CHAT, *MANY]


class TrackedBot:
    """The bot's send_message through the local Bot API, a moment per message; counts messages
    in flight at once, and "dies" (hangs for ever) at call number ``hang_at``."""

    def __init__(self, bot: Bot, hang_at: int | None = None) -> None:
        self.bot = bot
        self.hang_at = hang_at
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.hung_chat: int | None = None
        self.hung = asyncio.Event()

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.hang_at:
            self.hung_chat = chat_id
            self.hung.set()
            await asyncio.Event().wait()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            return await self.bot.send_message(chat_id, text, **kwargs)
        finally:
            self.in_flight -= 1


class StoreDyingBetweenParts(NotificationStore):
    """Dies (hangs for ever) when about to send the second message of its ``nth`` reminder."""

    def __init__(self, engine: Any, nth: int) -> None:
        super().__init__(engine)
        self.nth, self.seconds = nth, 0
        self.died = asyncio.Event()

    async def start_part(self, notification_id: int, part: int) -> bool:
        if part == 1:
            self.seconds += 1
            if self.seconds == self.nth:
                self.died.set()
                await asyncio.Event().wait()
        return await super().start_part(notification_id, part)


async def _crash(task: asyncio.Task[Any], until: asyncio.Event) -> None:
    """The process dies once ``until`` is set: its delivery stops with nothing more recorded."""
    await asyncio.wait_for(until.wait(), 20)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _restart_and_deliver(world: World) -> tuple[int, DeliveryReport]:
    """Another process over the same database: settle, then deliver everything due."""
    store = NotificationStore(world.store._engine)
    recovered = await store.recover_interrupted()
    report = await DeliveryLoop(store, world.clock).run(world.bot)
    return recovered, report


async def test_a_crash_mid_round_leaves_only_the_message_in_flight_uncertain(world: World) -> None:
    chats = await _link_many(world)
    # 13 reminders go out whole; the 14th's first message too; the process dies with its
    # linha digitável in flight.
    dying = TrackedBot(world.bot, hang_at=13 * PARTS + 2)
    loop = DeliveryLoop(world.store, world.clock)
    await _crash(asyncio.create_task(loop.run(dying)), dying.hung)  # type: ignore[arg-type]
    assert dying.hung_chat is not None

    recovered, report = await _restart_and_deliver(world)
    assert recovered == 1  # only what was in flight; the 17 reminders never tried are pending
    assert report.sent == 17
    assert await world.store.count_by_status() == {"sent": 30, "uncertain": 1}
    for chat_id in chats:  # nobody twice, nobody forgotten
        expected = 1 if chat_id == dying.hung_chat else PARTS
        assert len(world.received(chat_id)) == expected, chat_id


async def test_a_reminder_cut_between_its_messages_is_completed_after_a_restart(
    world: World,
) -> None:
    chats = await _link_many(world)
    dying = StoreDyingBetweenParts(world.store._engine, nth=14)
    loop = DeliveryLoop(dying, world.clock)
    await _crash(asyncio.create_task(loop.run(world.bot)), dying.died)
    cut = [chat_id for chat_id in chats if len(world.received(chat_id)) == 1]
    assert len(cut) == 1  # its reminder text is there, its linha and PIX are not

    recovered, _ = await _restart_and_deliver(world)
    assert recovered == 0  # nothing was in flight
    assert await world.store.count_by_status() == {"sent": 31}
    for chat_id in chats:
        assert is_whole_reminder(world.received(chat_id)), chat_id  # whole, nothing twice


async def test_one_delivery_loop_however_many_jobs_ask_for_it(world: World) -> None:
    await _link_many(world)
    bot = TrackedBot(world.bot)
    found = SimpleNamespace(
        notifications=world.store,
        clock=world.clock,
        detector=world.detector,
        planner=world.planner,
        settings=SimpleNamespace(notify_poll_seconds=300),
    )
    application = SimpleNamespace(bot_data={"services": found}, job_queue=None)
    await notification_jobs.schedule(application)
    later: list[asyncio.Task[Any]] = []

    class Queue:
        def run_once(self, callback: Any, when: float, name: str | None = None) -> None:
            later.append(asyncio.create_task(callback(context)))

    context = SimpleNamespace(application=application, bot=bot, job_queue=Queue())
    world.clock.advance(days=1)  # the next poll finds "due soon" again (nothing new) …
    await world.backend.simulate_payment("inv-1011")  # … and a payment: new notices
    # The repeating delivery job, a poll that found something, and the repeating job again.
    await asyncio.gather(
        notification_jobs._deliver_job(context),
        notification_jobs._poll_job(context),
        notification_jobs._deliver_job(context),
    )
    await application.bot_data[notification_jobs.POLL_KEY].wait()  # the round's own task
    await asyncio.gather(*later)
    assert bot.most_in_flight == 1  # never two messages in flight: one loop sends
    statuses = await world.store.count_by_status()
    assert statuses == {"sent": 62}, statuses
    assert all(len(world.received(c)) == PARTS + 1 for c in [CHAT, *MANY])  # reminder + payment


async def test_a_restarted_bot_delivers_what_is_due_at_once(env: BotEnv) -> None:
    store: NotificationStore = env.app.bot_data["services"].notifications
    await store.link(555001, "s1", "ct-1", "Maria", env.clock())
    outgoing = Outgoing("note:x", 555001, "fiscal_note", NOTE_PAYLOAD, env.clock())
    assert await store.enqueue([outgoing], env.clock()) == 1
    await env.launch()  # a restart with a notification due
    for _ in range(30):  # 3 s
        if any(c.method == "sendMessage" and c.params["chat_id"] == 555001 for c in env.api.calls):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("nothing was delivered within 3 s of the restart")


NOTE_PAYLOAD = {
    "note_id": "n1",
    "number": "123",
    "model": "NFCom",
    "issued_on": "2026-12-01",
    "amount": "99.90",
}


class FailingBot:
    """The bot's send_message, failing once with ``error`` at call number ``at``."""

    def __init__(self, bot: Bot, at: int, error: Exception) -> None:
        self.bot, self.at, self.error, self.calls = bot, at, error, 0

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise self.error
        return await self.bot.send_message(chat_id, text, **kwargs)


async def test_a_reminder_cut_by_network_trouble_gets_only_its_missing_messages(
    world: World,
) -> None:
    await poll_and_plan(world.detector, world.planner, world.clock())
    # The linha digitável did not leave (the connection pool was full): the PIX waits too.
    pool_full = TimedOut("Pool timeout: ... Request was *not* sent to Telegram.")
    bot = FailingBot(world.bot, at=2, error=pool_full)
    report = await deliver_due(bot, world.store, world.clock)  # type: ignore[arg-type]
    assert report.deferred == 1 and len(world.received()) == 1
    world.clock.advance(minutes=3)  # the back-off
    assert (await deliver_due(world.bot, world.store, world.clock)).sent == 1
    assert is_whole_reminder(world.received())


async def test_a_timeout_that_may_have_delivered_is_uncertain_not_repeated(world: World) -> None:
    await poll_and_plan(world.detector, world.planner, world.clock())
    bot = FailingBot(world.bot, at=2, error=TimedOut("Timed out waiting for the answer"))
    report = await deliver_due(bot, world.store, world.clock)  # type: ignore[arg-type]
    assert report.uncertain == 1
    world.clock.advance(hours=1)
    assert (await deliver_due(world.bot, world.store, world.clock)).sent == 0
    assert len(world.received()) == 1
    assert await world.store.count_by_status() == {"uncertain": 1}


async def test_a_notification_to_a_migrated_group_is_delivered_to_its_new_chat_id(
    world: World,
) -> None:
    """A linked group became a supergroup: Telegram answers 400 with ``migrate_to_chat_id``
    (python-telegram-bot raises ChatMigrated); the link and the outbox follow the new id and
    the whole reminder goes there, once (bot.delivery: MOVED, as broadcasts do)."""
    new_id = -100555001
    world.api.user(new_id, chat_type="supergroup")
    send = world.api._m_sendmessage

    async def migrated(params: dict[str, Any], files: dict[str, Any]) -> Any:
        if int(params["chat_id"]) == CHAT:
            raise BotApiError(
                "Bad Request: group chat was upgraded to a supergroup chat",
                400,
                {"migrate_to_chat_id": new_id},
            )
        return await send(params, files)

    world.api._m_sendmessage = migrated  # type: ignore[method-assign]
    await poll_and_plan(world.detector, world.planner, world.clock())
    report = await deliver_due(world.bot, world.store, world.clock)
    assert (report.sent, report.failed, report.deferred) == (1, 0, 0)
    assert is_whole_reminder(world.received(new_id))
    assert world.received(CHAT) == []
    assert await world.store.get_link(CHAT) is None
    link = await world.store.get_link(new_id)
    assert link is not None and link.active and link.subscriber_id == "s1"
    # Nothing twice; the next reminder goes straight to the new id.
    assert await world.run() == []
    world.clock.now = at("2026-12-10")
    await world.run()
    assert len(world.received(new_id)) == 2 * PARTS
    assert "vence hoje" in world.received(new_id)[PARTS]
    assert await world.store.count_by_status() == {"sent": 2}


async def test_after_a_migration_the_chats_other_notifications_follow_and_none_is_doubled(
    world: World,
) -> None:
    """Two notifications due for a group that migrates: both reach the new id in the same
    round; one already queued for the new id under the same key is sent there only once."""
    new_id = -100555001
    world.api.user(new_id, chat_type="supergroup")
    send = world.api._m_sendmessage

    async def migrated(params: dict[str, Any], files: dict[str, Any]) -> Any:
        if int(params["chat_id"]) == CHAT:
            raise BotApiError("Bad Request: group upgraded", 400, {"migrate_to_chat_id": new_id})
        return await send(params, files)

    world.api._m_sendmessage = migrated  # type: ignore[method-assign]
    await poll_and_plan(world.detector, world.planner, world.clock())
    (first,) = await world.store.due(world.clock())
    now = world.clock()
    await world.store.enqueue(
        [
            Outgoing("second", CHAT, first.kind, first.payload, now),
            Outgoing("third", CHAT, first.kind, first.payload, now),
            Outgoing("third", new_id, first.kind, first.payload, now),  # already queued there
        ],
        now,
    )
    report = await deliver_due(world.bot, world.store, world.clock)
    assert (report.sent, report.failed) == (3, 0)
    assert len(world.received(new_id)) == 3 * PARTS and world.received(CHAT) == []
    assert await world.store.count_by_status() == {"sent": 3, "failed": 1}
