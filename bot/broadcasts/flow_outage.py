"""The broadcast composer's extra step for area outages (issue 22): when the audience is by
place, the preview offers "Registrar como falha/manutenção na região"; the forecast is asked
(``OUTAGE``: "hoje 18h", "18:30", "amanhã 10h", "sem previsão") and, when the broadcast is
confirmed, one outage per chosen place is recorded (bot.outages.store) — ended later from
``/ocorrencias`` or the admin API. chat_data["broadcast"]["outage"] = {"forecast": ISO | None}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.broadcasts.flow_common import BUTTONS, FLOW, audience_data, cancel_row, draft_data
from bot.handlers.access import admin_step
from bot.outages import texts as t
from bot.outages.service import ForecastError, parse_forecast, store_of
from bot.services.context import BotContext
from bot.ui.formatting import plain_text
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send

OUTAGE = 100  # beside flow_common's states


def places(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(city, hood) for city, hood in audience_data(data).get("places") or []]


def forecast_of(data: dict[str, Any]) -> datetime | None:
    raw = (data.get("outage") or {}).get("forecast")
    return datetime.fromisoformat(raw) if raw else None


def preview_row(data: dict[str, Any]) -> list[InlineKeyboardButton]:
    """The preview's outage button: only for an audience by place."""
    if not places(data):
        return []
    if data.get("outage") is not None:
        return [button(t.BUTTON_UNRECORD, BUTTONS.pack("nooutage"))]
    return [button(t.BUTTON_RECORD, BUTTONS.pack("outage"))]


def preview_note(data: dict[str, Any]) -> str:
    if not places(data) or data.get("outage") is None:
        return ""
    return f"\n\n{t.will_record(forecast_of(data))}"


@admin_step(FLOW)
async def ask_forecast(update: Update, context: BotContext) -> int:
    await answer_query(update)
    await send(update, t.ASK_FORECAST, InlineKeyboardMarkup([cancel_row()]))
    return OUTAGE


async def receive_forecast(update: Update, context: BotContext, preview: Any) -> int:
    message = update.effective_message
    assert isinstance(message, Message) and message.text is not None
    try:
        when = parse_forecast(message.text, context.services.clock())
    except ForecastError:
        await send(update, t.BAD_FORECAST)
        return OUTAGE
    draft_data(context)["outage"] = {"forecast": when.isoformat() if when else None}
    return int(await preview(update, context))


async def record(context: BotContext, data: dict[str, Any], created_by: str) -> str | None:
    """After the broadcast is confirmed: one outage per place; the notice to show, if any."""
    chosen = places(data)
    if data.get("outage") is None or not chosen:
        return None
    store = store_of(context.application)
    description = plain_text(data["text"]).strip()[:1000] or "Falha na região"
    now = context.services.clock()
    for city, hood in chosen:
        await store.declare(
            city=city, neighbourhood=hood, description=description,
            forecast=forecast_of(data), created_by=created_by, now=now,
        )  # fmt: skip
    return t.recorded(len(chosen))
