"""Small stand-ins of a provider's system for ``backend check`` and the start-up check: they
answer the check (and ping) only; every subscriber operation is refused as unavailable."""

from __future__ import annotations

from typing import Any

from backend_client.errors import CredentialsRefused, Unavailable
from backend_client.features import Feature, FeatureCheck, all_ok

SECRET_TOKEN = "tok-3f9a1c77e2b84d10a5"  # what a test configures as BACKEND_TOKEN


class CheckOnlyBackend:
    """``check_features`` answers ``checks`` or raises ``error``; so does ``ping``."""

    def __init__(
        self, checks: list[FeatureCheck] | None = None, error: Exception | None = None
    ) -> None:
        self.checks = all_ok() if checks is None else checks
        self.error = error
        self.started = self.closed = False
        self.check_calls = 0

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def ping(self) -> None:
        if self.error is not None:
            raise self.error

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset()

    async def check_features(self) -> list[FeatureCheck]:
        self.check_calls += 1
        if self.error is not None:
            raise self.error
        return list(self.checks)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise Unavailable(f"{name}: this stand-in answers the check only")

        return unavailable


def refusing(settings: Any = None) -> CheckOnlyBackend:
    """A system that refuses the integration's credentials (for ``create_backend``)."""
    return CheckOnlyBackend(error=CredentialsRefused("401 on the integration's token"))


def unreachable(settings: Any = None) -> CheckOnlyBackend:
    return CheckOnlyBackend(error=Unavailable("sgp: GET /api/ura/pops/ failed (ClientError)"))
