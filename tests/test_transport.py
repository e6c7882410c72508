"""AiohttpRequest: PTB's behaviours the bot relies on, over the local Bot API and raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.localapi.core import LocalBotApi
from bot.settings import Settings, SettingsError
from bot.transport import UPDATES_READ_TIMEOUT, AiohttpRequest
from bot.update_processor import OrderedConcurrentProcessor
from tests.support.bot_env import TOKEN

SECRET = TOKEN.split(":", 1)[1]


@pytest.fixture
async def bot(served: tuple[LocalBotApi, str]) -> AsyncIterator[Bot]:
    _, url = served
    async with Bot(
        TOKEN,
        base_url=f"{url}/bot",
        base_file_url=f"{url}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=0.5),
    ) as bot:
        yield bot


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def raw_server(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: (\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return head, body


def assert_no_token(error: BaseException, *secrets: str) -> None:
    """Neither the message nor anything chained to it (what a traceback prints) shows it."""
    seen: BaseException | None = error
    while seen is not None:
        for secret in (SECRET, *secrets):
            assert secret not in str(seen) and secret not in repr(seen), repr(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


# --- the Bot API through PTB --------------------------------------------------------------------
async def test_send_and_edit_text(served: tuple[LocalBotApi, str], bot: Bot) -> None:
    api, _ = served
    await api.user(21).send("oi")
    sent = await bot.send_message(21, "<b>Olá</b>, Ana & cia".replace("&", "&amp;"), "HTML")
    assert sent.text == "Olá, Ana & cia"
    edited = await bot.edit_message_text("Agora sim ✅", 21, sent.message_id)
    assert edited.text == "Agora sim ✅"  # type: ignore[union-attr]
    assert api.message(21, sent.message_id).text == "Agora sim ✅"  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Agora sim ✅", 21, sent.message_id)


async def test_send_document_and_photo_from_bytes(
    served: tuple[LocalBotApi, str], bot: Bot
) -> None:
    api, _ = served
    await api.user(22).send("oi")
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 400  # binary, > one 64 KiB chunk
    sent = await bot.send_document(22, pdf, filename="boleto março.pdf", caption="Seu boleto")
    assert sent.document is not None and sent.document.file_name == "boleto março.pdf"
    stored = api.messages(22)[-1].document
    assert stored is not None
    assert (stored.content, stored.filename, stored.mime_type) == (
        pdf,
        "boleto março.pdf",
        "application/pdf",
    )
    assert api.messages(22)[-1].caption == "Seu boleto"

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1000
    photo = await bot.send_photo(22, png, caption="QR Code PIX")
    assert photo.photo and photo.caption == "QR Code PIX"
    stored_photo = api.messages(22)[-1].photo
    assert stored_photo is not None and stored_photo.content == png

    # A file handle streamed rather than read into memory first.
    handle = io.BytesIO(b"conteudo do anexo")
    await bot.send_document(22, InputFile(handle, filename="anexo.txt", read_file_handle=False))
    stored = api.messages(22)[-1].document
    assert stored is not None and (stored.content, stored.filename) == (
        b"conteudo do anexo",
        "anexo.txt",
    )


async def test_download_a_file(served: tuple[LocalBotApi, str], bot: Bot, tmp_path: Path) -> None:
    api, _ = served
    content = bytes(range(256)) * 1000
    incoming = await api.user(23).send_document(content, "extrato.pdf", "application/pdf")
    assert incoming.document is not None
    telegram_file = await bot.get_file(incoming.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == content
    path = await telegram_file.download_to_drive(tmp_path / "extrato.pdf")
    assert path.read_bytes() == content


async def test_long_polling_returns_when_a_user_writes(
    served: tuple[LocalBotApi, str], bot: Bot
) -> None:
    api, _ = served
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.7)  # longer than the get-updates request's own read timeout (0.5 s)
    assert not polling.done()
    await api.user(24).send("/start")
    updates = await asyncio.wait_for(polling, 2)
    assert updates[0].message is not None and updates[0].message.text == "/start"


async def test_long_polling_is_not_cut_short(bot: Bot) -> None:
    # The request's read timeout is 0.5 s; PTB adds the 2 s poll to it, so an empty poll
    # comes back empty after ~2 s instead of failing with TimedOut.
    started = time.monotonic()
    assert await bot.get_updates(timeout=2) == ()
    assert 1.9 <= time.monotonic() - started < 3


async def test_read_timeout_does_apply_to_a_poll(served: tuple[LocalBotApi, str]) -> None:
    _, url = served
    data = RequestData([RequestParameter.from_input("timeout", 2)])
    async with AiohttpRequest(read_timeout=0.3) as request:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"getUpdates \(read timeout 0.3 s\)") as raised:
            await request.post(f"{url}/bot{TOKEN}/getUpdates", data)
    assert time.monotonic() - started < 1.5
    assert_no_token(raised.value)


async def test_cancelled_poll_frees_its_connection(served: tuple[LocalBotApi, str]) -> None:
    _, url = served
    data = RequestData([RequestParameter.from_input("timeout", 10)])
    async with AiohttpRequest(connection_pool_size=1, read_timeout=1, pool_timeout=0.2) as request:
        polling = asyncio.create_task(request.post(f"{url}/bot{TOKEN}/getUpdates", data))
        await asyncio.sleep(0.2)
        polling.cancel()  # what the Updater does when it stops
        with pytest.raises(asyncio.CancelledError):
            await polling
        assert (await request.post(f"{url}/bot{TOKEN}/getMe"))["id"] == 123456789


# --- the wire: what HTTPXRequest would send -----------------------------------------------------
def _requests() -> list[RequestData | None]:
    def params(files: bool) -> list[RequestParameter]:
        values: list[RequestParameter] = [
            RequestParameter.from_input("chat_id", 5),
            RequestParameter.from_input("caption", 'olá "aspas" & \\barra'),
            RequestParameter.from_input("reply_markup", {"inline_keyboard": [[{"text": "A"}]]}),
            RequestParameter.from_input("disable_notification", True),
        ]
        if files:
            document = InputFile(b"%PDF data", filename='bolé"to".pdf')
            handle = InputFile(io.BytesIO(b"\x89PNG..."), filename="qr.png", read_file_handle=False)
            values += [
                RequestParameter.from_input("document", document),
                RequestParameter.from_input("thumbnail", handle),
            ]
        return values

    return [None, RequestData([]), RequestData(params(False)), RequestData(params(True))]


async def test_form_and_multipart_bodies_match_httpx_byte_for_byte() -> None:
    captured: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                captured.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}')
            await writer.drain()
        writer.close()

    server, url = await raw_server(handler)
    async with server:
        for request in (HTTPXRequest(), AiohttpRequest()):
            async with request:
                for data in _requests():
                    status, body = await request.do_request(f"{url}/bot{TOKEN}/x", "POST", data)
                    assert (status, body) == (200, b'{"ok":true}')

    def normalized(head: bytes, body: bytes) -> tuple[dict[str, str], bytes]:
        boundary = re.search(rb"boundary=([0-9a-f]+)", head)
        if boundary:
            body = body.replace(boundary.group(1), b"BOUNDARY")
        lines = head.decode().split("\r\n")[1:]
        headers = dict(line.split(": ", 1) for line in lines if line)
        kept = {"Content-Length", "Content-Type", "User-Agent", "Host", "Transfer-Encoding"}
        shown = {k: re.sub("boundary=.*", "boundary=B", v) for k, v in headers.items()}
        return {k: v for k, v in shown.items() if k in kept}, body

    half = len(captured) // 2
    assert half == 4
    for by_httpx, by_aiohttp in zip(captured[:half], captured[half:], strict=True):
        assert normalized(*by_aiohttp) == normalized(*by_httpx)
    assert captured[half][0].startswith(b"POST /bot")
    assert b"Content-Type" not in captured[half][0]  # no parameters: no body, no content type
    assert captured[-1][1].count(b'filename="') == 2


async def test_proxy_with_credentials() -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        seen.append(head)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n{"ok":true,"result":"via"}')
        await writer.drain()
        writer.close()

    server, url = await raw_server(proxy)
    proxy_url = url.replace("http://", "http://ana:s3nha@")
    async with server, AiohttpRequest(proxy=proxy_url) as request:
        result = await request.post(f"http://api.telegram.example/bot{TOKEN}/getMe")
    assert result == "via"
    assert seen[0].startswith(f"POST http://api.telegram.example/bot{TOKEN}/getMe".encode())
    assert b"Proxy-Authorization: Basic YW5hOnMzbmhh" in seen[0]

    # A proxy that is down: a NetworkError that shows neither the token nor the password.
    async with AiohttpRequest(proxy=proxy_url) as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://api.telegram.example/bot{TOKEN}/getMe")
    assert_no_token(raised.value, "s3nha")


async def test_proxy_from_the_environment_like_httpx(
    served: tuple[LocalBotApi, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, api_url = served
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        seen.append(head)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n{"ok":true,"result":"via"}')
        await writer.drain()
        writer.close()

    server, proxy_url = await raw_server(proxy)
    for name in ("ALL_PROXY", "all_proxy", "http_proxy", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with server:
        async with AiohttpRequest() as request:
            assert await request.post(f"http://api.telegram.example/bot{TOKEN}/getMe") == "via"
            assert (await request.post(f"{api_url}/bot{TOKEN}/getMe"))["is_bot"]  # NO_PROXY
        assert len(seen) == 1
        async with AiohttpRequest(trust_env=False) as request:
            with pytest.raises(NetworkError):  # direct: .example does not resolve (or times out)
                await request.post(
                    f"http://api.telegram.example/bot{TOKEN}/getMe", connect_timeout=2
                )
        assert len(seen) == 1


# --- failures ------------------------------------------------------------------------------------
async def test_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)
    assert "ClientConnectorError" in str(raised.value) and "getMe" in str(raised.value)
    assert_no_token(raised.value)


async def test_stalled_server_times_out() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)  # never answers
        writer.close()

    server, url = await raw_server(stall)
    async with server, AiohttpRequest(read_timeout=0.3) as request:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"answer to POST sendMessage") as raised:
            await request.post(
                f"{url}/bot{TOKEN}/sendMessage",
                RequestData([RequestParameter.from_input("text", "oi")]),
            )
        assert time.monotonic() - started < 1.5
        # The per-call value wins over the default.
        with pytest.raises(TimedOut, match=r"read timeout 0.1 s"):
            await request.post(f"{url}/bot{TOKEN}/getMe", read_timeout=0.1)
        server.close()
    assert_no_token(raised.value)


async def test_upload_to_a_server_that_does_not_read_times_out() -> None:
    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server, url = await raw_server(deaf)
    big = InputFile(b"\0" * (48 * 1024 * 1024), filename="grande.bin")
    data = RequestData([RequestParameter.from_input("document", big)])
    async with server, AiohttpRequest(media_write_timeout=0.3) as request:
        started = time.monotonic()
        with pytest.raises(TimedOut, match=r"write timeout 0.3 s") as raised:
            await request.post(f"{url}/bot{TOKEN}/sendDocument", data)
        assert time.monotonic() - started < 3
        server.close()
    assert_no_token(raised.value)


async def test_connect_timeout_hides_the_token() -> None:
    # A listening socket that never accepts: once its backlog is full, connecting hangs.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        async with AiohttpRequest(connect_timeout=0.3) as request:
            with pytest.raises(TimedOut, match=r"connect timeout 0.3 s") as raised:
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    # aiohttp's own message is "Connection timeout to host <the URL, token included>".
    assert_no_token(raised.value)


async def test_pool_timeout_when_every_connection_is_busy() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.3)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n{"ok":true,"result":true}')
        await writer.drain()
        writer.close()

    server, url = await raw_server(slow)
    async with server, AiohttpRequest(connection_pool_size=1, pool_timeout=0.1) as request:
        first = asyncio.create_task(request.post(f"{url}/bot{TOKEN}/getMe"))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await request.post(f"{url}/bot{TOKEN}/getMe")
        assert await first is True
        # Waiting long enough for the slot succeeds.
        second = asyncio.create_task(request.post(f"{url}/bot{TOKEN}/getMe"))
        await asyncio.sleep(0.05)
        assert await request.post(f"{url}/bot{TOKEN}/getMe", pool_timeout=2) is True
        assert await second is True


async def test_invalid_url_hides_the_token() -> None:
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://[::1/bot{TOKEN}/getMe")
    assert "getMe" in str(raised.value)
    assert_no_token(raised.value)


async def test_http_errors_are_ptbs(served: tuple[LocalBotApi, str]) -> None:
    _, url = served
    async with AiohttpRequest() as request:
        with pytest.raises(TelegramError, match="Unauthorized"):
            await request.post(f"{url}/bot1:wrong/getMe")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await request.post(
                f"{url}/bot{TOKEN}/sendMessage",
                RequestData(
                    [
                        RequestParameter.from_input("chat_id", 404),
                        RequestParameter.from_input("text", "x"),
                    ]
                ),
            )


# --- lifecycle ----------------------------------------------------------------------------------
async def test_initialize_and_shutdown_are_idempotent_and_lazy(
    served: tuple[LocalBotApi, str],
) -> None:
    _, url = served
    request = AiohttpRequest()
    assert not request.initialized
    assert (await request.post(f"{url}/bot{TOKEN}/getMe"))["is_bot"]  # used before initialize
    assert request.initialized
    await request.initialize()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()
    assert not request.initialized
    async with request:  # and again after a shutdown
        assert (await request.post(f"{url}/bot{TOKEN}/getMe"))["is_bot"]
    assert not request.initialized
    assert request.read_timeout == 5.0 and request.http_version == "1.1"


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="connection_pool_size"):
        AiohttpRequest(connection_pool_size=0)
    with pytest.raises(ValueError, match="proxy"):
        AiohttpRequest(proxy="socks5://127.0.0.1:1080")


# --- settings and wiring ------------------------------------------------------------------------
def _settings(tmp_path: Path, **environ: str) -> Settings:
    return Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}",
            **environ,
        },
        env_file=None,
    )


def test_transport_settings(tmp_path: Path) -> None:
    defaults = _settings(tmp_path)
    assert (defaults.telegram_transport, defaults.concurrent_updates) == ("aiohttp", 64)
    assert defaults.telegram_proxy_url is None
    chosen = _settings(
        tmp_path,
        TELEGRAM_TRANSPORT="HTTPX",
        CONCURRENT_UPDATES="1",
        TELEGRAM_PROXY_URL="http://ana:s3nha@proxy.local:3128",
    )
    assert (chosen.telegram_transport, chosen.concurrent_updates) == ("httpx", 1)
    assert chosen.telegram_proxy_url == "http://ana:s3nha@proxy.local:3128"
    assert "s3nha" not in repr(chosen)

    with pytest.raises(SettingsError) as raised:
        _settings(
            tmp_path,
            TELEGRAM_TRANSPORT="curl",
            CONCURRENT_UPDATES="0",
            TELEGRAM_PROXY_URL="socks5://ana:s3nha@proxy.local:1080",
        )
    problems = raised.value.problems
    assert any(p.startswith("TELEGRAM_TRANSPORT must be one of aiohttp, httpx") for p in problems)
    assert any(p.startswith("CONCURRENT_UPDATES must be a whole number") for p in problems)
    assert any(p.startswith("TELEGRAM_PROXY_URL must be an http://") for p in problems)
    assert "s3nha" not in str(raised.value)
    for wrong in ("-1", "muitos", "2.5"):
        with pytest.raises(SettingsError, match="CONCURRENT_UPDATES"):
            _settings(tmp_path, CONCURRENT_UPDATES=wrong)


async def test_build_application_uses_aiohttp_and_the_ordered_processor(tmp_path: Path) -> None:
    from bot.application import build_application

    application = build_application(_settings(tmp_path, CONCURRENT_UPDATES="32"))
    updates_request, request = application.bot._request  # PTB: (getUpdates, everything else)
    assert isinstance(request, AiohttpRequest) and isinstance(updates_request, AiohttpRequest)
    assert request is not updates_request
    assert updates_request.read_timeout == UPDATES_READ_TIMEOUT
    assert isinstance(application.update_processor, OrderedConcurrentProcessor)
    assert application.update_processor.max_concurrent_updates == 32
    await application.bot_data["engine"].dispose()

    proxied = build_application(
        _settings(tmp_path, TELEGRAM_PROXY_URL="http://proxy.local:3128")
    ).bot.request
    assert isinstance(proxied, AiohttpRequest) and str(proxied._proxy) == "http://proxy.local:3128"

    httpx_app = build_application(
        _settings(
            tmp_path, TELEGRAM_TRANSPORT="httpx", TELEGRAM_PROXY_URL="http://proxy.local:3128"
        )
    )
    assert all(isinstance(r, HTTPXRequest) for r in httpx_app.bot._request)
    assert httpx_app.bot.request._client_kwargs["proxy"] == "http://proxy.local:3128"  # type: ignore[attr-defined]
    await httpx_app.bot_data["engine"].dispose()
