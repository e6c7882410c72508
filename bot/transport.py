"""PTB's HTTP layer on aiohttp: :class:`AiohttpRequest`, a drop-in for ``HTTPXRequest``.

PTB spends most of an echo bot's CPU time in httpx; aiohttp (already a dependency) does the
same work for a fraction of it. This class keeps PTB's contract:

* one ``aiohttp.ClientSession`` per request object, created in :meth:`initialize` (or lazily,
  when used before it) and closed in :meth:`shutdown`; both are idempotent;
* a bounded pool: at most ``connection_pool_size`` requests in flight, each holding one
  connection of a ``TCPConnector(limit=connection_pool_size)``; waiting for a free one is what
  PTB's *pool* timeout bounds;
* PTB's timeouts per call (``DEFAULT_NONE`` → this object's defaults): *connect* bounds opening
  a connection, *write* each chunk of the request body (``media_write_timeout`` by default for
  uploads, like PTB), *read* each wait for the server after the request is sent — so a
  long-polling ``getUpdates``, to which PTB gives ``read_timeout + poll timeout``, is not cut
  short;
* the body byte for byte as ``HTTPXRequest`` sends it: ``application/x-www-form-urlencoded``
  for parameters only, ``multipart/form-data`` (parameters, then files with their filename and
  content type, quoted the way httpx quotes them) with files, nothing without parameters;
* errors as PTB's: ``TimedOut`` for timeouts, ``NetworkError`` for everything else, with
  messages (and exception chains) that never contain the bot token — it is part of every URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import urllib.request
from collections.abc import Iterator
from typing import IO, Any, Final
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

__all__ = ["UPDATES_READ_TIMEOUT", "AiohttpRequest", "aiohttp_requests"]

Timeout = float | None
_CHUNK: Final = 64 * 1024
_SMALL: Final = 32 * 1024  # bodies up to this are written without a write timeout (never block)
_FORM: Final = "application/x-www-form-urlencoded"
# What httpx escapes in multipart names and filenames (the HTML5 form encoding).
_HTML5_ESCAPES: Final = {'"': "%22", "\\": "\\\\"} | {
    chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B
}
_HTML5_PATTERN: Final = re.compile("|".join(re.escape(c) for c in _HTML5_ESCAPES))
_TOKEN_IN_PATH: Final = re.compile(r"(?<=/bot)[^/\s'\"]+")
_TOKEN: Final = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_CREDENTIALS: Final = re.compile(r"(?<=://)[^/@\s'\"]+@")
# getUpdates: PTB adds the poll timeout (the Updater's is 10 s) to this, so a poll gets 20 s.
UPDATES_READ_TIMEOUT: Final = 10.0
_POOL_TIMEOUT_MESSAGE: Final = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class _WriteTimeout(TimeoutError):
    """A chunk of the request body could not be sent within the write timeout."""


class AiohttpRequest(BaseRequest):
    """:class:`telegram.request.BaseRequest` on aiohttp; same arguments and defaults as
    ``HTTPXRequest`` where they apply.

    Args:
        connection_pool_size: Requests (and connections) in flight at most. Defaults to 256.
        read_timeout: Seconds to wait for the server once the request is sent. Defaults to 5.
        write_timeout: Seconds to send each chunk of a request without files. Defaults to 5.
        connect_timeout: Seconds to open a connection (DNS, TCP, TLS, proxy). Defaults to 5.
        pool_timeout: Seconds to wait for a free slot in the pool. Defaults to 1.
        media_write_timeout: :paramref:`write_timeout` for requests that upload files.
            Defaults to 20.
        proxy: An ``http://`` or ``https://`` proxy URL, credentials included if needed.
        trust_env: Honour ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` when no
            :paramref:`proxy` is given, like httpx does. Defaults to :obj:`True`. (Read once per
            session and resolved once per host: aiohttp's own ``trust_env`` costs a thread hop
            per request.)
    """

    __slots__ = (
        "_connect_timeout",
        "_env_proxies",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_slots",
        "_timeouts",
        "_trust_env",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: Timeout = 5.0,
        write_timeout: Timeout = 5.0,
        connect_timeout: Timeout = 5.0,
        pool_timeout: Timeout = 1.0,
        media_write_timeout: Timeout = 20.0,
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy: URL | None = None
        if proxy:
            # Credentials stay in the URL: aiohttp turns them into Proxy-Authorization for both
            # plain requests and CONNECT tunnels (its proxy_auth/proxy_headers are deprecated or
            # CONNECT-only). Error messages never show them (see _redact).
            url = URL(proxy)
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError("proxy must be an http:// or https:// URL")
            self._proxy = url
        self._trust_env = trust_env
        self._env_proxies: dict[str, URL | None] = {}  # "scheme://host:port" → proxy
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[Timeout, Timeout], aiohttp.ClientTimeout] = {}

    # --- PTB's interface ------------------------------------------------------------------
    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds the poll timeout to it for ``getUpdates``."""
        return self._read_timeout

    @property
    def http_version(self) -> str:
        """aiohttp speaks HTTP/1.1 only (so does PTB's default ``HTTPXRequest``)."""
        return "1.1"

    @property
    def initialized(self) -> bool:
        return self._session is not None and not self._session.closed

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        self._open()

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent). Using the object again opens a
        new session, which a later :meth:`shutdown` closes."""
        session, self._session, self._slots = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; ``(HTTP status, body)`` or PTB's ``TimedOut``/``NetworkError``."""
        default = BaseRequest.DEFAULT_NONE
        read = self._read_timeout if read_timeout is default else read_timeout
        connect = self._connect_timeout if connect_timeout is default else connect_timeout
        pool = self._pool_timeout if pool_timeout is default else pool_timeout
        files = request_data.multipart_data if request_data and request_data.contains_files else {}
        if write_timeout is default:
            write_timeout = self._media_write_timeout if files else self._write_timeout

        session, slots = self._open()
        if slots.locked():  # the fast path (a free slot) never suspends
            try:
                async with asyncio.timeout(pool):
                    await slots.acquire()
            except TimeoutError:
                raise TimedOut(_POOL_TIMEOUT_MESSAGE) from None
        else:
            await slots.acquire()
        failure: Exception
        try:
            body = _body(request_data, files, write_timeout)
            proxy = self._proxy or (self._env_proxy(url) if self._trust_env else None)
            async with session.request(
                method,
                url,
                data=body,
                headers=None if body is None else {"Content-Type": body.content_type},
                timeout=self._timeout(connect, read),
                proxy=proxy,
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except Exception as error:  # translated below, outside the except block (no context)
            failure = error
        finally:
            slots.release()
        raise _translate(failure, url, method, read, write_timeout, connect)

    # --- internals ------------------------------------------------------------------------
    def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        if self._session is None or self._session.closed or self._slots is None:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # No Content-Type on a POST without a body, like httpx; bodies set theirs.
                skip_auto_headers=("Content-Type",),
            )
            self._slots = asyncio.Semaphore(self._pool_size)
            self._env_proxies = {}
        return self._session, self._slots

    def _env_proxy(self, url: str) -> URL | None:
        """The proxy the environment names for ``url``'s origin (cached per origin)."""
        start = url.find("://") + 3 if "://" in url else 0
        end = url.find("/", start)
        origin = url if end < 0 else url[:end]
        try:
            return self._env_proxies[origin]
        except KeyError:
            pass
        proxy: URL | None = None
        settings = urllib.request.getproxies_environment()
        parts = urlsplit(origin)
        candidate = settings.get(parts.scheme) or settings.get("all")
        if (
            candidate
            and candidate.startswith(("http://", "https://"))
            and not urllib.request.proxy_bypass_environment(parts.hostname or "", settings)
        ):
            proxy = URL(candidate)
        if len(self._env_proxies) < 64:
            self._env_proxies[origin] = proxy
        return proxy

    def _timeout(self, connect: Timeout, read: Timeout) -> aiohttp.ClientTimeout:
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            # No total: a long poll may legitimately take read_timeout + its poll time.
            timeout = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = timeout
        return timeout


def aiohttp_requests(proxy: str | None = None) -> tuple[AiohttpRequest, AiohttpRequest]:
    """The bot's two request objects: one for every method, one (own pool) for getUpdates."""
    return (
        AiohttpRequest(proxy=proxy),
        AiohttpRequest(connection_pool_size=1, read_timeout=UPDATES_READ_TIMEOUT, proxy=proxy),
    )


# --- the request body -----------------------------------------------------------------------
FileContent = bytes | IO[bytes]


class _Body(Payload):
    """A request body written chunk by chunk, each chunk within the write timeout."""

    _autoclose = True

    def __init__(
        self,
        parts: list[bytes | FileContent],
        size: int | None,
        content_type: str,
        write_timeout: Timeout,
    ) -> None:
        super().__init__(parts, content_type=content_type)
        self._parts = parts
        self._size = size
        self._write_timeout = write_timeout

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self._chunks()).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        # aiohttp only waits (drains) past 64 KiB buffered: a small body cannot block.
        guarded = self._size is None or self._size > _SMALL
        remaining = content_length
        for chunk in self._chunks():
            if remaining is not None:
                chunk = chunk[:remaining]
                remaining -= len(chunk)
            if chunk and not guarded:
                await writer.write(chunk)
            elif chunk:
                try:
                    async with asyncio.timeout(self._write_timeout):
                        await writer.write(chunk)
                except TimeoutError:
                    raise _WriteTimeout() from None
            if remaining == 0:
                return

    def _chunks(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes | bytearray | memoryview):
                for start in range(0, len(part), _CHUNK):
                    yield bytes(part[start : start + _CHUNK])
                continue
            if hasattr(part, "seek"):  # like httpx: every (re)send starts at the beginning
                with contextlib.suppress(OSError, io.UnsupportedOperation):
                    part.seek(0)
            while chunk := part.read(_CHUNK):
                yield chunk


def _body(
    request_data: RequestData | None, files: dict[str, Any], write_timeout: Timeout
) -> _Body | None:
    """The body HTTPXRequest would send for ``request_data``, or None when there is none."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not files:
        if not fields:
            return None
        encoded = urlencode(fields).encode()
        return _Body([encoded], len(encoded), _FORM, write_timeout)
    boundary = os.urandom(16).hex()
    parts: list[bytes | FileContent] = []
    size: int | None = 0
    for name, value in fields.items():
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; {_param('name', name)}\r\n\r\n"
        ).encode()
        data = value.encode()
        parts += [head, data, b"\r\n"]
        size = None if size is None else size + len(head) + len(data) + 2
    for name, (filename, content, mime_type) in files.items():
        disposition = f"form-data; {_param('name', name)}"
        if filename:
            disposition += f"; {_param('filename', filename)}"
        text = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if mime_type:
            text += f"Content-Type: {mime_type}\r\n"
        head = f"{text}\r\n".encode()
        parts += [head, content, b"\r\n"]
        length = _length(content)
        size = None if size is None or length is None else size + len(head) + length + 2
    tail = f"--{boundary}--\r\n".encode()
    parts.append(tail)
    size = None if size is None else size + len(tail)
    return _Body(parts, size, f"multipart/form-data; boundary={boundary}", write_timeout)


def _param(name: str, value: str) -> str:
    return f'{name}="{_HTML5_PATTERN.sub(lambda m: _HTML5_ESCAPES[m.group(0)], value)}"'


def _length(content: FileContent) -> int | None:
    """The bytes that will be sent (what httpx computes for its Content-Length)."""
    if isinstance(content, bytes | bytearray | memoryview):
        return len(content)
    try:
        return os.fstat(content.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        offset = content.tell()
        length = content.seek(0, os.SEEK_END)
        content.seek(offset)
        return length
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None  # sent chunked


# --- errors ---------------------------------------------------------------------------------
def _translate(
    error: Exception, url: str, method: str, read: Timeout, write: Timeout, connect: Timeout
) -> Exception:
    """PTB's exception for ``error``, its message and chain free of the token."""
    what = _describe(url, method)
    translated: Exception
    if isinstance(error, _WriteTimeout):
        translated = TimedOut(f"Timed out sending {what} (write timeout {write} s)")
    elif isinstance(error, aiohttp.ConnectionTimeoutError):
        translated = TimedOut(f"Timed out connecting for {what} (connect timeout {connect} s)")
    elif isinstance(error, aiohttp.SocketTimeoutError):
        translated = TimedOut(f"Timed out waiting for the answer to {what} (read timeout {read} s)")
    elif isinstance(error, TimeoutError):
        translated = TimedOut(f"Timed out: {what}")
    else:
        detail = _redact(str(error), url) or "no details"
        translated = NetworkError(f"{_kind(error)} during {what}: {detail}")
    # Keep the original as the cause only when nothing in that chain shows the token.
    translated.__cause__ = error if _chain_is_clean(error, url) else None
    translated.__suppress_context__ = True
    return translated


def _describe(url: str, method: str) -> str:
    if "/file/bot" in url:
        return "a file download"
    endpoint = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return f"{method} {_redact(endpoint, url) or 'request'}"


def _kind(error: Exception) -> str:
    module = type(error).__module__.split(".")[0]
    prefix = "aiohttp." if module == "aiohttp" else ""
    return f"{prefix}{type(error).__name__}"


def _redact(text: str, url: str) -> str:
    """``text`` without the bot token (and proxy credentials)."""
    try:
        forms = {url, str(URL(url)), URL(url).path}
    except ValueError:  # not even a URL
        forms = {url}
    for shown in forms:
        if shown and shown in text:
            text = text.replace(shown, _TOKEN_IN_PATH.sub("<token>", shown))
    text = _TOKEN_IN_PATH.sub("<token>", text)
    text = _TOKEN.sub("<token>", text)
    return _CREDENTIALS.sub("***@", text)


def _chain_is_clean(error: BaseException | None, url: str) -> bool:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = f"{error}|{error!r}"
        if _redact(text, url) != text:
            return False
        error = error.__cause__ or error.__context__
    return True
