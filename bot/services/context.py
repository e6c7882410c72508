"""The services a handler may use, reachable from any PTB callback context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext

from backend_client.protocol import SubscriberBackend
from bot.services.login_guard import LoginGuard
from bot.settings import Settings

SERVICES_KEY = "services"


@dataclass(slots=True)
class Services:
    settings: Settings
    backend: SubscriberBackend
    login_guard: LoginGuard
    clock: Callable[[], datetime]


def install(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    # bot_data is not persisted (see SqlPersistence), so live objects may live there.
    application.bot_data[SERVICES_KEY] = services


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    found: Services = context.application.bot_data[SERVICES_KEY]
    return found
