"""The local Bot API (``bot.localapi``) served over HTTP on a free port, for tests that drive it
through real requests (PTB's ``Bot``, aiohttp, the bot's own process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.localapi.core import LocalBotApi
from bot.localapi.server import create_app


@asynccontextmanager
async def serving(api: LocalBotApi) -> AsyncIterator[str]:
    """Serve ``api`` on 127.0.0.1 (a free port) and yield its base URL; on leaving, release its
    long polls and stop the server."""
    runner = web.AppRunner(create_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await api.close()
        await runner.cleanup()
