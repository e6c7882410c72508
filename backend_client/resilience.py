"""A wrapper that gives every backend operation a deadline and one failure vocabulary."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from backend_client.errors import BackendError, NotPermitted, NotSupported, Unavailable
from backend_client.features import CheckState, Feature, FeatureCheck, feature_of

logger = logging.getLogger(__name__)


class GuardedBackend:
    """Proxy to a backend: a slow call or a transport failure becomes :class:`Unavailable`.

    Typed backend errors pass through unchanged, so callers handle exactly the errors the
    protocol documents. A NotSupported (or NotPermitted) answer is remembered for its feature, so
    the bot can say an item is unavailable before asking the subscriber anything; what an
    installation refused is forgotten after ``relearn_seconds`` (an admin may grant it).
    What a ``check_features`` run found is fed in with :meth:`remember_checks`.
    """

    relearn_seconds = 15 * 60

    def __init__(
        self,
        inner: Any,
        timeout: float,
        observe: Callable[[str, float, Exception | None], None] | None = None,
    ) -> None:
        self._inner = inner
        self._timeout = timeout
        self._observe = observe
        self._refused: dict[Feature, float] = {}  # feature -> when it was refused (monotonic)
        self._absent: set[Feature] = set()  # what a check found this installation has no way to do

    def lacks(self, feature: Feature) -> bool:
        """True when the system cannot do ``feature`` (by design, found absent by a check, or
        refused recently)."""
        if feature in self._inner.unsupported_features() or feature in self._absent:
            return True
        refused_at = self._refused.get(feature)
        if refused_at is None:
            return False
        if time.monotonic() - refused_at > self.relearn_seconds:
            del self._refused[feature]
            return False
        return True

    def learn(self, operation: str, error: NotSupported) -> None:
        """Remember that the feature of ``error`` (or of the ``operation`` refused, when the
        error is a NotPermitted) is unavailable."""
        feature = feature_of(error.operation) or feature_of(operation)
        if feature is None:
            return
        if feature not in self._refused:
            if isinstance(error, NotPermitted):
                logger.warning(
                    "backend: %s is unavailable: the integration user may not read %s",
                    feature.value,
                    error.resource,
                )
            else:
                logger.info("backend: the system has no %s", feature.value)
        self._refused[feature] = time.monotonic()

    def remember_checks(self, checks: Iterable[FeatureCheck]) -> None:
        """Take what ``check_features`` found: a feature not supported by this installation is
        unavailable until a later check says otherwise; one not permitted is treated as a refusal
        (forgotten after ``relearn_seconds``, as an admin may grant it); one found ok clears
        both. An unreachable one says nothing either way."""
        now = time.monotonic()
        for check in checks:
            if check.state is CheckState.NOT_SUPPORTED:
                self._absent.add(check.feature)
            elif check.state is CheckState.NOT_PERMITTED:
                self._absent.discard(check.feature)
                self._refused[check.feature] = now
            elif check.state is CheckState.OK:
                self._absent.discard(check.feature)
                self._refused.pop(check.feature, None)

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
                if isinstance(error, NotSupported):
                    self.learn(name, error)
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
