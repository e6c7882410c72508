"""Benchmark: compute and enqueue the reminders for N generated sandbox subscribers.

    .venv/bin/python scripts/bench_notifications.py [--subscribers 100000]

Generates N subscribers (each with a contract, a linked chat and an open invoice due within the
reminder windows) into a fresh sandbox and bot database, then times one polling round
(detect → fan out → enqueue) and a second, overlapping one (which must enqueue nothing), and
reports wall time and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.db import ContractRow, InvoiceRow, SubscriberRow
from backend_client.sandbox.feed import SandboxFeed
from backend_client.sandbox.security import hash_password
from bot.services.notifications import NotificationDetector, NotificationPlanner, QuietHours
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from bot.storage.notifications import ChatLinkRow, NotificationStore

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
BATCH = 5000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def generate(backend: SandboxBackend, bot_engine: object, count: int) -> None:
    """N subscribers, contracts, open invoices (due from D-10 to D+3) and linked chats."""
    password_hash = hash_password("bench1234")
    async with backend._transaction() as db:
        for start in range(0, count, BATCH):
            ids = range(start, min(start + BATCH, count))
            address = {
                "street": "Rua das Palmeiras",
                "street_number": "100",
                "complement": "",
                "neighbourhood": "Centro",
                "city": "Sumaré",
                "state": "SP",
                "postal_code": "13170000",
            }
            await db.execute(
                insert(SubscriberRow),
                [
                    {
                        "id": f"g{i}",
                        "name": f"Assinante {i}",
                        "document": f"9{i:010d}",
                        "email": None,
                        "phones": "",
                        "password_hash": password_hash,
                        **address,
                    }
                    for i in ids
                ],
            )
            await db.execute(
                insert(ContractRow),
                [
                    {
                        "id": f"gc{i}",
                        "subscriber_id": f"g{i}",
                        "number": f"2026/{i:06d}",
                        "plan_id": "fibra-300",
                        "status": "active",
                        "due_day": 10,
                        "started_on": date(2025, 1, 10),
                        "temporarily_enabled_until": None,
                        **address,
                    }
                    for i in ids
                ],
            )
            await db.execute(
                insert(InvoiceRow),
                [
                    {
                        "id": f"gi{i}",
                        "contract_id": f"gc{i}",
                        "number": 5_000_000 + i,
                        "bank_code": "001",
                        "reference": "12/2026",
                        "issued_on": date(2026, 11, 20),
                        "due_date": TODAY + timedelta(days=(i % 14) - 10),
                        "amount_cents": 9990,
                        "status": "open",
                        "paid_on": None,
                        "paid_amount_cents": None,
                    }
                    for i in ids
                ],
            )
    sessions = NotificationStore(bot_engine)._sessions  # type: ignore[arg-type]
    async with sessions.begin() as session:
        for start in range(0, count, BATCH):
            await session.execute(
                insert(ChatLinkRow),
                [
                    {
                        "chat_id": 10_000_000 + i,
                        "subscriber_id": f"g{i}",
                        "contact_id": f"gct{i}",
                        "contact_name": f"Assinante {i}",
                        "linked_at": NOW - timedelta(days=30),
                        "active": True,
                        "muted": [],
                    }
                    for i in range(start, min(start + BATCH, count))
                ],
            )


async def _longest_pause(longest: list[float]) -> None:
    """Keeps in ``longest[0]`` how long the event loop went without running this ticker (due
    every 10 ms)."""
    last = time.perf_counter()
    while True:
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        longest[0] = max(longest[0], now - last - 0.01)
        last = now


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backend = SandboxBackend(
            f"sqlite+aiosqlite:///{Path(folder) / 'sandbox.db'}", today=lambda: TODAY
        )
        await backend.start()
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}")
        await upgrade(engine)
        started = time.perf_counter()
        await generate(backend, engine, count)
        generated = time.perf_counter() - started

        store = NotificationStore(engine)
        detector = NotificationDetector(SandboxFeed(backend))
        planner = NotificationPlanner(store, QuietHours())
        rss_before = peak_rss_mb()

        longest = [0.0]
        pauses = asyncio.create_task(_longest_pause(longest))
        started = time.perf_counter()
        notices = await detector.detect(NOW)
        detected = time.perf_counter() - started
        started = time.perf_counter()
        enqueued = await planner.plan(notices, NOW)
        planned = time.perf_counter() - started
        started = time.perf_counter()
        again = await planner.plan(await detector.detect(NOW), NOW)
        second_round = time.perf_counter() - started
        pauses.cancel()
        await asyncio.gather(pauses, return_exceptions=True)
        statuses = await store.count_by_status()

        print(f"| subscribers (linked chats) | {count:,} |")
        print(f"| generation (not measured below) | {generated:.1f} s |")
        print(f"| notices detected | {len(notices):,} |")
        print(f"| detect (provider queries → notices) | {detected:.2f} s |")
        print(f"| fan out + enqueue (outbox rows) | {enqueued:,} in {planned:.2f} s |")
        print(f"| total round | {detected + planned:.2f} s |")
        print(f"| overlapping second round: enqueued | {again} in {second_round:.2f} s |")
        print(f"| outbox by status | {statuses} |")
        print(
            f"| longest event-loop pause meanwhile (the bot answers nobody) | {longest[0]:.2f} s |"
        )
        print(f"| peak RSS | {peak_rss_mb():.0f} MB (before the round: {rss_before:.0f} MB) |")
        await backend.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().subscribers))
