"""One pooled aiohttp client per adapter: deadlines, bounded retries for reads, no secret leaks.

Every adapter that talks HTTP (SGP, IXCSoft, our own contract) goes through :class:`HttpTransport`:

- one :class:`aiohttp.ClientSession` over a bounded :class:`aiohttp.TCPConnector`;
- a per-request deadline (connect + answer);
- idempotent reads retried a bounded number of times with exponential backoff and jitter, on
  transport failures and on 429/502/503/504; writes are sent exactly once (a write that timed out
  may or may not have been applied, so it is never repeated behind the subscriber's back);
- failures become :class:`~backend_client.errors.Unavailable` with a message that names the
  system, the method and the path (never the query string, the body or a credential);
- responses larger than ``max_body_bytes`` are refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from backend_client.errors import Unavailable

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_MAX_BODY = 32 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    method: str
    target: str  # path only, for messages

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


class HttpTransport:
    """A pooled client for one provider system (``system`` names it in errors and logs)."""

    def __init__(
        self,
        base_url: str,
        *,
        system: str,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if read_retries < 0:
            raise ValueError("read_retries must not be negative")
        self.base_url = base_url.rstrip("/")
        self.system = system
        self.timeout = timeout
        self.read_retries = read_retries
        self.backoff = backoff
        self.pool_size = pool_size
        self.max_body_bytes = max_body_bytes
        self._headers = dict(headers or {})
        self._secrets = [s for s in secrets if s and len(s) >= 3]
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"HttpTransport(system={self.system!r}, base_url={self.base_url!r})"

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(
            limit=self.pool_size, limit_per_host=self.pool_size, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": "MinhaCentral/1.0", **self._headers},
            timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 5.0)),
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise Unavailable(f"{self.system}: the client is not started")
        return self._session

    # --- helpers --------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """``text`` with every configured secret replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 3 and secret not in self._secrets:
            self._secrets.append(secret)

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    @staticmethod
    def _target(url: str) -> str:
        return urlsplit(url).path or "/"

    def _fail(self, message: str) -> Unavailable:
        return Unavailable(self.redact(f"{self.system}: {message}"))

    # --- requests -------------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        read: bool,
        params: Any = None,
        data: Any = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request; ``read=True`` marks it idempotent (retried), anything else is sent
        exactly once."""
        url = self.url(path)
        target = self._target(url)
        attempts = 1 + (self.read_retries if read else 0)
        last_problem = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                delay = self.backoff * (2 ** (attempt - 1))
                await asyncio.sleep(delay + random.uniform(0, self.backoff / 2))
            started = time.monotonic()
            response = await self.attempt(
                method, url, target, params=params, data=data, json_body=json_body, headers=headers
            )
            if isinstance(response, str):
                last_problem = response
            else:
                elapsed = (time.monotonic() - started) * 1000
                logger.debug(
                    "%s %s %s -> %s (%.0f ms)",
                    self.system,
                    method,
                    target,
                    response.status,
                    elapsed,
                )
                if response.status in RETRY_STATUSES and read and attempt + 1 < attempts:
                    last_problem = f"answered {method} {target} with HTTP {response.status}"
                    logger.info("%s: HTTP %s on %s, retrying", self.system, response.status, target)
                    continue
                return response
            if not read:
                raise self._fail(f"{last_problem}; writes are not retried")
            logger.info(
                "%s: %s (attempt %d of %d)", self.system, last_problem, attempt + 1, attempts
            )
        raise self._fail(last_problem)

    async def attempt(
        self,
        method: str,
        url: str,
        target: str,
        *,
        params: Any,
        data: Any,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> HttpResponse | str:
        """One try of a request (no retry): the answer, or in words why none came — a time-out
        or a connection failure (no URL, no secret: ``target`` is the path)."""
        options: dict[str, Any] = {"params": params, "headers": headers, "allow_redirects": False}
        if data is not None:
            options["data"] = data
        if json_body is not None:
            options["json"] = json_body
        try:
            async with self.session.request(method, url, **options) as response:
                return await self._read(response, method, target)
        except TimeoutError:
            return f"did not answer {method} {target} within {self.timeout:g}s"
        except (aiohttp.ClientError, OSError) as error:
            return f"{method} {target} failed ({type(error).__name__})"

    async def _read(
        self, response: aiohttp.ClientResponse, method: str, target: str
    ) -> HttpResponse:
        declared = response.content_length
        if declared is not None and declared > self.max_body_bytes:
            raise self._fail(f"answered {method} {target} with {declared} bytes, over the limit")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._fail(f"answered {method} {target} with more bytes than allowed")
            chunks.append(chunk)
        return HttpResponse(response.status, response.headers, b"".join(chunks), method, target)

    # --- decoding -------------------------------------------------------------------------------
    def json(self, response: HttpResponse) -> Any:
        """The JSON body, or Unavailable naming what came instead."""
        try:
            return json.loads(response.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            kind = response.content_type or "no content type"
            raise self._fail(
                f"answered {response.method} {response.target} with something that is not JSON "
                f"(HTTP {response.status}, {kind}, {len(response.body)} bytes)"
            ) from None

    def unexpected(self, response: HttpResponse, what: str = "") -> Unavailable:
        detail = f": {what}" if what else ""
        return self._fail(
            f"answered {response.method} {response.target} with HTTP {response.status}{detail}"
        )

    def malformed(self, response: HttpResponse, what: str) -> Unavailable:
        return self._fail(f"{response.method} {response.target}: {what}")
