"""The services a handler may use, reachable from any PTB callback context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext

from backend_client.features import Feature
from backend_client.protocol import SubscriberBackend
from backend_client.provider import ProviderFeed
from bot.services.login_guard import LoginGuard
from bot.services.notifications import Notice, NotificationDetector, NotificationPlanner
from bot.settings import Settings
from bot.storage.notifications import NotificationStore

SERVICES_KEY = "services"


@dataclass(slots=True)
class Services:
    settings: Settings
    backend: SubscriberBackend
    login_guard: LoginGuard
    clock: Callable[[], datetime]
    notifications: NotificationStore
    planner: NotificationPlanner
    # None when the provider's system offers no feed: notifications are then only pushed.
    feed: ProviderFeed | None = None
    detector: NotificationDetector | None = None

    def lacks(self, feature: Feature) -> bool:
        """True when the provider's system cannot do ``feature``: by design, or (through the
        running bot's GuardedBackend) because it refused it recently."""
        lacks = getattr(self.backend, "lacks", None)
        if callable(lacks):
            return bool(lacks(feature))
        return feature in self.backend.unsupported_features()

    async def accept_pushed_notices(self, notices: list[Notice]) -> int:
        """Events pushed by the backend (bot.web) go where polled ones go."""
        return await self.planner.plan(notices, self.clock())


def install(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    # bot_data is not persisted (see SqlPersistence), so live objects may live there.
    application.bot_data[SERVICES_KEY] = services


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    found: Services = context.application.bot_data[SERVICES_KEY]
    return found
