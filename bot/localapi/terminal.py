"""``minha-central chat``: the sandbox, the local Bot API and the bot, chatting in the terminal.

No token and no internet: the bot runs exactly as in production (long polling, its own database),
pointed at a Bot API served on loopback. Bot messages are printed with their buttons numbered;
typing a number presses a button (only while the bot's latest message has buttons, and only a
number that could be one: a CPF typed as digits is text); ``/file path`` sends a document;
``/contas`` lists the demo logins; files the bot sends are saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bot.localapi.core import BotEvent, LocalBotApi, LocalUser, StoredMessage

CHAT_TOKEN = "100000001:LocalOfflineChatToken_NotARealTelegramToken"
USER_ID = 424242
HELP = (
    "Converse com o bot como no Telegram. Digite um número para tocar num botão,\n"
    "/file caminho para enviar um documento, /foto caminho para enviar uma foto,\n"
    "/contas para ver as contas de demonstração, /fim (ou Ctrl-D) para encerrar."
)
# Button numbers have at most this many digits; a longer line of digits (a CPF, a phone) is text.
BUTTON_DIGITS = 2


class TerminalChat:
    def __init__(
        self,
        api: LocalBotApi,
        user: LocalUser,
        downloads: Path,
        out: TextIO,
        bot_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self.api = api
        self.bot_busy = bot_busy  # updates not yet taken or still being handled
        self.user = user
        self.downloads = downloads
        self.out = out
        self.buttons: list[tuple[StoredMessage, str, str]] = []
        self._seen = 0

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    async def render_forever(self) -> None:
        while True:
            events = self.user.chat.events
            while self._seen < len(events):
                self.render(events[self._seen])
                self._seen += 1
            await self.api.changed(1.0)

    async def settle(self, quiet: float = 0.15, limit: float = 30.0) -> None:
        """Wait until the bot is done with everything sent (however slow the backend) and
        its answer is on screen, so a number typed next presses a button that is really there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        calm_since: float | None = None
        while loop.time() < deadline:
            before = len(self.user.chat.events)
            await asyncio.sleep(0.05)
            shown = len(self.user.chat.events) == before == self._seen
            if self.bot_busy() or not shown:
                calm_since = None
            elif calm_since is None:
                calm_since = loop.time()
            elif loop.time() - calm_since >= quiet:
                return

    def render(self, event: BotEvent) -> None:
        message = event.message
        if event.kind == "answered":
            if event.text:
                self.print(f"  ℹ️  {event.text}")
            return
        if event.kind == "deleted" and message is not None:
            if not message.from_bot:
                self.print("  🗑  (sua mensagem foi apagada pelo bot)")
            return
        if message is None or event.kind not in ("sent", "edited"):
            return
        self.print("")
        self.print("🤖 " + ("(atualizada) " if event.kind == "edited" else "") + "─" * 40)
        body = message.text or message.caption or ""
        if body:
            self.print(body)
        if message.document is not None:
            self.print(f"📎 Documento salvo em {self._save(message.document.filename, message)}")
        if message.photo is not None:
            self.print(f"🖼  Imagem salva em {self._save(None, message)}")
        if message.buttons:
            self.buttons = [(message, label, data) for label, data in message.buttons]
            for number, (_, label, _) in enumerate(self.buttons, start=1):
                self.print(f"   [{number}] {label}")
        elif event.kind == "sent" or any(held is message for held, _, _ in self.buttons):
            # The latest answer is not a choice: a number typed now is text (a CPF, a day).
            self.buttons = []

    def _save(self, filename: str | None, message: StoredMessage) -> Path:
        stored = message.document or message.photo
        assert stored is not None
        self.downloads.mkdir(parents=True, exist_ok=True)
        name = Path(filename or f"imagem-{message.message_id}.png").name
        target = self.downloads / name
        counter = 1
        while target.exists():
            target = self.downloads / f"{Path(name).stem}-{counter}{Path(name).suffix}"
            counter += 1
        target.write_bytes(stored.content)
        return target

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; False to stop."""
        line = line.strip()
        if not line:
            return True
        if line in ("/fim", "/quit", "/exit"):
            return False
        if line in ("/contas", "/accounts"):
            self._print_accounts()
            return True
        if line.isdigit() and len(line) <= BUTTON_DIGITS and self.buttons:
            index = int(line) - 1
            if not 0 <= index < len(self.buttons):
                self.print(f"  (escolha um botão de 1 a {len(self.buttons)})")
                return True
            message, _, data = self.buttons[index]
            await self.user.press(message, data)
            return True
        for command, as_photo in (("/file ", False), ("/foto ", True)):
            if line.startswith(command):
                await self._send_file(line[len(command) :].strip(), as_photo)
                return True
        await self.user.send(line)
        return True

    def _print_accounts(self) -> None:
        """The sandbox's demo logins (what ``minha-central sandbox accounts`` prints)."""
        from backend_client.formats.documents import format_document
        from backend_client.sandbox import DEMO_ACCOUNTS

        self.print("  Contas de demonstração (CPF/CNPJ, senha, titular):")
        for account in DEMO_ACCOUNTS:
            document = format_document(account.document)
            self.print(f"  {document:<20} {account.password:<10} {account.name}")

    async def _send_file(self, typed_path: str, as_photo: bool) -> None:
        path = Path(typed_path)
        try:
            content = await asyncio.to_thread(lambda: path.expanduser().read_bytes())
        except OSError:
            self.print(f"  (arquivo não encontrado: {path})")
            return
        if as_photo:
            await self.user.send_photo(content)
        else:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            await self.user.send_document(content, path.name, mime)


async def run_chat(downloads: Path, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    from bot.application import ALLOWED_UPDATES, build_application
    from bot.settings import Settings
    from bot.storage.db import create_engine
    from bot.storage.migrations import upgrade

    api = LocalBotApi(CHAT_TOKEN)
    runner = web.AppRunner(_server_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    environ = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": CHAT_TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{port}",
        "BACKEND": "sandbox",
    }
    settings = Settings.from_env(environ)
    engine = create_engine(settings.database_url)
    await upgrade(engine)  # a local playground keeps itself up to date
    application = build_application(settings, engine=engine)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=10
    )

    processor = application.update_processor

    def bot_busy() -> bool:
        lanes = getattr(processor, "active_lanes", 0)  # bot.update_processor's, when used
        return bool(api.unconfirmed_updates or application.update_queue.qsize() or lanes)

    chat = TerminalChat(api, api.user(USER_ID, "Você"), downloads, out, bot_busy)
    chat.print("Minha Central — conversa local (sandbox, sem Telegram e sem internet).")
    chat.print(HELP)
    # A command that works here, as printed (the shell's `minha-central sandbox accounts` does
    # not: this terminal is the chat).
    chat.print("Contas de demonstração: digite /contas")
    renderer = asyncio.create_task(chat.render_forever())
    await chat.handle_line("/start")
    await chat.settle()
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or not await chat.handle_line(line):
                break
            await chat.settle()
    finally:
        renderer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renderer
        await api.close()
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
        await runner.cleanup()
    return 0


def _server_app(api: LocalBotApi) -> Any:
    from bot.localapi.server import create_app

    return create_app(api)
