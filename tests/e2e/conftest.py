"""End-to-end: the real ``minha-central run`` process, polling a local Bot API over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from bot.localapi.core import LocalBotApi
from bot.localapi.server import create_app

TOKEN = "123456789:AAFakeTokenForOfflineTestsOnly_0123456789"


async def local_api_close(api: LocalBotApi) -> None:
    await asyncio.sleep(0.2)  # let the bot see SIGTERM before its poll returns
    await api.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def local_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(TOKEN)
    runner = web.AppRunner(create_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    workdir = tmp_path_factory.mktemp("e2e")
    environ = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "SANDBOX_DATABASE_URL": f"sqlite:///{workdir / 'sandbox.db'}",
        "LOG_LEVEL": "INFO",
    }
    log = (workdir / "bot.log").open("w")
    # As in production: the schema first, then the bot.
    migrate = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "upgrade",
        cwd=workdir,
        env=environ,
        stdout=log,
        stderr=log,
    )
    assert await migrate.wait() == 0, (workdir / "bot.log").read_text()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=workdir, env=environ, stdout=log, stderr=log
    )
    try:
        # Ready once it has registered its commands.
        for _ in range(200):
            if api.commands or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        assert api.commands, (workdir / "bot.log").read_text()
        yield api
    finally:
        process.terminate()
        await local_api_close(api)
        await process.wait()
        log.close()
        await runner.cleanup()
        if os.environ.get("KEEP_E2E_LOGS") is None:
            shutil.rmtree(workdir, ignore_errors=True)
