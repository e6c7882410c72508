#!/usr/bin/env python
"""Benchmark of the whole bot over the local Bot API, against a bare echo bot on the same harness.

    .venv/bin/python scripts/benchmark.py [--users 200] [--paced-users 300] [--conversations 10000]

The local Bot API (``bot.localapi``) is served on loopback by this process; the bot under test is
the real ``minha-central run`` process (polling, SQLite, sandbox provider), so its CPU time and
peak memory are its own (read from /proc). Three measurements:

1. **Throughput** — ``--users`` subscribers at once, each through the journey: /start, CPF,
   password, "Agora não" (link offer), Faturas, "Todas em aberto", "Ver boleto", Menu — every
   step sent once the previous one was answered. Reported: updates/s, latency per update (sent →
   the bot's answer complete) p50/p95/p99, bot CPU seconds per 1,000 updates, peak RSS. The same
   harness drives a bare python-telegram-bot echo bot (default settings) with the same number of
   users and messages, for the framework's floor.
2. **Latency at a fixed offered load** — ``--paced-users`` subscribers through the same journey
   with a think time chosen so that together they offer about 100 updates/s.
3. **Memory with many active conversations** — ``--conversations`` chats each left in the middle
   of the login (document sent, password awaited); the bot's RSS afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.localapi.core import LocalBotApi, LocalUser  # noqa: E402
from bot.localapi.server import create_app  # noqa: E402

TOKEN = "123456789:AAFakeTokenForBenchmarksOnly_0123456789"
# The journey's subscriber: one contract with open invoices (many chats may log in as one).
ACCOUNTS = (("31845672062", "demo1234"),)
ECHO_BOT = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters
async def echo(update, context):
    await update.message.reply_text(update.message.text)
app = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot").build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=10)
"""


@dataclass
class Run:
    name: str
    updates: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    rss_mb: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def row(self) -> str:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

        return (
            f"| {self.name} | {self.updates / self.seconds:,.0f} | {pct(0.5):.1f} | "
            f"{pct(0.95):.1f} | {pct(0.99):.1f} | {self.cpu / self.updates * 1000:.2f} | "
            f"{self.rss_mb:.0f} |"
        )


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Harness:
    def __init__(self, api: LocalBotApi, url: str, workdir: Path) -> None:
        self.api, self.url, self.workdir = api, url, workdir
        self.process: asyncio.subprocess.Process | None = None

    async def start_bot(self) -> int:
        environ = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": self.url,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'bot.db'}",
            "SANDBOX_DATABASE_URL": f"sqlite:///{self.workdir / 'sandbox.db'}",
            "LOG_LEVEL": "WARNING",
            # Telegram's ~30 messages/s applies on Telegram; here we measure our own capacity.
            "TELEGRAM_MAX_RATE": os.environ.get("TELEGRAM_MAX_RATE", "0"),
        }
        log = (self.workdir / "bot.log").open("a")
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "db", "upgrade", env=environ, stdout=log, stderr=log
        )
        await migrate.wait()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environ, stdout=log, stderr=log
        )
        await self._wait_ready()
        return self.process.pid

    async def start_echo(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ECHO_BOT, TOKEN, self.url,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        user = self.api.user(1)
        await user.send("ping")
        await user.wait_for_text("ping", within=30)
        return self.process.pid

    async def _wait_ready(self) -> None:
        for _ in range(300):
            if self.api.commands:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError((self.workdir / "bot.log").read_text())

    async def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        await asyncio.sleep(0.2)
        await self.api.interrupt_polls()
        await self.process.wait()
        self.api.commands.clear()


async def _step(user: LocalUser, action: object, expect: str, latencies: list[float]) -> None:
    mark = len(user.chat.events)
    started = time.perf_counter()
    await action  # type: ignore[misc]
    await user.wait_for_text(expect, since=mark, within=60)
    latencies.append(time.perf_counter() - started)


async def journey(
    user: LocalUser, account: tuple[str, str], latencies: list[float], think: float = 0.0
) -> int:
    """The subscriber journey; returns the number of updates it sent."""
    document, password = account
    steps = [
        (lambda: user.send("/start"), "CPF ou CNPJ"),
        (lambda: user.send(document), "senha"),
        (lambda: user.send(password), "Receber avisos"),
        (lambda: user.tap("Agora não"), "O que você precisa?"),
        (lambda: user.tap("Faturas"), "Faturas"),
        (lambda: user.tap("Todas em aberto"), "em aberto"),
        (lambda: user.tap("Ver boleto"), "PIX"),
        (lambda: user.tap("Menu"), "O que você precisa?"),
    ]
    for action, expect in steps:
        await _step(user, action(), expect, latencies)
        if think:
            await asyncio.sleep(think)
    return len(steps)


async def measure_bot(
    harness: Harness, users: int, name: str, think: float = 0.0, base_id: int = 100_000
) -> Run:
    pid = await harness.start_bot()
    # Warm-up: one journey.
    await journey(harness.api.user(base_id - 1), ACCOUNTS[0], [])
    run = Run(name)
    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    counts = await asyncio.gather(
        *(
            journey(
                harness.api.user(base_id + i), ACCOUNTS[i % len(ACCOUNTS)], run.latencies, think
            )
            for i in range(users)
        )
    )
    run.seconds = time.perf_counter() - started
    run.cpu = _cpu_seconds(pid) - cpu
    run.updates = sum(counts)
    run.rss_mb = _peak_rss_mb(pid)
    await harness.stop()
    return run


async def measure_echo(harness: Harness, users: int, messages: int) -> Run:
    pid = await harness.start_echo()
    run = Run("bare PTB 22 echo bot (defaults: httpx, sequential)")

    async def chat(user: LocalUser) -> None:
        for n in range(messages):
            await _step(user, user.send(f"eco {user.id} {n}"), f"eco {user.id} {n}", run.latencies)

    cpu = _cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(chat(harness.api.user(200_000 + i)) for i in range(users)))
    run.seconds = time.perf_counter() - started
    run.cpu = _cpu_seconds(pid) - cpu
    run.updates = users * messages
    run.rss_mb = _peak_rss_mb(pid)
    await harness.stop()
    return run


async def measure_conversations(harness: Harness, count: int) -> tuple[float, float]:
    pid = await harness.start_bot()
    baseline = _rss_mb(pid)
    semaphore = asyncio.Semaphore(200)

    async def half_login(i: int) -> None:
        async with semaphore:
            user = harness.api.user(500_000 + i)
            await _step(user, user.send("/start"), "CPF ou CNPJ", [])
            await _step(user, user.send(ACCOUNTS[i % len(ACCOUNTS)][0]), "senha", [])

    await asyncio.gather(*(half_login(i) for i in range(count)))
    await asyncio.sleep(1)
    after = _rss_mb(pid)
    await harness.stop()
    return baseline, after


async def main(args: argparse.Namespace) -> None:
    api = LocalBotApi(TOKEN)
    runner = web.AppRunner(create_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as folder:
        harness = Harness(api, url, Path(folder))
        full = await measure_bot(
            harness, args.users, f"Minha Central, full journey ({args.users} users)"
        )
        echo = await measure_echo(harness, args.users, 8)
        # ~100 updates/s offered: each user's step every users/100 seconds (minus its own latency).
        think = max(args.paced_users / 100 - 0.02, 0)
        paced = await measure_bot(
            harness,
            args.paced_users,
            f"Minha Central at ~100 updates/s offered ({args.paced_users} users)",
            think,
            base_id=300_000,
        )
        baseline, after = await measure_conversations(harness, args.conversations)
    await api.close()
    await runner.cleanup()

    print(
        "| run | updates/s | p50 ms | p95 ms | p99 ms | bot CPU s / 1,000 updates | peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for run in (full, echo, paced):
        print(run.row())
    ratio = (full.updates / full.seconds) / (echo.updates / echo.seconds)
    print(f"\nFull bot throughput = {ratio:.0%} of the bare echo bot's on this harness.")
    print(f"Paced run: offered {paced.updates / paced.seconds:.0f} updates/s.")
    print(
        f"{args.conversations:,} chats mid-login: bot RSS {baseline:.0f} MB → {after:.0f} MB "
        f"(+{(after - baseline) * 1024 / args.conversations:.1f} KB per conversation)."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--paced-users", type=int, default=300)
    parser.add_argument("--conversations", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
