"""End-to-end: the real ``minha-central`` process, polling a local Bot API over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.localapi.core import LocalBotApi
from tests.support.bot_env import TOKEN
from tests.support.local_api import serving


class BotProcess:
    """``minha-central db upgrade`` then ``minha-central run``, as an operator starts it."""

    def __init__(self, api: LocalBotApi, url: str, workdir: Path) -> None:
        self.api = api
        self.workdir = workdir
        self.environ = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": url,
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "SANDBOX_DATABASE_URL": f"sqlite:///{workdir / 'sandbox.db'}",
            "LOG_LEVEL": "INFO",
        }
        self.log_path = workdir / "bot.log"
        self.process: asyncio.subprocess.Process | None = None

    async def _cli(self, *args: str) -> asyncio.subprocess.Process:
        with self.log_path.open("a") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *args,
                cwd=self.workdir, env=self.environ, stdout=log, stderr=log,
            )  # fmt: skip

    async def start(self) -> None:
        migrate = await self._cli("db", "upgrade")
        assert await migrate.wait() == 0, self.log_path.read_text()
        self.api.commands.clear()
        self.process = await self._cli("run")
        for _ in range(200):  # ready once it has registered its commands
            if self.api.commands or self.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert self.api.commands, self.log_path.read_text()

    async def stop(self) -> int:
        """SIGTERM, as systemd or Docker would; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)  # let it see the signal before its long poll returns
        await self.api.interrupt_polls()
        return await asyncio.wait_for(self.process.wait(), 30)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served_api() -> AsyncIterator[tuple[LocalBotApi, str]]:
    api = LocalBotApi(TOKEN)
    async with serving(api) as url:
        yield api, url


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot_process(
    served_api: tuple[LocalBotApi, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    api, url = served_api
    workdir = tmp_path_factory.mktemp("e2e")
    process = BotProcess(api, url, workdir)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()
        if os.environ.get("KEEP_E2E_LOGS") is None:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def local_api(bot_process: BotProcess) -> LocalBotApi:
    return bot_process.api
