#!/usr/bin/env python
"""Echo-bot throughput over the local Bot API: PTB on httpx vs on our aiohttp transport.

    .venv/bin/python scripts/bench_transport.py [--users 200] [--messages 10] [--repeat 1]
                                                 [--only NAME ...]

The local Bot API (``bot.localapi``) is served on loopback by this process; each bot runs in
its own subprocess, so the CPU time and peak RSS reported are the bot's alone. Simulated users
each send ``--messages`` texts one after the other, every one once the echo of the previous
arrived (200 conversations at once). Reported per bot: updates/s over the measured run, the
bot process's CPU seconds (user + system, ``time.process_time``) per 1,000 updates, its peak
RSS (``ru_maxrss``) and the users' p50/p99 latency (text sent → echo stored). A warm-up round
of one message per user precedes the measurement. With ``aiogram`` importable (the ``bench``
extra, never a runtime dependency), an aiogram echo bot runs too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "123456789:AAFakeTokenForBenchmarksOnly_0123456789"
CONCURRENCY = 64

# name → what the table calls it
VARIANTS = {
    "ptb-httpx-seq": "PTB, httpx (default transport), sequential",
    "ptb-httpx-64": "PTB, httpx, concurrent_updates(64) (PTB's processor, no order)",
    "ptb-httpx-ordered": "PTB, httpx, OrderedConcurrentProcessor(64)",
    "ptb-aiohttp-seq": "PTB, AiohttpRequest, sequential",
    "ptb-aiohttp-64": "PTB, AiohttpRequest, concurrent_updates(64) (no order)",
    "ptb-aiohttp-ordered": "PTB, AiohttpRequest, OrderedConcurrentProcessor(64)",
    "aiogram": "aiogram {version} (aiohttp), default dispatcher",
}


# --- the bot side (a subprocess) --------------------------------------------------------------
def _peak_rss_mib() -> float:
    """This process's peak RSS. Linux keeps ``ru_maxrss`` across fork+exec (a child would
    report its parent's peak when that is higher), so prefer ``VmHWM``, which exec resets."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _serve_commands(stop: Any) -> None:
    """Answer the parent on stdout: ``mark`` → CPU so far; ``report`` → CPU and peak RSS."""
    print("ready", flush=True)
    while True:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if line == "mark":
            print(json.dumps({"cpu": time.process_time()}), flush=True)
        elif line == "report" or not line:
            print(json.dumps({"cpu": time.process_time(), "rss_mib": _peak_rss_mib()}), flush=True)
            await stop()
            return


async def _run_ptb(variant: str, url: str) -> None:
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    from bot.transport import AiohttpRequest
    from bot.update_processor import OrderedConcurrentProcessor

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder = Application.builder().token(TOKEN).base_url(f"{url}/bot")
    builder = builder.base_file_url(f"{url}/file/bot")
    if "aiohttp" in variant:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1, read_timeout=10)
        )
    if variant.endswith("-64"):
        builder = builder.concurrent_updates(CONCURRENCY)
    elif variant.endswith("-ordered"):
        builder = builder.concurrent_updates(OrderedConcurrentProcessor(CONCURRENCY))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=["message"]
        )

        async def stop() -> None:
            assert application.updater is not None
            await application.updater.stop()
            await application.stop()

        await _serve_commands(stop)


async def _run_aiogram(url: str) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=10)
    )

    async def stop() -> None:
        await dispatcher.stop_polling()
        await polling

    await asyncio.sleep(0.5)  # let it fetch getMe and start polling
    await _serve_commands(stop)


def _child(variant: str, url: str) -> None:
    if variant == "aiogram":
        asyncio.run(_run_aiogram(url))
    else:
        asyncio.run(_run_ptb(variant, url))


# --- the user side (this process) -------------------------------------------------------------
@dataclass
class Result:
    variant: str
    updates: int
    seconds: float
    cpu_seconds: float
    rss_mib: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu_seconds / self.updates * 1000


async def _measure(variant: str, users: int, messages: int) -> Result:
    from aiohttp import web

    from bot.localapi.core import BotEvent, LocalBotApi
    from bot.localapi.server import create_app

    class BenchApi(LocalBotApi):
        """Wakes exactly the user whose chat got an answer (not every waiter, like .changed)."""

        def __init__(self, token: str) -> None:
            super().__init__(token)
            self.waiters: dict[int, asyncio.Future[BotEvent]] = {}

        async def _emit(self, event: BotEvent) -> None:
            await super()._emit(event)
            waiter = self.waiters.pop(event.chat_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event)

    api = BenchApi(TOKEN)
    runner = web.AppRunner(create_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with tempfile.TemporaryFile() as stderr:
            return await _drive(api, port, variant, users, messages, stderr)
    finally:
        await api.close()
        await runner.cleanup()


async def _drive(
    api: Any, port: int, variant: str, users: int, messages: int, stderr: Any
) -> Result:
    """Start the bot, warm it up, measure ``users`` × ``messages`` echoes."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        variant,
        "--url",
        f"http://127.0.0.1:{port}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdin is not None and process.stdout is not None

    async def ask(command: str) -> dict[str, Any]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{command}\n".encode())
        await process.stdin.drain()
        return json.loads(await asyncio.wait_for(process.stdout.readline(), 30))

    people = [api.user(10_000 + n, f"Pessoa {n}") for n in range(users)]
    latencies: list[float] = []
    loop = asyncio.get_running_loop()

    async def talk(person: Any, count: int, record: bool) -> None:
        for step in range(count):
            text = f"mensagem {step} de {person.id}"
            waiter = loop.create_future()
            api.waiters[person.id] = waiter
            sent = time.perf_counter()
            await person.send(text)
            event = await asyncio.wait_for(waiter, 60)
            if record:
                latencies.append(time.perf_counter() - sent)
            assert event.message is not None and event.message.text == text, event

    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 60)
        if ready.strip() != b"ready":
            raise RuntimeError(f"the {variant} bot did not start: {ready!r}")
        await asyncio.gather(*(talk(person, 1, False) for person in people))  # warm-up
        before = await ask("mark")
        started = time.perf_counter()
        await asyncio.gather(*(talk(person, messages, True) for person in people))
        seconds = time.perf_counter() - started
        after = await ask("report")
        await asyncio.wait_for(process.wait(), 30)
    except BaseException:
        if process.returncode is None:
            process.kill()
        stderr.seek(0)
        sys.stderr.write(stderr.read().decode(errors="replace")[-4000:])
        raise
    return Result(
        variant,
        users * messages,
        seconds,
        after["cpu"] - before["cpu"],
        after["rss_mib"],
        latencies,
    )


def _label(variant: str) -> str:
    if variant == "aiogram":
        import aiogram

        return VARIANTS[variant].format(version=aiogram.__version__)
    return VARIANTS[variant]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _table(results: list[Result]) -> str:
    lines = [
        "| echo bot | updates/s | bot CPU s / 1,000 updates | peak RSS | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {_label(result.variant)} | {result.rate:,.0f} | {result.cpu_per_1000:.2f} "
            f"| {result.rss_mib:.0f} MiB | {_percentile(result.latencies, 0.5) * 1000:.0f} ms "
            f"| {_percentile(result.latencies, 0.99) * 1000:.0f} ms |"
        )
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> None:
    variants = args.only or list(VARIANTS)
    try:
        import aiogram  # noqa: F401
    except ImportError:
        if "aiogram" in variants:
            print("aiogram is not installed (pip install -e '.[bench]'): skipping it.")
            variants.remove("aiogram")
    results: list[Result] = []
    for variant in variants:
        runs = []
        for _ in range(args.repeat):
            runs.append(await _measure(variant, args.users, args.messages))
            print(
                f"  {variant}: {runs[-1].rate:,.0f} updates/s, "
                f"{runs[-1].cpu_per_1000:.2f} CPU s/1k, {runs[-1].rss_mib:.0f} MiB",
                file=sys.stderr,
            )
        runs.sort(key=lambda result: result.rate)
        results.append(runs[len(runs) // 2])  # the median run
    import aiohttp
    import httpx
    import telegram

    print(
        f"\n{args.users} users × {args.messages} messages (closed loop: each waits for its echo), "
        f"local Bot API on loopback, {os.cpu_count()} CPU cores, Python {sys.version.split()[0]}, "
        f"python-telegram-bot {telegram.__version__}, httpx {httpx.__version__}, "
        f"aiohttp {aiohttp.__version__}; median of {args.repeat} run(s):\n"
    )
    print(_table(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS))
    parser.add_argument("--child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.url)
    else:
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
