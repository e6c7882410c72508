"""A wrapper that gives every backend operation a deadline and one failure vocabulary."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from typing import Any

import aiohttp

from backend_client.errors import BackendError, Unavailable

logger = logging.getLogger(__name__)


class GuardedBackend:
    """Proxy to a backend: a slow call or a transport failure becomes :class:`Unavailable`.

    Typed backend errors pass through unchanged, so callers handle exactly the errors the
    protocol documents.
    """

    def __init__(self, inner: Any, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    @property
    def inner(self) -> Any:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                async with asyncio.timeout(self._timeout):
                    return await attribute(*args, **kwargs)
            except BackendError:
                raise
            except TimeoutError as error:
                logger.warning("backend %s timed out after %.1fs", name, self._timeout)
                raise Unavailable(f"{name} timed out") from error
            except (OSError, aiohttp.ClientError) as error:
                logger.warning("backend %s failed: %r", name, error)
                raise Unavailable(f"{name} failed") from error

        return guarded
