"""``minha-central`` command line: run the bot, inspect the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bot.settings import Settings, SettingsError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="minha-central", description="Minha Central: the subscriber center on Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (long polling)")
    chat = commands.add_parser(
        "chat", help="chat with the bot in this terminal (sandbox + local Bot API, no token)"
    )
    chat.add_argument(
        "--downloads",
        default="minha-central-downloads",
        help="folder where documents and images the bot sends are saved",
    )
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
    return _run()


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


def _run() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print("Minha Central cannot start; fix the configuration:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2

    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and those URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from bot.application import ALLOWED_UPDATES, build_application
    from bot.storage.db import create_engine, create_schema

    engine = create_engine(settings.database_url)

    async def prepare() -> None:
        await create_schema(engine)
        await engine.dispose()  # run_polling uses its own event loop

    asyncio.run(prepare())
    application = build_application(settings, engine=engine)
    logging.getLogger(__name__).info(
        "starting Minha Central (backend=%s, api=%s)", settings.backend, settings.telegram_api_url
    )
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
