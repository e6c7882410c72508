"""Minha Conta (seed 1.2.1.1.1) and Detalhes do Plano (1.2.1.1.1.1)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from backend_client.models import BackendSession
from bot.handlers.guards import Context, requires_login
from bot.services.context import services
from bot.ui import keyboards
from bot.ui.screens import show
from bot.ui.texts.account import account_text, plan_details_text


@requires_login
async def show_account(update: Update, context: Context, session: BackendSession) -> None:
    subscriber = await services(context).backend.get_subscriber(session)
    await show(update, account_text(subscriber), keyboards.account())


@requires_login
async def show_plan_details(update: Update, context: Context, session: BackendSession) -> None:
    subscriber = await services(context).backend.get_subscriber(session)
    await show(update, plan_details_text(subscriber), keyboards.plan_details())


def handlers() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(show_account, pattern=r"^menu:account$"),
        CallbackQueryHandler(show_plan_details, pattern=r"^account:plans$"),
    ]
