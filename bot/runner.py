"""Running the bot as a service: polling or webhook, the HTTP server beside it, graceful stop.

On SIGTERM/SIGINT: stop taking updates (close the HTTP server / stop polling), let in-flight
handlers finish, then write persistence and close the backend — so a restart resumes every
conversation where it was.

Before taking updates, the provider's system is checked once (``bot.backend_check``): refused
integration credentials stop the start-up (:class:`BackendCredentialsRefused`, exit code 6).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Any

from aiohttp import web
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.application import ALLOWED_UPDATES, build_application
from bot.backend_check import BackendCredentialsRefused, check_at_start_up
from bot.broadcasts import jobs as broadcast_jobs
from bot.services.context import services_of
from bot.settings import Settings
from bot.web import create_web_app

logger = logging.getLogger(__name__)


async def serve(settings: Settings, *, webhook: bool, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or a termination signal arrives)."""
    from bot.storage.db import create_engine
    from bot.storage.migrations import ensure_current

    stop = stop or _stop_on_signals()
    engine = create_engine(settings.database_url)
    await ensure_current(engine)
    application = build_application(settings, engine=engine)
    try:
        await application.initialize()  # asks Telegram who the bot is (getMe)
    except (InvalidToken, NetworkError) as error:
        await application.bot.shutdown()
        await engine.dispose()
        raise TelegramUnavailable(
            _telegram_problem(error, settings), token_refused=isinstance(error, InvalidToken)
        ) from None
    await application.post_init(application)  # type: ignore[misc]
    try:
        # What the integration's credentials let the bot do, before any update is taken.
        await check_at_start_up(application, settings)
    except BackendCredentialsRefused:
        await broadcast_jobs.stop(application)
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
        raise
    await application.start()

    site_runner: web.AppRunner | None = None
    try:
        if webhook:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            await application.bot.set_webhook(
                url=settings.webhook_url.rstrip("/") + settings.webhook_path,
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=settings.drop_pending_updates,
            )
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=settings.drop_pending_updates,
            )
        if webhook or settings.http_port is not None:
            site_runner = await _start_http(application, settings, webhook=webhook)
        _freeze_startup_objects()
        logger.info(
            "Minha Central running (%s, backend=%s)",
            "webhook" if webhook else "polling",
            settings.backend,
        )
        await stop.wait()
        logger.info("stopping: no new updates; finishing what is in progress")
    finally:
        if site_runner is not None:
            await site_runner.cleanup()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await broadcast_jobs.stop(application)  # messages in flight finish and are recorded
        if application.running:
            await application.stop()
        await application.shutdown()  # writes persistence
        await application.post_shutdown(application)  # type: ignore[misc]
        logger.info("stopped")


class TelegramUnavailable(Exception):
    """Telegram refused the token or could not be reached at start-up; the message says why."""

    def __init__(self, message: str, *, token_refused: bool) -> None:
        super().__init__(message)
        self.token_refused = token_refused


def _telegram_problem(error: TelegramError, settings: Settings) -> str:
    if isinstance(error, InvalidToken):
        # PTB's own message repeats the token: it must not reach the logs.
        return (
            "Telegram refused TELEGRAM_BOT_TOKEN: check the token @BotFather gave you "
            f"(asked {settings.telegram_api_url})."
        )
    return (
        f"Cannot reach the Telegram Bot API at {settings.telegram_api_url}: {error}. "
        "Check this machine's connection (or TELEGRAM_API_URL) and start again."
    )


async def _start_http(application: Any, settings: Settings, *, webhook: bool) -> web.AppRunner:
    services = services_of(application)
    app = create_web_app(
        application,
        webhook_path=settings.webhook_path if webhook else None,
        webhook_secret=settings.webhook_secret if webhook else None,
        events_secret=settings.backend_events_secret,
        on_events=services.accept_pushed_notices,
        admin_token=settings.admin_api_token,
        broadcasts=broadcast_jobs.service_of(application),
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = settings.http_port if settings.http_port is not None else 8080
    site = web.TCPSite(runner, settings.http_host, port)
    await site.start()
    logger.info("HTTP server on %s:%s", settings.http_host, port)
    return runner


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, handlers, ORM metadata: most of the heap) out of the
    garbage collector's reach. Its full collections then scan only what updates create, which
    took them from ~150 ms pauses to a few ms (see scripts/benchmark.py, p99)."""
    gc.collect()
    gc.freeze()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop
