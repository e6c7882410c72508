"""Staff commands: who counts as staff, and ``/avisos`` (the broadcasts, their report, and
pause / resume / cancel while they run).

Staff are the Telegram users listed in ``ADMIN_TELEGRAM_IDS``; they need no subscriber login.
Anyone else gets a short refusal and nothing else happens — also for forged ``avisos:…``
buttons. Callback data: ``avisos:page:<n>``, ``avisos:show:<id>``, ``avisos:pause:<id>``,
``avisos:resume:<id>``, ``avisos:cancel:<id>`` (asks), ``avisos:cancelyes:<id>``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from backend_client.errors import BackendError
from bot.conversations.common import END, enter, leave
from bot.handlers.broadcast_jobs import service_of
from bot.handlers.guards import Context
from bot.logs import chat_ref
from bot.parsing import ascii_int
from bot.services import sessions
from bot.services.broadcasts import Report, StateError, displayed_text
from bot.services.context import services
from bot.ui import paging
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import broadcast as t

logger = logging.getLogger(__name__)
PREFIX = "avisos"
PAGE_SIZE = 8
Handler = Callable[[Update, Context], Awaitable[Any]]


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.admin_telegram_ids


async def refuse(update: Update) -> None:
    await answer_query(update, t.STAFF_ONLY)
    await send(update, t.STAFF_ONLY)


def admin_step(name: str) -> Callable[[Handler], Handler]:
    """A handler of staff flow ``name`` (the staff counterpart of ``common.step``): only for
    ``ADMIN_TELEGRAM_IDS``, makes ``name`` the active flow, remembers the state it returns."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(update: Update, context: Context) -> Any:
            data = context.chat_data
            if not is_admin(update, context):
                if data is not None and sessions.active_flow(data) == name:
                    leave(context)
                await refuse(update)
                return END
            enter(context, name)
            result = await handler(update, context)
            if result == END and data is not None and sessions.active_flow(data) == name:
                leave(context)
            return result

        return wrapper

    return decorate


def admin_only(handler: Handler) -> Handler:
    """A staff command or button outside any flow."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: Context) -> Any:
        if not is_admin(update, context):
            await refuse(update)
            return None
        return await handler(update, context)

    return wrapper


def _number(update: Update) -> int:
    """The numeric argument of the pressed button (untrusted: -1 when it is not a number)."""
    assert update.callback_query is not None
    raw = (update.callback_query.data or "").rsplit(":", 1)[-1]
    number = ascii_int(raw, max_digits=11)
    return -1 if number is None else number


async def plan_names(context: Context) -> dict[str, str]:
    try:
        options = await service_of(context.application).options()
    except BackendError:
        return {}
    return dict(options.plans) if options else {}


# --- the list -------------------------------------------------------------------------------
@admin_only
async def list_command(update: Update, context: Context) -> None:
    await _list(update, context, 0)


@admin_only
async def list_page(update: Update, context: Context) -> None:
    await _list(update, context, max(_number(update), 0))


async def _list(update: Update, context: Context, page: int) -> None:
    service = service_of(context.application)
    total = await service.store.count()
    if total == 0:
        await show(update, t.LIST_EMPTY)
        return
    page = paging.clamp(page, total, PAGE_SIZE)
    reports = await service.reports(PAGE_SIZE, page * PAGE_SIZE)
    lines = [t.list_title(total)]
    rows = []
    for report in reports:
        b = report.broadcast
        lines.append(
            t.list_line(b.id, b.status, report.processed, b.total, b.send_at, _shown(b.text))
        )
        rows.append([button(t.list_button(b.id, b.status), f"{PREFIX}:show:{b.id}")])
    nav = paging.nav_row(PREFIX, page, total, PAGE_SIZE)
    if nav:
        rows.append(nav)
    await show(update, "\n\n".join(lines), InlineKeyboardMarkup(rows))


def _shown(text: str) -> str:
    try:
        return displayed_text(text)
    except ValueError:
        return text


# --- one broadcast ------------------------------------------------------------------------
@admin_only
async def show_broadcast(update: Update, context: Context) -> None:
    await _show(update, context, _number(update))


async def _show(update: Update, context: Context, broadcast_id: int) -> None:
    report = await service_of(context.application).report(broadcast_id)
    if report is None:
        await answer_query(update, t.BROADCAST_NOT_FOUND)
        await _list(update, context, 0)
        return
    await show(update, await _report_text(context, update, report), _controls(report))


async def _report_text(context: Context, update: Update, report: Report) -> str:
    b = report.broadcast
    viewer = update.effective_user.id if update.effective_user else 0
    audience = t.describe_audience(b.audience, await plan_names(context))
    return t.report(report.to_json(), audience, _shown(b.text), t.author(b.created_by, viewer))


def _controls(report: Report) -> InlineKeyboardMarkup:
    b = report.broadcast
    rows = []
    if b.status == "running":
        rows.append([button(t.BUTTON_PAUSE, f"{PREFIX}:pause:{b.id}")])
    if b.status == "paused":
        rows.append([button(t.BUTTON_RESUME, f"{PREFIX}:resume:{b.id}")])
    if b.status in ("scheduled", "running", "paused"):
        rows.append([button(t.BUTTON_CANCEL_BROADCAST, f"{PREFIX}:cancel:{b.id}")])
    rows.append(
        [
            button(t.BUTTON_REFRESH, f"{PREFIX}:show:{b.id}"),
            button(t.BUTTON_LIST, f"{PREFIX}:page:0"),
        ]
    )
    return InlineKeyboardMarkup(rows)


@admin_only
async def ask_cancel(update: Update, context: Context) -> None:
    broadcast_id = _number(update)
    broadcast = await service_of(context.application).get(broadcast_id)
    if broadcast is None:
        await answer_query(update, t.BROADCAST_NOT_FOUND)
        await _list(update, context, 0)
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_YES_CANCEL, f"{PREFIX}:cancelyes:{broadcast_id}"),
                button(t.BUTTON_NO, f"{PREFIX}:show:{broadcast_id}"),
            ]
        ]
    )
    await show(update, t.cancel_question(broadcast_id), keyboard)


@admin_only
async def cancel(update: Update, context: Context) -> None:
    await _act(update, context, "cancel", t.CANCELLED_ANSWER)


@admin_only
async def pause(update: Update, context: Context) -> None:
    await _act(update, context, "pause", t.PAUSED)


@admin_only
async def resume(update: Update, context: Context) -> None:
    await _act(update, context, "resume", t.RESUMED)


async def _act(update: Update, context: Context, action: str, done: str) -> None:
    service = service_of(context.application)
    broadcast_id = _number(update)
    user = update.effective_user
    try:
        await getattr(service, action)(broadcast_id)
    except LookupError:
        await answer_query(update, t.BROADCAST_NOT_FOUND)
        await _list(update, context, 0)
        return
    except StateError:
        await answer_query(update, t.CANNOT[action])
    else:
        staff = chat_ref(user.id if user else None)
        logger.info("staff %s: %s broadcast %s", staff, action, broadcast_id)
        await answer_query(update, done)
    await _show(update, context, broadcast_id)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CommandHandler("avisos", list_command),
        CallbackQueryHandler(list_page, pattern=rf"^{PREFIX}:page:[0-9]{{1,6}}$"),
        CallbackQueryHandler(show_broadcast, pattern=rf"^{PREFIX}:show:[0-9]{{1,11}}$"),
        CallbackQueryHandler(pause, pattern=rf"^{PREFIX}:pause:[0-9]{{1,11}}$"),
        CallbackQueryHandler(resume, pattern=rf"^{PREFIX}:resume:[0-9]{{1,11}}$"),
        CallbackQueryHandler(ask_cancel, pattern=rf"^{PREFIX}:cancel:[0-9]{{1,11}}$"),
        CallbackQueryHandler(cancel, pattern=rf"^{PREFIX}:cancelyes:[0-9]{{1,11}}$"),
    ]
