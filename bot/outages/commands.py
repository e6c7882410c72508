"""``/ocorrencias`` (staff, ``ADMIN_TELEGRAM_IDS``): the active area outages declared in the bot,
each with an "Encerrar" button (``oc:end:<id>``, checked: any client can forge it)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.handlers.access import admin_only
from bot.outages import texts as t
from bot.outages.service import store_of
from bot.outages.watch import notify_ended
from bot.services.context import BotContext
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show

BUTTONS = Buttons("oc")


async def _listing(update: Update, context: BotContext, *, notice: str | None = None) -> None:
    outages = await store_of(context.application).active()
    text = t.listing(outages) if outages else t.NO_ACTIVE
    if notice:
        text = f"{notice}\n\n{text}"
    rows = [[button(t.end_button(o), BUTTONS.pack("end", o.id))] for o in outages]
    await show(update, text, InlineKeyboardMarkup(rows) if rows else None)


@admin_only
async def list_outages(update: Update, context: BotContext) -> None:
    await _listing(update, context)


@admin_only
async def end_outage(update: Update, context: BotContext) -> None:
    raw = BUTTONS.argument(update, "end")
    store = store_of(context.application)
    ended = await store.end(int(raw), context.services.clock()) if raw.isdigit() else None
    if ended is None:
        await answer_query(update)
        await send(update, t.NOT_ACTIVE)
        return
    await _listing(update, context, notice=t.ENDED)
    await notify_ended(context.application, ended)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("ocorrencias", list_outages),
        CallbackQueryHandler(end_outage, pattern=BUTTONS.pattern("end", r"[0-9]{1,9}")),
    ]
