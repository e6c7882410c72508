"""The services a handler may use, reachable from any PTB callback context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from backend_client.features import Feature
from backend_client.models import BackendSession
from backend_client.protocol import SubscriberBackend
from backend_client.provider import ProviderFeed
from bot.notifications.service import Notice, NotificationDetector, NotificationPlanner
from bot.notifications.store import NotificationStore
from bot.services import sessions
from bot.services.login_guard import LoginGuard
from bot.settings import Settings

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


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The bot's services where there is no callback context (building handlers, the web
    app, the runner)."""
    found: Services = application.bot_data[SERVICES_KEY]
    return found


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler, error handler and job of the bot gets:
    ``ContextTypes(context=BotContext)`` in bot.application "determines the type of the context
    argument of all (error-)handler callbacks and job callbacks"
    (https://docs.python-telegram-bot.org/en/stable/telegram.ext.contexttypes.html), as PTB's
    own example does (https://docs.python-telegram-bot.org/en/stable/examples.contexttypesbot.html)."""

    @property
    def services(self) -> Services:
        return services_of(self.application)

    @property
    def session(self) -> BackendSession | None:
        """The chat's subscriber login, or None (not logged in, or no chat)."""
        return sessions.current(self.chat_data) if self.chat_data is not None else None

    def flow_data(self, name: str) -> dict[str, Any]:
        """What flow ``name`` keeps in chat_data (``chat_data[name]``, JSON only), made when
        missing."""
        assert self.chat_data is not None
        data: dict[str, Any] = self.chat_data.setdefault(name, {})
        return data
