"""Minha Conta (seed 1.2.1.1.1) and Detalhes do Plano (1.2.1.1.1.1)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from backend_client.models import BackendSession
from bot.handlers.access import requires_login
from bot.services.context import BotContext
from bot.ui import keyboards
from bot.ui.screens import show
from bot.ui.texts import account as t


@requires_login
async def show_account(update: Update, context: BotContext, session: BackendSession) -> None:
    subscriber = await context.services.backend.get_subscriber(session)
    await show(update, t.account_text(subscriber), keyboards.account())


@requires_login
async def show_plan_details(update: Update, context: BotContext, session: BackendSession) -> None:
    subscriber = await context.services.backend.get_subscriber(session)
    await show(update, t.plan_details_text(subscriber), keyboards.plan_details())


def handlers() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(show_account, pattern=r"^menu:account$"),
        CallbackQueryHandler(show_plan_details, pattern=r"^account:plans$"),
    ]
