#!/usr/bin/env python
"""Benchmark of the whole bot over the local Bot API, against bare echo bots on the same harness.

    .venv/bin/python scripts/benchmark.py [--users 200] [--paced-users 300] [--conversations 10000]
                                          [--paced-rate 100] [--think 1]

The local Bot API (``bot.localapi``) is served on loopback by this process; the bot under test is
the real ``minha-central run`` process (polling, SQLite, sandbox provider), so its CPU time and
peak memory are its own (read from /proc). In one run, on one harness:

1. **Throughput** — ``--users`` subscribers at once, each through the journey: /start, CPF,
   password, "Agora não" (link offer), Faturas (its open invoices), "Ver boleto", Menu — every
   step sent once the previous one was answered. Reported: updates/s, latency per update (sent →
   the bot's answer complete: its last message for that step, and the callback answered) p50/p95/
   p99, bot CPU seconds per 1,000 updates, peak RSS.
2. **The frameworks' floor** — the same number of users and messages to a bare
   python-telegram-bot echo bot (PTB defaults: httpx, sequential) and, when ``aiogram`` is
   importable (the ``bench`` extra, never a runtime dependency), a bare aiogram echo bot (its
   default aiohttp session and dispatcher).
3. **Latency at a fixed offered load** — ``--paced-users`` subscribers through the same journey,
   open loop, mixed as real traffic is: a new subscriber starts every journey-length / rate
   seconds and each sends one step every ``--think`` seconds (or as soon as the previous step is
   answered, if later — counted as a late send). From the moment the first subscribers are
   ``--think`` × steps into their journey until the last one starts, as many are active as make
   ``--paced-rate`` updates/s, at every step of the journey at once: the latencies, rate and bot
   CPU of that steady stretch are reported (the ramps before and after are left out).
4. **Memory with many active conversations** — ``--conversations`` chats each left in the middle
   of the login (document sent, password awaited); the bot's RSS afterwards.

The harness's own CPU per 1,000 updates is shown too: it shares the machine with the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend_client.sandbox import SandboxBackend  # noqa: E402
from backend_client.sandbox.population import loggable_document, populate  # noqa: E402
from bot.localapi.core import BotEvent, LocalBotApi, LocalUser  # noqa: E402
from bot.localapi.server import create_app  # noqa: E402

TOKEN = "123456789:AAFakeTokenForBenchmarksOnly_0123456789"
# The journey's subscriber: one contract with open invoices (many chats may log in as one).
# Distinct subscribers (generated in the sandbox with one password): the login lockout lets at
# most 5 checks of one document be in flight, so a crowd on one demo account would be refused.
BENCH_PASSWORD = "bench1234"
ACCOUNT_COUNT = 1000
ACCOUNTS = tuple((loggable_document(n), BENCH_PASSWORD) for n in range(ACCOUNT_COUNT))
PTB_ECHO = """
import sys
from telegram.ext import ApplicationBuilder, MessageHandler, filters
async def echo(update, context):
    await update.message.reply_text(update.message.text)
app = ApplicationBuilder().token(sys.argv[1]).base_url(sys.argv[2] + "/bot").build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=10)
"""
AIOGRAM_ECHO = """
import asyncio, sys
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
async def main():
    bot = Bot(sys.argv[1], session=AiohttpSession(api=TelegramAPIServer.from_base(sys.argv[2])))
    dispatcher = Dispatcher()
    @dispatcher.message()
    async def echo(message: Message):
        await message.answer(message.text)
    await dispatcher.start_polling(bot, polling_timeout=10)
asyncio.run(main())
"""
Done = Callable[[list[BotEvent]], bool]


@dataclass
class Run:
    name: str
    updates: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    harness_cpu: float = 0.0
    rss_mb: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_step: list[list[float]] = field(default_factory=lambda: [[] for _ in STEP_NAMES])

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.updates * 1000

    def row(self) -> str:
        lat = sorted(self.latencies)
        return (
            f"| {self.name} | {self.rate:,.0f} | {pct(lat, 0.5):.1f} | {pct(lat, 0.95):.1f} | "
            f"{pct(lat, 0.99):.1f} | {self.cpu_per_1000:.2f} | {self.rss_mb:.0f} | "
            f"{self.harness_cpu / self.updates * 1000:.2f} |"
        )


def pct(ordered: list[float], p: float) -> float:
    """The ``p`` percentile of sorted latencies, in ms."""
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM:")


def _rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS:")


class Harness:
    def __init__(self, api: LocalBotApi, url: str, workdir: Path) -> None:
        self.api, self.url, self.workdir = api, url, workdir
        self.process: asyncio.subprocess.Process | None = None
        self._populated = False
        self._ping_ids = iter(range(1, 1000))

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
        await self._populate()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=environ, stdout=log, stderr=log
        )
        # A run that fails half-way must not leave this bot polling after the benchmark ends.
        atexit.register(_kill_quietly, self.process.pid)
        await self._wait_ready()
        return self.process.pid

    async def start_echo(self, script: str) -> int:
        log = (self.workdir / "echo.log").open("a")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, TOKEN, self.url, stdout=log, stderr=log
        )
        user = self.api.user(next(self._ping_ids))
        mark = len(user.chat.events)
        await user.send("ping")
        await user.wait_for_text("ping", since=mark, within=30)
        return self.process.pid

    async def _populate(self) -> None:
        """The benchmark's subscribers, once, in the sandbox 'db upgrade' prepared."""
        if self._populated:
            return
        backend = SandboxBackend(f"sqlite+aiosqlite:///{self.workdir / 'sandbox.db'}")
        await backend.start()
        try:
            await populate(backend, ACCOUNT_COUNT, today=date.today(), password=BENCH_PASSWORD)
        finally:
            await backend.close()
        self._populated = True

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
        atexit.unregister(_kill_quietly)  # it has ended: its pid may be reused
        self.api.commands.clear()
        # Whatever the stopped bot left unconfirmed must not reach the next one.
        await self.api.call(TOKEN, "deleteWebhook", {"drop_pending_updates": True})


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _shown(event: BotEvent) -> str:
    if event.message is None or event.kind not in ("sent", "edited"):
        return ""
    return event.message.text or event.message.caption or ""


def shows(part: str, *, query: bool = False) -> Done:
    """The answer is complete once ``part`` is on screen (and, for a button, the query is
    answered): ``part`` must come from the bot's *last* message for that step."""

    def done(events: list[BotEvent]) -> bool:
        return any(part in _shown(e) for e in events) and (
            not query or any(e.kind == "answered" for e in events)
        )

    return done


async def _step(
    user: LocalUser, action: Callable[[], Awaitable[object]], done: Done, latencies: list[float]
) -> None:
    """Send one update and wait for the bot's complete answer; latency = sent → answered."""
    mark = len(user.chat.events)
    started = time.perf_counter()
    await action()
    await user.wait_until(done, since=mark, within=60)
    latencies.append(time.perf_counter() - started)


def journey_steps(
    user: LocalUser, account: tuple[str, str]
) -> list[tuple[Callable[[], Awaitable[object]], Done]]:
    document, password = account
    return [
        (lambda: user.send("/start"), shows("CPF ou CNPJ")),
        (lambda: user.send(document), shows("senha")),
        (lambda: user.send(password), shows("Receber avisos")),
        (lambda: user.tap("Agora não"), shows("O que você precisa?", query=True)),
        (lambda: user.tap("Faturas"), shows("Faturas em aberto", query=True)),
        # Linha digitável, PIX copia e cola, then the QR code photo: the last one ends it.
        (lambda: user.tap("Ver boleto"), shows("QR Code", query=True)),
        (lambda: user.tap("Menu"), shows("O que você precisa?", query=True)),
    ]


# Faturas opens on the open invoices (issue 21): the journey's "Todas em aberto" step is gone.
STEP_NAMES = ("/start", "CPF", "password", "Agora não", "Faturas", "Ver boleto", "Menu")
JOURNEY_LENGTH = len(STEP_NAMES)  # the echo bots get as many messages per user


async def journey(
    user: LocalUser,
    account: tuple[str, str],
    latencies: list[float],
    by_step: list[list[float]] | None = None,
) -> int:
    """The subscriber journey, each step once the previous one is answered; returns the number
    of updates it sent."""
    steps = journey_steps(user, account)
    assert len(steps) == JOURNEY_LENGTH
    for k, (action, done) in enumerate(steps):
        await _step(user, action, done, latencies)
        if by_step is not None:
            by_step[k].append(latencies[-1])
    return len(steps)


@dataclass
class Pacing:
    window: tuple[float, float]  # the steady stretch (perf_counter instants)
    sends: list[float]  # instants of the steady stretch's sends
    late: int  # of those, sent late: the step before was still unanswered

    @property
    def offered(self) -> float:
        """Updates/s actually offered in the steady stretch."""
        return len(self.sends) / (self.window[1] - self.window[0])


Sample = tuple[float, int, float, bool]  # sent at, step, latency, sent late


async def paced_journey(
    user: LocalUser, account: tuple[str, str], first: float, think: float, samples: list[Sample]
) -> None:
    """The journey on a timetable: step k at ``first + k * think`` (if the previous step is
    answered by then; otherwise right after it, marked late)."""
    for k, (action, done) in enumerate(journey_steps(user, account)):
        delay = first + k * think - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent, latency = time.perf_counter(), []
        await _step(user, action, done, latency)
        samples.append((sent, k, latency[0], k > 0 and delay < 0))


class Meter:
    """Bot CPU and this process's CPU over a measured stretch."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu, self.harness_cpu = _cpu_seconds(pid), time.process_time()
        self.started = time.perf_counter()

    def finish(self, run: Run, updates: int) -> Run:
        run.seconds = time.perf_counter() - self.started
        run.cpu = _cpu_seconds(self.pid) - self.cpu
        run.harness_cpu = time.process_time() - self.harness_cpu
        run.updates = updates
        run.rss_mb = _peak_rss_mb(self.pid)
        return run


async def measure_bot(harness: Harness, users: int, name: str, base_id: int = 100_000) -> Run:
    pid = await harness.start_bot()
    await journey(harness.api.user(base_id - 1), ACCOUNTS[0], [])  # warm-up
    run = Run(name)
    meter = Meter(pid)
    counts = await asyncio.gather(
        *(
            journey(
                harness.api.user(base_id + i),
                ACCOUNTS[i % len(ACCOUNTS)],
                run.latencies,
                run.by_step,
            )
            for i in range(users)
        )
    )
    meter.finish(run, sum(counts))
    await harness.stop()
    return run


async def measure_paced(
    harness: Harness, users: int, rate: float, think: float, base_id: int = 300_000
) -> tuple[Run, Pacing]:
    if users <= rate * think:
        raise SystemExit(f"--paced-users must exceed --paced-rate × --think ({rate * think:.0f})")
    pid = await harness.start_bot()
    await journey(harness.api.user(base_id - 1), ACCOUNTS[0], [])  # warm-up
    run = Run(f"Minha Central at ~{rate:.0f} updates/s offered, steps mixed ({users} users)")
    spacing = JOURNEY_LENGTH / rate  # between two subscribers' starts
    start = time.perf_counter() + 0.05
    window = (start + JOURNEY_LENGTH * think, start + users * spacing)
    meters: list[Meter] = []

    async def meter_steady_stretch() -> None:
        await asyncio.sleep(window[0] - time.perf_counter())
        meters.append(Meter(pid))
        await asyncio.sleep(window[1] - time.perf_counter())
        meters[0].finish(run, 1)

    samples: list[Sample] = []
    metering = asyncio.create_task(meter_steady_stretch())
    await asyncio.gather(
        *(
            paced_journey(
                harness.api.user(base_id + i),
                ACCOUNTS[i % len(ACCOUNTS)],
                start + i * spacing,
                think,
                samples,
            )
            for i in range(users)
        )
    )
    await metering
    steady = [sample for sample in samples if window[0] <= sample[0] < window[1]]
    for _, step, latency, _ in steady:
        run.latencies.append(latency)
        run.by_step[step].append(latency)
    run.updates = len(steady)  # Meter.finish measured CPU and time over the window
    await harness.stop()
    return run, Pacing(window, [sent for sent, _, _, _ in steady], sum(s[3] for s in steady))


async def measure_echo(
    harness: Harness, script: str, name: str, users: int, messages: int, base_id: int
) -> Run:
    pid = await harness.start_echo(script)

    async def chat(user: LocalUser, count: int, latencies: list[float]) -> None:
        for n in range(count):
            text = f"eco {user.id} {n}"
            await _step(user, lambda text=text: user.send(text), shows(text), latencies)

    await chat(harness.api.user(base_id - 1), messages, [])  # warm-up, as the full bot's
    run = Run(name)
    meter = Meter(pid)
    await asyncio.gather(*(chat(harness.api.user(base_id + i), messages, run.latencies)
                           for i in range(users)))  # fmt: skip
    meter.finish(run, users * messages)
    await harness.stop()
    return run


async def measure_conversations(harness: Harness, count: int) -> tuple[float, float]:
    pid = await harness.start_bot()
    baseline = _rss_mb(pid)
    semaphore = asyncio.Semaphore(200)

    async def half_login(i: int) -> None:
        async with semaphore:
            user = harness.api.user(500_000 + i)
            await _step(user, lambda: user.send("/start"), shows("CPF ou CNPJ"), [])
            document = ACCOUNTS[i % len(ACCOUNTS)][0]
            await _step(user, lambda: user.send(document), shows("senha"), [])

    await asyncio.gather(*(half_login(i) for i in range(count)))
    await asyncio.sleep(1)
    after = _rss_mb(pid)
    await harness.stop()
    return baseline, after


def _have_aiogram() -> bool:
    try:
        import aiogram  # noqa: F401
    except ImportError:
        return False
    return True


def _versions() -> str:
    import aiohttp
    import httpx
    import telegram

    parts = [
        f"Python {platform.python_version()}",
        f"python-telegram-bot {telegram.__version__}",
        f"httpx {httpx.__version__}",
        f"aiohttp {aiohttp.__version__}",
    ]
    if _have_aiogram():
        import aiogram

        parts.append(f"aiogram {aiogram.__version__}")
    return ", ".join(parts)


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()[0]
    # No call log: the harness would keep every parameter of every call of the whole run.
    api = LocalBotApi(TOKEN, record_calls=False)
    runner = web.AppRunner(create_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    aiogram_skipped = not _have_aiogram()
    with tempfile.TemporaryDirectory() as folder:
        harness = Harness(api, url, Path(folder))
        print("full journey…", file=sys.stderr)
        full = await measure_bot(
            harness, args.users, f"Minha Central, full journey ({args.users} users)"
        )
        print("PTB echo…", file=sys.stderr)
        ptb = await measure_echo(
            harness, PTB_ECHO, "bare PTB echo bot (defaults: httpx, sequential)",
            args.users, JOURNEY_LENGTH, 200_000,
        )  # fmt: skip
        aiogram = None
        if not aiogram_skipped:
            print("aiogram echo…", file=sys.stderr)
            aiogram = await measure_echo(
                harness, AIOGRAM_ECHO,
                "bare aiogram echo bot (defaults: aiohttp session, dispatcher, update = task)",
                args.users, JOURNEY_LENGTH, 250_000,
            )  # fmt: skip
        print("paced…", file=sys.stderr)
        paced, pacing = await measure_paced(harness, args.paced_users, args.paced_rate, args.think)
        print("conversations…", file=sys.stderr)
        baseline, after = await measure_conversations(harness, args.conversations)
    await api.close()
    await runner.cleanup()

    print(
        f"\n{os.cpu_count()} CPU cores (load average {load:.1f} at the start), {_versions()}; "
        f"{args.users} users × {JOURNEY_LENGTH} updates each for the first rows.\n"
    )
    print(
        "| run | updates/s | p50 ms | p95 ms | p99 ms | bot CPU s / 1,000 updates "
        "| peak RSS MB | harness CPU s / 1,000 updates |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in (full, ptb, aiogram, paced):
        if run is not None:
            print(run.row())
    print()
    if aiogram is None:
        print("aiogram echo bot: skipped — aiogram is not importable (pip install -e '.[bench]').")
    steps = ", ".join(
        f"{name} {pct(sorted(times), 0.5):.0f}"
        for name, times in zip(STEP_NAMES, full.by_step, strict=True)
    )
    print(f"Full journey, p50 ms per step: {steps}.")
    print(f"Full bot updates/s = {full.rate / ptb.rate:.0%} of the bare PTB echo bot's.")
    if aiogram is not None:
        print(
            f"Full bot updates/s = {full.rate / aiogram.rate:.0%} of the bare aiogram echo bot's; "
            f"its CPU per 1,000 updates = {full.cpu_per_1000 / aiogram.cpu_per_1000:.1f}× "
            "aiogram's."
        )
    steps = ", ".join(
        f"{name} {pct(sorted(times), 0.5):.0f}/{pct(sorted(times), 0.99):.0f}"
        for name, times in zip(STEP_NAMES, paced.by_step, strict=True)
    )
    print(f"Paced run, p50/p99 ms per step: {steps}.")
    print(
        f"Paced run, steady {pacing.window[1] - pacing.window[0]:.0f} s: offered "
        f"{pacing.offered:.1f} updates/s (target {args.paced_rate:.0f}), {pacing.late} of "
        f"{len(pacing.sends)} sends late (previous step not yet answered)."
    )
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
    parser.add_argument("--paced-rate", type=float, default=100.0)
    parser.add_argument("--think", type=float, default=1.0, help="seconds between two steps")
    parser.add_argument("--conversations", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
