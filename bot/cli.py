"""``minha-central`` command line: run the bot, check the provider's system, inspect the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.cli_support import settings_or_exit as _settings_or_exit
from bot.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="minha-central", description="Minha Central: the subscriber center on Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the bot (long polling, or webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="serve Telegram's webhook (needs WEBHOOK_URL and WEBHOOK_SECRET)",
    )
    backend = commands.add_parser("backend", help="the provider's system (BACKEND)")
    backend_commands = backend.add_subparsers(dest="backend_command", required=True)
    backend_commands.add_parser(
        "check", help="what the integration's credentials let the bot do, feature by feature"
    )
    database = commands.add_parser("db", help="the bot's database schema")
    database.add_argument("action", choices=("upgrade", "current"))
    chat = commands.add_parser(
        "chat", help="chat with the bot in this terminal (sandbox + local Bot API, no token)"
    )
    chat.add_argument(
        "--downloads",
        default="minha-central-downloads",
        help="folder where documents and images the bot sends are saved",
    )
    _broadcast_parser(commands)
    _config_parser(commands)
    from bot.intents.cli import add_parser as _intents_parser

    _intents_parser(commands)
    sandbox = commands.add_parser("sandbox", help="the embedded sandbox provider")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    accounts = sandbox_commands.add_parser("accounts", help="list the demo logins")
    accounts.add_argument("--json", action="store_true", help="print as JSON")
    serve = sandbox_commands.add_parser(
        "serve", help="serve the sandbox over our HTTP contract (backend_client/openapi.yaml)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8099, help="port to listen on")

    args = parser.parse_args(argv)
    if args.command == "sandbox" and args.sandbox_command == "serve":
        return _sandbox_serve(args.host, args.port)
    if args.command == "sandbox":
        return _sandbox_accounts(as_json=args.json)
    if args.command == "chat":
        return _chat(Path(args.downloads))
    if args.command == "db":
        return _db(args.action)
    if args.command == "backend":
        return _backend_check()
    if args.command == "intents":
        from bot.intents.cli import run as run_intents

        return run_intents(args)
    if args.command == "config":
        from bot.provider.cli import run as run_config

        return run_config(args)
    if args.command == "broadcast":
        from bot.broadcasts.cli import run as run_broadcast

        return run_broadcast(args)
    return _run(webhook=args.webhook)


def _broadcast_parser(commands: Any) -> None:
    """``minha-central broadcast …`` (bot.broadcasts.cli)."""
    from bot.broadcasts.cli import add_parser

    add_parser(commands)


def _config_parser(commands: Any) -> None:
    """``minha-central config check [FILE]`` (bot.provider.cli)."""
    from bot.provider.cli import add_parser

    add_parser(commands)


def _sandbox_accounts(*, as_json: bool) -> int:
    from backend_client.formats.documents import format_document
    from backend_client.sandbox import DEMO_ACCOUNTS

    if as_json:
        print(
            json.dumps([asdict(account) for account in DEMO_ACCOUNTS], ensure_ascii=False, indent=2)
        )
        return 0
    for account in DEMO_ACCOUNTS:
        print(f"{format_document(account.document):<20} {account.password:<12} {account.name}")
        print(f"{'':<20} {'':<12} {account.situation}")
    return 0


def _sandbox_serve(host: str, port: int) -> int:
    """The sandbox provider as a REST server, for the ``http`` backend and for providers."""
    import os

    from aiohttp import web
    from dotenv import dotenv_values

    from backend_client.sandbox import SandboxBackend
    from backend_client.sandbox.api import create_app
    from bot.settings import DEFAULT_SANDBOX_DATABASE_URL, _async_database_url

    values = {k: v for k, v in dotenv_values(".env").items() if v} if Path(".env").is_file() else {}
    values.update(os.environ)
    database_url = _async_database_url(
        values.get("SANDBOX_DATABASE_URL") or DEFAULT_SANDBOX_DATABASE_URL
    )
    if database_url is None:
        print("SANDBOX_DATABASE_URL must be a sqlite:// or postgresql:// URL.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(SandboxBackend(database_url), manage_backend=True)
    print(f"Sandbox provider API on http://{host}:{port}/v1 (Ctrl+C stops)", flush=True)
    web.run_app(app, host=host, port=port, print=None)
    return 0


def _chat(downloads: Path) -> int:
    from bot.localapi.terminal import run_chat

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return asyncio.run(run_chat(downloads))
    except KeyboardInterrupt:
        return 0


def _run(*, webhook: bool) -> int:
    settings = _settings_or_exit()
    if settings is None:
        return 2
    from bot.provider.cli import check_at_start

    if not check_at_start(settings.provider_config):
        return 2
    if webhook and settings.webhook_url is None:
        print("--webhook needs WEBHOOK_URL and WEBHOOK_SECRET in the settings.", file=sys.stderr)
        return 2
    from bot.backend_check import EXIT_CREDENTIALS_REFUSED, BackendCredentialsRefused
    from bot.logs import configure_logging
    from bot.runner import TelegramUnavailable, serve
    from bot.storage.migrations import SchemaOutOfDate

    configure_logging(settings.log_level, settings.log_format)
    try:
        with _event_loop() as runner:
            runner.run(serve(settings, webhook=webhook or settings.webhook_url is not None))
    except SchemaOutOfDate as error:
        print(str(error), file=sys.stderr)
        return 3
    except TelegramUnavailable as error:
        print(str(error), file=sys.stderr)
        return 5 if error.token_refused else 4  # 4 may pass with the network; 5 will not
    except BackendCredentialsRefused as error:
        print(str(error), file=sys.stderr)
        return EXIT_CREDENTIALS_REFUSED  # 6: a restart will not mend it either
    return 0


def _backend_check() -> int:
    """``backend check``: 0 every feature answered (ok, not permitted or not supported), 6 the
    system refused the integration's credentials, 7 it could not be reached (or some feature)."""
    settings = _settings_or_exit()
    if settings is None:
        return 2
    from bot import application
    from bot.backend_check import check_command
    from bot.logs import configure_logging

    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    return asyncio.run(check_command(settings, application.create_backend(settings)))


def _event_loop() -> asyncio.Runner:
    """uvloop where it is installed (not on Windows): the bot spends much of its time in the
    event loop and its sockets, which uvloop runs in C; the asyncio API is the same."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def _db(action: str) -> int:
    """``db upgrade`` applies the migrations; ``db current`` shows where the schema is."""
    settings = _settings_or_exit()
    if settings is None:
        return 2
    from bot.storage.db import create_engine
    from bot.storage.migrations import current_revision, head_revision, upgrade

    async def act() -> str:
        engine = create_engine(settings.database_url)
        try:
            if action == "upgrade":
                await upgrade(engine)
            current = await current_revision(engine)
        finally:
            await engine.dispose()
        report = f"schema revision: {current or 'empty'} (this version needs {head_revision()})"
        if action == "upgrade" and settings.backend == "sandbox":
            report += "\n" + await _prepare_sandbox(settings)
        return report

    print(asyncio.run(act()))
    return 0


async def _prepare_sandbox(settings: Settings) -> str:
    """Create and seed the sandbox provider's database now, so that the bot's first start
    does not (seeding draws PDFs: fpdf2 would stay in the bot's memory for good)."""
    from backend_client.errors import Unavailable
    from backend_client.sandbox import SandboxBackend

    backend = SandboxBackend(settings.sandbox_database_url)
    try:
        await backend.start()
    except Unavailable:
        return f"sandbox provider: cannot open {settings.sandbox_database_url} (see the logs)"
    finally:
        await backend.close()
    return "sandbox provider: ready (minha-central sandbox accounts lists its subscribers)"


if __name__ == "__main__":
    raise SystemExit(main())
