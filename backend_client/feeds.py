"""The :class:`~backend_client.provider.ProviderFeed` of a backend: what the bot asks the
provider's system on its own behalf (notifications, broadcast audiences)."""

from __future__ import annotations

from typing import Any

from backend_client.kit.pacing import DEFAULT_RATE as DEFAULT_FEED_RATE
from backend_client.provider import ProviderFeed


def create_feed(
    backend: Any, *, requests_per_second: float = DEFAULT_FEED_RATE
) -> ProviderFeed | None:
    """The feed for ``backend`` (a SubscriberBackend, unwrapped), or None when its system has
    none. Every request a real system's feed sends waits for its turn at
    ``requests_per_second`` (the sandbox is in-process and unpaced)."""
    from backend_client.sandbox import SandboxBackend
    from backend_client.sandbox.feed import SandboxFeed

    if isinstance(backend, SandboxBackend):
        return SandboxFeed(backend)
    from backend_client.http.backend import HttpBackend

    if isinstance(backend, HttpBackend):
        from backend_client.http.feed import HttpFeed

        return HttpFeed(backend, requests_per_second=requests_per_second)
    from backend_client.ixc.backend import IxcBackend

    if isinstance(backend, IxcBackend):
        from backend_client.ixc.feed import IxcFeed

        return IxcFeed(backend, requests_per_second=requests_per_second)
    from backend_client.sgp.backend import SgpBackend

    if isinstance(backend, SgpBackend):
        from backend_client.sgp.feed import SgpFeed

        return SgpFeed(backend, requests_per_second=requests_per_second)
    return None
