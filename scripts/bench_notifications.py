"""Benchmark: a polling round of reminders for N generated sandbox subscribers, and whether
the bot stays responsive meanwhile.

    .venv/bin/python scripts/bench_notifications.py [--subscribers 100000]

Generates N subscribers (each with a contract, a linked chat with its sealed feed reference and
an open invoice due within the reminder windows) into a fresh sandbox and bot database, then
runs one polling round as the bot does (the watched list from the links, every question page by
page, each page's notices fanned out and enqueued, the position saved) and a second, overlapping
one (which must enqueue nothing). Meanwhile a 10 ms ticker measures the longest pause of the
event loop and a subscriber chatting with the bot (a reply every 200 ms through the in-process
Bot API) measures reply latency. Reports round time, pages, outbox rows, longest pause, reply
p50/p99 and peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import insert
from telegram import Bot

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.db import ContractRow, InvoiceRow, SubscriberRow
from backend_client.sandbox.feed import SandboxFeed
from backend_client.sandbox.security import hash_password
from bot.localapi.core import LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.notifications.service import NotificationDetector, NotificationPlanner, QuietHours
from bot.notifications.store import ChatLinkRow, NotificationStore
from bot.storage.db import create_engine
from bot.storage.encryption import SecretBox
from bot.storage.migrations import upgrade
from bot.storage.rounds import RoundStore

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
BATCH = 5000
TOKEN = "123456789:AAFakeTokenForBenchmarksOnly_0123456789abc"
CHATTER = 42  # the subscriber chatting with the bot during the round


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def generate(backend: SandboxBackend, bot_engine: object, count: int, box: SecretBox) -> None:
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
                        "reference": box.seal(f"g{i}"),  # as linking stores it
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


async def _chat_meanwhile(bot: Bot, stop: asyncio.Event, latencies: list[float]) -> None:
    """A subscriber chatting with the bot: a reply every 200 ms, each timed end to end (through
    the in-process Bot API, on the same event loop as the round)."""
    while not stop.is_set():
        started = time.perf_counter()
        await bot.send_message(CHATTER, "Sua fatura está em dia. ✅")
        latencies.append(time.perf_counter() - started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


@dataclass
class Figures:
    round_seconds: float
    pages: int
    added: int
    again: int
    again_seconds: float
    longest_pause: float
    longest_pause_again: float
    replies: list[float]

    def rows(self) -> list[str]:
        lat = sorted(self.replies) or [0.0]
        p50, p99 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000
        return [
            f"| round (watched list → pages → fan out → outbox) | {self.round_seconds:.1f} s, "
            f"{self.pages:,} pages |",
            f"| outbox rows enqueued | {self.added:,} |",
            f"| overlapping second round: enqueued | {self.again} in {self.again_seconds:.1f} s |"
            if self.again >= 0
            else "| overlapping second round | not run |",
            f"| longest event-loop pause: first round / second round | "
            f"{self.longest_pause * 1000:.0f} ms / {self.longest_pause_again * 1000:.0f} ms |",
            f"| replies to a subscriber chatting meanwhile | {len(lat):,}: p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms, max {lat[-1] * 1000:.1f} ms |",
        ]


async def measure(
    detector: NotificationDetector, planner: NotificationPlanner, *, again: bool = True
) -> Figures:
    """Two polling rounds as the bot runs them (one with ``again`` False), with the ticker and
    the chatting subscriber."""
    api = LocalBotApi(TOKEN)
    api.user(CHATTER)
    bot = Bot(TOKEN, request=InProcessRequest(api))
    await bot.initialize()
    longest, latencies, stop = [0.0], [], asyncio.Event()
    ticker = asyncio.create_task(_longest_pause(longest))
    chatter = asyncio.create_task(_chat_meanwhile(bot, stop, latencies))
    await asyncio.sleep(0.3)  # the chat is going when the round starts
    started = time.perf_counter()
    first = await detector.poll(NOW, planner.plan)
    round_seconds = time.perf_counter() - started
    assert first.finished, "the round did not finish"
    first_pause, longest[0] = longest[0], 0.0
    started = time.perf_counter()
    second = await detector.poll(NOW + timedelta(minutes=5), planner.plan) if again else None
    again_seconds = time.perf_counter() - started
    stop.set()
    ticker.cancel()
    await asyncio.gather(ticker, chatter, return_exceptions=True)
    await bot.shutdown()
    return Figures(
        round_seconds,
        first.pages,
        first.added,
        second.added if second is not None else -1,
        again_seconds,
        first_pause,
        longest[0],
        latencies,
    )


async def sandbox(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        backend = SandboxBackend(
            f"sqlite+aiosqlite:///{Path(folder) / 'sandbox.db'}", today=lambda: TODAY
        )
        await backend.start()
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}")
        await upgrade(engine)
        box = SecretBox([Fernet.generate_key().decode()])
        started = time.perf_counter()
        await generate(backend, engine, count, box)
        generated = time.perf_counter() - started

        store = NotificationStore(engine, box=box)
        detector = NotificationDetector(
            SandboxFeed(backend), watched=store, rounds=RoundStore(engine)
        )
        planner = NotificationPlanner(store, QuietHours())
        rss_before = peak_rss_mb()
        # As bot.runner does once started: what start-up built leaves the collector's reach.
        gc.collect()
        gc.freeze()
        figures = await measure(detector, planner)
        statuses = await store.count_by_status()

        print(f"### sandbox: {count:,} subscribers, each with a linked chat")
        print("| | |\n|---|---|")
        print(f"| generation (not measured below) | {generated:.1f} s |")
        for row in figures.rows():
            print(row)
        print(f"| outbox by status | {statuses} |")
        print(f"| peak RSS | {peak_rss_mb():.0f} MB (before the round: {rss_before:.0f} MB) |")
        await backend.close()
        await engine.dispose()


async def link_chats(engine: object, watched: list[tuple[str, str]], box: SecretBox) -> None:
    """A linked chat per watched subscriber, its feed reference sealed as linking stores it."""
    sessions = NotificationStore(engine)._sessions  # type: ignore[arg-type]
    async with sessions.begin() as session:
        for start in range(0, len(watched), BATCH):
            await session.execute(
                insert(ChatLinkRow),
                [
                    {
                        "chat_id": 20_000_000 + start + k,
                        "subscriber_id": subscriber_id,
                        "contact_id": "titular",
                        "contact_name": "Assinante",
                        "linked_at": NOW - timedelta(days=30),
                        "active": True,
                        "muted": [],
                        "reference": box.seal(reference),
                    }
                    for k, (subscriber_id, reference) in enumerate(watched[start : start + BATCH])
                ],
            )


async def real_system(name: str, count: int, rate: float) -> None:
    """A round over ``count`` linked chats against the SGP or IXC stand-in (served by a process
    of its own), every feed request paced at ``rate`` per second."""
    from bench_standins import serve

    from backend_client.feeds import create_feed
    from backend_client.ixc import IxcBackend
    from backend_client.sgp import SgpBackend

    started = time.perf_counter()
    process, url, accounts, watched = serve(name, count, TODAY)
    backend: Any
    if name == "sgp":
        integration = accounts["integration"]
        backend = SgpBackend(url, integration["token"], integration["app"], today=lambda: TODAY)
    else:
        backend = IxcBackend(url, accounts["user"], accounts["token"], today=lambda: TODAY)
    await backend.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}")
            await upgrade(engine)
            box = SecretBox([Fernet.generate_key().decode()])
            await link_chats(engine, watched, box)
            generated = time.perf_counter() - started
            feed: Any = create_feed(backend, requests_per_second=rate)
            store = NotificationStore(engine, box=box, id_is_reference=name != "sgp")
            detector = NotificationDetector(feed, watched=store, rounds=RoundStore(engine))
            planner = NotificationPlanner(store, QuietHours())
            gc.collect()
            gc.freeze()
            figures = await measure(detector, planner, again=False)
            requests = feed.pacer.requests
            print(f"### {name} stand-in: {count:,} linked chats, feed paced at {rate:g} requests/s")
            print("| | |\n|---|---|")
            print(f"| stand-in and links generated (not measured below) | {generated:.1f} s |")
            for row in figures.rows():
                print(row)
            print(
                f"| requests to the provider's system in the round | {requests:,} "
                f"({requests / figures.round_seconds:.0f}/s achieved) |"
            )
            hours = requests / 2 / 3600
            print(f"| the same round at the default BACKEND_FEED_RATE=2 | ~{hours:.1f} h |")
            await engine.dispose()
    finally:
        await backend.close()
        process.terminate()


async def main(args: argparse.Namespace) -> None:
    if args.system in ("sandbox", "all"):
        await sandbox(args.subscribers)
    for name in ("sgp", "ixc"):
        if args.system in (name, "all"):
            await real_system(name, args.linked, args.rate)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--system", choices=("sandbox", "sgp", "ixc", "all"), default="all")
    parser.add_argument("--linked", type=int, default=10_000, help="SGP/IXC linked chats")
    parser.add_argument(
        "--rate", type=float, default=200, help="SGP/IXC feed requests per second (the bench's)"
    )
    asyncio.run(main(parser.parse_args()))
