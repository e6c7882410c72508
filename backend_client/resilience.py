"""A wrapper that gives every backend operation a deadline and one failure vocabulary."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from backend_client.errors import BackendError, Unavailable

logger = logging.getLogger(__name__)


class GuardedBackend:
    """Proxy to a backend: a slow call or a transport failure becomes :class:`Unavailable`.

    Typed backend errors pass through unchanged, so callers handle exactly the errors the
    protocol documents.
    """

    def __init__(
        self,
        inner: Any,
        timeout: float,
        observe: Callable[[str, float, Exception | None], None] | None = None,
    ) -> None:
        self._inner = inner
        self._timeout = timeout
        self._observe = observe

    @property
    def inner(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            failure: Exception | None = None
            try:
                async with asyncio.timeout(self._timeout):
                    return await attribute(*args, **kwargs)
            except BackendError as error:
                failure = error
                raise
            except TimeoutError as error:
                logger.warning("backend %s timed out after %.1fs", name, self._timeout)
                failure = Unavailable(f"{name} timed out")
                raise failure from error
            except (OSError, aiohttp.ClientError) as error:
                logger.warning("backend %s failed: %r", name, error)
                failure = Unavailable(f"{name} failed")
                raise failure from error
            finally:
                if self._observe is not None:
                    self._observe(name, time.perf_counter() - started, failure)

        return guarded
