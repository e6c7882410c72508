"""What the steps of ``/aviso`` (``bot.broadcasts.flow``) share: the states, the draft kept in
``chat_data["broadcast"]``, the button data ``bc:<action>[:<argument>…]`` and the screens more
than one step shows."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from backend_client.errors import BackendError
from backend_client.provider import AudienceOptions
from bot.broadcasts import texts as t
from bot.broadcasts.audience import Audience
from bot.broadcasts.jobs import service_of
from bot.conversations.common import forget
from bot.handlers.access import END
from bot.services.context import BotContext
from bot.ui import callbacks
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import BACKEND_UNAVAILABLE

logger = logging.getLogger(__name__)

FLOW = "broadcast"
PREFIX = "bc"
BUTTONS = Buttons(PREFIX)
TEXT, MEDIA, AUDIENCE, IDS, WHEN, TIME, CONFIRM = range(7)
SEGMENTS = ("places", "plans", "statuses", "contract_ids", "subscriber_ids")


# --- chat_data --------------------------------------------------------------------------------
def draft_data(context: BotContext) -> dict[str, Any]:
    return context.flow_data(FLOW)


def audience_data(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data.setdefault("audience", {})
    found.setdefault("all", False)
    for key in SEGMENTS:
        found.setdefault(key, [])
    return found


def audience_of(data: dict[str, Any]) -> Audience:
    raw = audience_data(data)
    return Audience(
        everyone=bool(raw["all"]),
        places=tuple((city, hood) for city, hood in raw["places"]),
        plans=tuple(raw["plans"]),
        statuses=tuple(raw["statuses"]),
        contract_ids=tuple(raw["contract_ids"]),
        subscriber_ids=tuple(raw["subscriber_ids"]),
    )


def send_at_of(data: dict[str, Any]) -> datetime | None:
    value = data.get("send_at")
    return datetime.fromisoformat(value) if value else None


def list_index(raw: str, size: int) -> int | None:
    """A list index from callback data (untrusted): None when it is not one."""
    found = callbacks.number(raw, max_digits=5)
    return found if found is not None and found < size else None


def argument(update: Update, action: str) -> str:
    """What follows ``bc:<action>:`` in the pressed button's data."""
    return BUTTONS.argument(update, action)


def finish(context: BotContext) -> int:
    forget(context, FLOW)
    return END


def cancel_row() -> list[InlineKeyboardButton]:
    return [button(t.BUTTON_CANCEL, BUTTONS.pack("cancel"))]


async def provider_options(update: Update, context: BotContext) -> AudienceOptions | bool | None:
    """The provider's places and plans; None when it has none; False when it is down (the
    admin was told, and may try again)."""
    try:
        return await service_of(context.application).options()
    except BackendError as error:
        logger.warning("audience options unavailable: %s", error)
        await answer_query(update)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([retry_row("aud")]))
        return False


def retry_row(action: str) -> list[InlineKeyboardButton]:
    return [button(t.BUTTON_REFRESH, BUTTONS.pack(action)), *cancel_row()]


async def when_screen(update: Update) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_NOW, BUTTONS.pack("now")),
                button(t.BUTTON_SCHEDULE, BUTTONS.pack("schedule")),
            ],
            [button(t.BUTTON_CHANGE_AUDIENCE, BUTTONS.pack("aud"))],
            cancel_row(),
        ]
    )
    await show(update, t.ASK_WHEN, keyboard)
    return WHEN


async def when_screen_new(update: Update) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_NOW, BUTTONS.pack("now")),
                button(t.BUTTON_SCHEDULE, BUTTONS.pack("schedule")),
            ],
            cancel_row(),
        ]
    )
    await send(update, t.ASK_WHEN, keyboard)
    return WHEN
