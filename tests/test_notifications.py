"""Notifications with a controllable clock: the right day, quiet hours, exactly once, opt-out,
blocked chats — detected from the sandbox provider and delivered through the offline Bot API."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from telegram import Bot

from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.feed import SandboxFeed
from bot.handlers.notification_jobs import deliver_due, poll_and_plan
from bot.localapi.core import LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.services.notifications import NotificationDetector, NotificationPlanner, QuietHours
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from bot.storage.notifications import NotificationStore
from bot.ui.formatting import TIMEZONE, local_time
from tests.conftest import TOKEN, Clock

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
    assert len(sent) == 3  # the reminder, then the linha digitável and the PIX, each alone
    assert "vence em 3 dias, em 10/12/2026" in sent[0]
    assert "R$ 99,90" in sent[0]
    assert is_valid_linha_digitavel(sent[1])
    assert is_valid_brcode(sent[2])

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
    # The process dies after claiming the notification (it may have reached the chat or not).
    await world.store.claim_due(world.clock())
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
