"""Pacing for what the bot asks a provider's system on its own behalf (its ProviderFeed).

A provider's system is often a small server: a notification round must not flood it. Every
request a feed sends waits for its turn at ``requests_per_second`` (one :class:`RequestPacer` per
system), and an error — a transport failure, a timeout, HTTP 429 or 5xx — makes the pacer back
off: exponentially (``backoff``·2ⁿ, at most ``max_backoff`` seconds), or as long as the system's
``Retry-After`` asks (RFC 9110 §10.2.3: seconds or an HTTP-date). While backing off for longer
than ``max_wait``, a feed request fails at once with Unavailable instead of holding the round:
the round ends and resumes from its cursor later.

The subscribers' own requests do not go through the pacer (the feed has its own
:class:`PacedTransport` over the backend's pooled client).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from backend_client.errors import Unavailable
from backend_client.kit.transport import HttpResponse, HttpTransport

logger = logging.getLogger(__name__)

DEFAULT_RATE = 2.0  # requests per second (BACKEND_FEED_RATE)
PAGE_SECONDS = 6.0  # a feed page sends at most what fits in this at the pace (see allowance)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delay-seconds or an HTTP-date), None when absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RequestPacer:
    """At most ``requests_per_second`` requests start per second; after an error, none until
    the back-off is over. ``requests_per_second`` 0 paces nothing (back-off still applies)."""

    def __init__(
        self,
        requests_per_second: float = DEFAULT_RATE,
        *,
        system: str = "backend",
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_wait: float = 5.0,
        page_seconds: float = PAGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if requests_per_second < 0:
            raise ValueError("requests_per_second must not be negative")
        self.requests_per_second = requests_per_second
        self.system = system
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.page_seconds = page_seconds
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._blocked_until = 0.0
        self._failures = 0
        self.requests = 0  # started, for tests and benchmarks
        self.backoffs = 0

    @property
    def interval(self) -> float:
        return 1.0 / self.requests_per_second if self.requests_per_second > 0 else 0.0

    def allowance(self) -> int:
        """How many requests fit in ``page_seconds`` at this pace: what one feed page may send,
        so that a page answers well within the bot's deadline for one backend call."""
        if self.requests_per_second <= 0:
            return 1_000_000
        return max(1, int(self.requests_per_second * self.page_seconds))

    @property
    def blocked_for(self) -> float:
        return max(0.0, self._blocked_until - self._clock())

    async def turn(self) -> None:
        """Wait for this request's slot (Unavailable when backing off longer than max_wait)."""
        now = self._clock()
        if self._blocked_until - now > self.max_wait:
            raise Unavailable(
                f"{self.system}: backing off after errors for {self._blocked_until - now:.0f}s"
            )
        start = max(now, self._next_slot, self._blocked_until)
        self._next_slot = start + self.interval  # taken before sleeping: concurrent callers queue
        self.requests += 1
        if start > now:
            await self._sleep(start - now)

    def failed(self, retry_after: float | None = None) -> float:
        """An error: no request before the returned delay (seconds) is over."""
        self._failures += 1
        self.backoffs += 1
        delay = min(self.max_backoff, self.backoff * 2 ** min(self._failures - 1, 30))
        if retry_after is not None:
            delay = max(delay, retry_after)  # the system's own word wins when it asks for more
        self._blocked_until = max(self._blocked_until, self._clock() + delay)
        return delay

    def succeeded(self) -> None:
        self._failures = 0


def _is_backoff_status(status: int) -> bool:
    """Too many requests, or a server error that may pass (not 501 Not Implemented: our
    contract's ``not_supported``, or 505)."""
    return status == 429 or (status >= 500 and status not in (501, 505))


class PacedTransport:
    """``inner``'s pooled client, every request paced by ``pacer``; reads are retried up to
    ``retries`` times after the back-off (writes never). Everything else is ``inner``'s."""

    def __init__(self, inner: HttpTransport, pacer: RequestPacer, *, retries: int = 2) -> None:
        self.inner = inner
        self.pacer = pacer
        self.retries = retries

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

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
        inner = self.inner
        if inner._session is None or inner._session.closed:
            await inner.start()
        url = inner.url(path)
        target = inner._target(url)
        attempts = 1 + (self.retries if read else 0)
        problem = "no attempt made"
        for attempt in range(attempts):
            await self.pacer.turn()
            response = await inner.attempt(
                method, url, target, params=params, data=data, json_body=json_body, headers=headers
            )
            if isinstance(response, str):  # no answer: a time-out or a connection failure
                problem = response
                delay = self.pacer.failed()
            else:
                if not _is_backoff_status(response.status):
                    self.pacer.succeeded()
                    return response
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                delay = self.pacer.failed(wait)
                problem = f"answered {method} {target} with HTTP {response.status}"
                if not read or attempt + 1 == attempts:
                    logger.info("%s: %s; backing off %.1fs", inner.system, problem, delay)
                    return response  # the caller turns it into Unavailable
            logger.info(
                "%s: %s (attempt %d of %d); backing off %.1fs",
                inner.system,
                problem,
                attempt + 1,
                attempts,
                delay,
            )
            if not read:
                raise inner._fail(f"{problem}; writes are not retried")
        raise inner._fail(problem)
