"""The :class:`~backend_client.provider.ProviderFeed` of a backend: what the bot asks the
provider's system on its own behalf (notifications, broadcast audiences)."""

from __future__ import annotations

from typing import Any

from backend_client.provider import ProviderFeed

DEFAULT_FEED_RATE = 2.0  # requests per second a feed sends to the provider's system


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
    return None
