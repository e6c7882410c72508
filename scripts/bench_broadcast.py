"""Benchmark: one provider broadcast to N generated linked chats through a Bot API stand-in.

    .venv/bin/python scripts/bench_broadcast.py [--chats 100000] [--rate 1000]
        [--latency 0.03 0.08] [--blocked 0.005] [--flood-waits 1] [--crash-after N]
        [--database-url postgresql://…]

What runs is the production path: ``BroadcastService`` (recipients, group-committed outcomes,
passes), ``TelegramSender`` through a python-telegram-bot ``ExtBot`` whose rate limiter is the
shared ``PacedRateLimiter`` built exactly as ``build_application`` builds it (here with
``PAID_BROADCAST=true`` and ``BROADCAST_RATE`` = ``--rate``). The stand-in answers like the Bot
API (HTML and length checks, 403 for chats that blocked the bot, 429 with ``retry_after`` when
asked) after a random delay per call (``--latency``, default 30–80 ms), with any number of calls
in flight, and counts what each chat received — so duplicates and losses are checked on what
was *delivered*, not only on what the database says. Meanwhile a subscriber chats with the bot
(5 replies a second through the same limiter), to show replies are not starved.

With ``--crash-after N`` every task of the broadcast is killed once N messages went out, a new
service (as after a restart) recovers and finishes it; the figures then cover both runs.

The sandbox provider is also filled with N generated subscribers (``--no-provider`` skips it)
to time the resolution of a filtered audience (a city and a status) over N subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import resource
import statistics
import tempfile
import time
from array import array
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telegram.ext import ExtBot

from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.feed import SandboxFeed
from backend_client.sandbox.population import populate
from bot.broadcasts.audience import Audience
from bot.broadcasts.jobs import create_pacer
from bot.broadcasts.sender import TelegramSender
from bot.broadcasts.service import BroadcastService, Draft
from bot.broadcasts.store import BroadcastStore
from bot.localapi.core import BotApiError
from bot.localapi.inprocess import InProcessRequest
from bot.notifications.store import ChatLinkRow, NotificationStore
from bot.services.pacing import PacedRateLimiter
from bot.settings import Settings
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from bot.telegram_html import TEXT_LIMIT, html_to_text

TOKEN = "123456789:AAFakeTokenForBenchmarksOnly_0123456789abc"
FIRST_CHAT = 10_000_000
CHATTER = 42  # the subscriber chatting during the broadcast
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
TEXT = (
    "📣 <b>Manutenção programada</b>\n\nHoje, das <b>23h às 2h</b>, faremos melhorias na rede. "
    'A conexão pode oscilar por alguns minutos. Dúvidas? <a href="https://t.me/provedor">Fale '
    "conosco</a>."
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StandInApi:
    """Answers Bot API calls like Telegram (the rules of ``bot.localapi.core``), remembering only
    how many messages each chat received."""

    def __init__(self, chats: int, blocked: set[int], flood_at: list[int]) -> None:
        self.token = TOKEN
        self.delivered = array("I", bytes(4 * chats))
        self.blocked = blocked
        self.flood_at = sorted(flood_at)
        self.calls = 0
        self.sends = 0
        self.first_send: float | None = None
        self.last_send = 0.0
        self.floods = 0
        self.chatter_messages = 0
        self.progress = asyncio.Condition()

    async def call(
        self, token: str, method: str, params: dict[str, Any], files: dict[str, Any]
    ) -> Any:
        self.calls += 1
        if token != self.token:
            raise BotApiError("Unauthorized", 401)
        if method == "getMe":
            return {"id": 123456789, "is_bot": True, "first_name": "Bench", "username": "bench"}
        if method != "sendMessage":
            raise BotApiError("Not Found: method not found", 404)
        chat_id = int(params["chat_id"])
        if self.flood_at and self.sends >= self.flood_at[0]:
            self.flood_at.pop(0)
            self.floods += 1
            raise BotApiError("Too Many Requests: retry after 1", 429, {"retry_after": 1})
        raw = str(params.get("text", ""))
        shown = html_to_text(raw) if params.get("parse_mode") == "HTML" else raw
        if not shown.strip():
            raise BotApiError("Bad Request: message text is empty")
        if len(shown.strip()) > TEXT_LIMIT:
            raise BotApiError("Bad Request: message is too long")
        if chat_id in self.blocked:
            raise BotApiError("Forbidden: bot was blocked by the user", 403)
        now = time.perf_counter()
        if chat_id == CHATTER:
            self.chatter_messages += 1
        else:
            self.delivered[chat_id - FIRST_CHAT] += 1
            self.sends += 1
            self.first_send = self.first_send or now
            self.last_send = now
            if self.sends % 1000 == 0:
                async with self.progress:
                    self.progress.notify_all()
        chat = {"id": chat_id, "type": "private", "first_name": "Assinante"}
        return {"message_id": self.calls, "date": int(time.time()), "chat": chat, "text": shown}

    def file_content(self, token: str, path: str) -> Any:
        raise BotApiError("Not Found: file not found", 404)


class SlowRequest(InProcessRequest):
    """The in-process request with Telegram's round trip: a random delay per call."""

    def __init__(self, api: Any, low: float, high: float) -> None:
        super().__init__(api)
        self.low, self.high = low, high

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(random.uniform(self.low, self.high))
        return await super().do_request(url, method, *args, **kwargs)


async def link_chats(engine: Any, count: int) -> None:
    sessions = NotificationStore(engine)._sessions
    async with sessions.begin() as session:
        for start in range(0, count, 5000):
            await session.execute(
                insert(ChatLinkRow),
                [
                    {
                        "chat_id": FIRST_CHAT + i,
                        "subscriber_id": f"g{i}",
                        "contact_id": f"gct{i}",
                        "contact_name": f"Assinante {i}",
                        "linked_at": NOW - timedelta(days=30),
                        "active": True,
                        "muted": [],
                    }
                    for i in range(start, min(start + 5000, count))
                ],
            )


async def chat_meanwhile(bot: ExtBot, stop: asyncio.Event, latencies: list[float]) -> None:  # type: ignore[type-arg]
    """A subscriber chatting with the bot: 5 replies a second, each timed end to end."""
    while not stop.is_set():
        started = time.perf_counter()
        await bot.send_message(CHATTER, "Sua fatura está em dia. ✅")
        latencies.append(time.perf_counter() - started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def kill(service: BroadcastService) -> None:
    """Stop every task of the service at once (a crash: nothing more is recorded)."""
    tasks: list[asyncio.Task[Any]] = []
    for run in service._runs.values():
        tasks += [w.task for w in run.workers if w.task is not None]
        tasks += [t for t in (run.control, run.task) if t is not None]
        if run.journal is not None and run.journal._task is not None:
            tasks.append(run.journal._task)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def main(args: argparse.Namespace) -> None:
    count = args.chats
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bot.db'}"
        engine = create_engine(url)
        await upgrade(engine)
        started = time.perf_counter()
        await link_chats(engine, count)
        feed_line = None
        if not args.no_provider:
            backend = SandboxBackend(
                f"sqlite+aiosqlite:///{Path(folder) / 'sandbox.db'}", today=lambda: TODAY
            )
            await backend.start()
            await populate(backend, count, today=TODAY)
        generated = time.perf_counter() - started
        settings = Settings(
            telegram_bot_token=TOKEN,
            broadcast_rate=args.rate,
            paid_broadcast=args.rate > 30,
            telegram_max_rate=30,
        )
        rng = random.Random(7)
        blocked = {FIRST_CHAT + i for i in range(count) if rng.random() < args.blocked}
        flood_at = [count * (k + 1) // (args.flood_waits + 1) for k in range(args.flood_waits)]
        api = StandInApi(count, blocked, flood_at)
        pacer = create_pacer(settings)
        bot: ExtBot = ExtBot(  # type: ignore[type-arg]
            TOKEN,
            request=SlowRequest(api, *args.latency),
            rate_limiter=PacedRateLimiter(pacer),
        )
        await bot.initialize()
        store, links = BroadcastStore(engine), NotificationStore(engine)
        feed = None if args.no_provider else SandboxFeed(backend)

        def service_now() -> BroadcastService:
            return BroadcastService(
                store,
                links,
                clock=lambda: datetime.now(UTC),
                feed=feed,
                sender=TelegramSender(bot),
                pacer=pacer,
                rate=settings.broadcast_rate,
                paid=settings.paid_broadcast,
            )

        service = service_now()
        if feed is not None:
            segment = Audience(places=(("Campinas", None),), statuses=("overdue",))
            started = time.perf_counter()
            found = await service.count(await service.check_audience(segment))
            feed_line = (found, time.perf_counter() - started)

        rss_before = peak_rss_mb()
        broadcast = await service.create(Draft(TEXT, Audience(everyone=True)), "bench")
        stop, latencies = asyncio.Event(), []
        chatter = asyncio.create_task(chat_meanwhile(bot, stop, latencies))
        wall = time.perf_counter()
        crashed_uncertain = 0
        if args.crash_after:
            await service.dispatch_due()
            async with api.progress:
                await api.progress.wait_for(lambda: api.sends >= args.crash_after)
            await kill(service)
            service = service_now()  # the restarted bot
            crashed_uncertain = await service.recover()
        await service.run(broadcast.id)
        wall = time.perf_counter() - wall
        stop.set()
        await chatter
        report = await service.report(broadcast.id)
        assert report is not None

        delivered = api.delivered
        duplicates = sum(1 for n in delivered if n > 1)
        expected = [i for i in range(count) if FIRST_CHAT + i not in blocked]
        rows = await store.recipients(broadcast.id)
        uncertain_chats = {chat for chat, status, _ in rows if status == "uncertain"}
        losses = sum(
            1 for i in expected if delivered[i] == 0 and FIRST_CHAT + i not in uncertain_chats
        )
        sending_span = (api.last_send - (api.first_send or api.last_send)) or 1e-9
        achieved = api.sends / sending_span
        lat = sorted(latencies)
        print(f"| linked chats (recipients) | {count:,} |")
        print(f"| configured rate | {args.rate:g} msg/s (PAID_BROADCAST, replies ≤ 30/s) |")
        low, high = (value * 1000 for value in args.latency)
        print(
            f"| Bot API stand-in latency | {low:.0f}–{high:.0f} ms a call, any number in flight |"
        )
        print(f"| database | {engine.dialect.name} |")
        print(f"| generation (not timed below) | {generated:.1f} s |")
        if feed_line:
            print(
                f"| filtered audience (Campinas + overdue) over {count:,} subscribers | "
                f"{feed_line[0]:,} chats in {feed_line[1]:.2f} s |"
            )
        floods = f"{api.floods} (1 s each)"
        print(
            f"| delivered / blocked / flood waits | {api.sends:,} / {len(blocked):,} / {floods} |"
        )
        print(f"| wall time | {wall:.1f} s |")
        share = 100 * achieved / args.rate
        print(
            f"| achieved rate (deliveries / sending span) | {achieved:.0f} msg/s "
            f"({share:.1f} % of configured) |"
        )
        print(
            f"| report: sent / blocked / failed / pending / uncertain | {report.sent:,} / "
            f"{report.blocked:,} / {report.failed} / {report.pending} / {report.uncertain} |"
        )
        print(f"| report: rate over sending time | {report.rate or 0:.0f} msg/s |")
        if args.crash_after:
            print(
                f"| crash after {args.crash_after:,} sends: left uncertain | "
                f"{crashed_uncertain} (never resent) |"
            )
        print(f"| duplicates (a chat got it twice) | {duplicates} |")
        print(f"| losses (not delivered, not blocked, not reported uncertain) | {losses} |")
        if lat:
            p50, p99 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000
            print(
                f"| replies to a chatting subscriber meanwhile | {len(lat)}; p50 {p50:.0f} ms, "
                f"p99 {p99:.0f} ms, max {lat[-1] * 1000:.0f} ms (API latency included) |"
            )
        print(f"| peak RSS | {peak_rss_mb():.0f} MB (before the broadcast: {rss_before:.0f} MB) |")
        await bot.shutdown()
        if not args.no_provider:
            await backend.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--latency", type=float, nargs=2, default=(0.03, 0.08))
    parser.add_argument("--blocked", type=float, default=0.005, help="share of blocked chats")
    parser.add_argument("--flood-waits", type=int, default=1, help="429s injected (1 s each)")
    parser.add_argument("--crash-after", type=int, default=0, help="kill the broadcast after N")
    parser.add_argument("--database-url", help="the bot's database (default: SQLite in a temp dir)")
    parser.add_argument("--no-provider", action="store_true", help="skip the sandbox population")
    asyncio.run(main(parser.parse_args()))
