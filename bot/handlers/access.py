"""Who may run a handler, and which flow it belongs to: the access guards in one place.

- ``step(name)``: a handler of subscriber flow ``name`` (needs a login, makes ``name`` the active
  flow, leaves it when the handler returns ``END``);
- ``requires_login``: a subscriber handler outside any flow;
- ``admin_step(name)`` / ``admin_only``: their staff counterparts (``ADMIN_TELEGRAM_IDS``, no
  subscriber login needed), with ``is_admin``;
- ``enter`` / ``leave`` / ``END``: the active flow by hand.

Flows (bot.conversations) use these; this module never imports a flow.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ConversationHandler

from backend_client.models import BackendSession
from bot.services import sessions
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.screens import answer_query, send

END = ConversationHandler.END
R = TypeVar("R")
Handler = Callable[[Update, BotContext], Awaitable[Any]]
StepHandler = Callable[[Update, BotContext, BackendSession], Awaitable[Any]]


def enter(context: BotContext, name: str) -> None:
    if context.chat_data is not None:
        sessions.enter_flow(context.chat_data, name)


def leave(context: BotContext) -> None:
    if context.chat_data is not None:
        sessions.leave_flow(context.chat_data)


def _leave_if_active(context: BotContext, name: str) -> None:
    data = context.chat_data
    if data is not None and sessions.active_flow(data) == name:
        leave(context)


async def ask_to_log_in(update: Update) -> None:
    await answer_query(update)
    await send(update, texts.NEED_LOGIN, keyboards.login())


def step(name: str) -> Callable[[StepHandler], Handler]:
    """A handler of flow ``name``: needs a logged-in chat and makes ``name`` the active flow."""

    def decorate(handler: StepHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: BotContext) -> Any:
            session = context.session
            if session is None:
                leave(context)
                await ask_to_log_in(update)
                return END
            enter(context, name)
            result = await handler(update, context, session)
            if result == END:
                _leave_if_active(context, name)
            return result

        return wrapper

    return decorate


def requires_login(
    handler: Callable[[Update, BotContext, BackendSession], Awaitable[R]],
) -> Callable[[Update, BotContext], Awaitable[R | int]]:
    """Run ``handler`` with the chat's backend session, or ask to log in (ending any flow)."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> R | int:
        session = context.session
        if session is None:
            await ask_to_log_in(update)
            return END
        return await handler(update, context, session)

    return wrapper


def is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_telegram_ids


async def refuse(update: Update) -> None:
    """What anyone but staff gets for a staff command or button (also a forged one)."""
    await answer_query(update, texts.STAFF_ONLY)
    await send(update, texts.STAFF_ONLY)


def admin_step(name: str) -> Callable[[Handler], Handler]:
    """A handler of staff flow ``name`` (the staff counterpart of ``step``): only for
    ``ADMIN_TELEGRAM_IDS``, makes ``name`` the active flow, remembers the state it returns."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: BotContext) -> Any:
            if not is_admin(update, context):
                _leave_if_active(context, name)
                await refuse(update)
                return END
            enter(context, name)
            result = await handler(update, context)
            if result == END:
                _leave_if_active(context, name)
            return result

        return wrapper

    return decorate


def admin_only(handler: Handler) -> Handler:
    """A staff command or button outside any flow."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> Any:
        if not is_admin(update, context):
            await refuse(update)
            return None
        return await handler(update, context)

    return wrapper
