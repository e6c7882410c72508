"""Staff commands: ``/avisos`` (the broadcasts, their report, and pause / resume / cancel while
they run).

Staff are the Telegram users listed in ``ADMIN_TELEGRAM_IDS`` (``bot.handlers.access``); they
need no subscriber login. Anyone else gets a short refusal and nothing else happens — also for
forged ``avisos:…`` buttons. Callback data: ``avisos:page:<n>``, ``avisos:show:<id>``,
``avisos:pause:<id>``, ``avisos:resume:<id>``, ``avisos:cancel:<id>`` (asks),
``avisos:cancelyes:<id>``.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.broadcasts import texts as t
from bot.broadcasts.content import displayed_text
from bot.broadcasts.jobs import service_of
from bot.broadcasts.report import Report
from bot.broadcasts.service import StateError
from bot.handlers.access import admin_only
from bot.logs import chat_ref
from bot.services.context import BotContext
from bot.ui import paging
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, show

logger = logging.getLogger(__name__)
PREFIX = "avisos"
BUTTONS = Buttons(PREFIX)
PAGE_SIZE = 8
BROADCAST_ID = r"[0-9]{1,11}"


def _number(update: Update, action: str) -> int:
    """The broadcast number of the pressed button (untrusted: -1 when it is not a number)."""
    number = BUTTONS.number(update, action, max_digits=11)
    return -1 if number is None else number


async def plan_names(context: BotContext) -> dict[str, str]:
    return await service_of(context.application).plan_names()


# --- the list -------------------------------------------------------------------------------
@admin_only
async def list_command(update: Update, context: BotContext) -> None:
    await _list(update, context, 0)


@admin_only
async def list_page(update: Update, context: BotContext) -> None:
    await _list(update, context, max(_number(update, "page"), 0))


async def _list(update: Update, context: BotContext, page: int) -> None:
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
        rows.append([button(t.list_button(b.id, b.status), BUTTONS.pack("show", b.id))])
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
async def show_broadcast(update: Update, context: BotContext) -> None:
    await _show(update, context, _number(update, "show"))


async def _show(update: Update, context: BotContext, broadcast_id: int) -> None:
    report = await service_of(context.application).report(broadcast_id)
    if report is None:
        await answer_query(update, t.BROADCAST_NOT_FOUND)
        await _list(update, context, 0)
        return
    await show(update, await _report_text(context, update, report), _controls(report))


async def _report_text(context: BotContext, update: Update, report: Report) -> str:
    b = report.broadcast
    viewer = update.effective_user.id if update.effective_user else 0
    audience = t.describe_audience(b.audience, await plan_names(context))
    return t.report(report.to_json(), audience, _shown(b.text), t.author(b.created_by, viewer))


def _controls(report: Report) -> InlineKeyboardMarkup:
    b = report.broadcast
    rows = []
    if b.status == "running":
        rows.append([button(t.BUTTON_PAUSE, BUTTONS.pack("pause", b.id))])
    if b.status == "paused":
        rows.append([button(t.BUTTON_RESUME, BUTTONS.pack("resume", b.id))])
    if b.status in ("scheduled", "running", "paused"):
        rows.append([button(t.BUTTON_CANCEL_BROADCAST, BUTTONS.pack("cancel", b.id))])
    rows.append(
        [
            button(t.BUTTON_REFRESH, BUTTONS.pack("show", b.id)),
            button(t.BUTTON_LIST, BUTTONS.pack("page", 0)),
        ]
    )
    return InlineKeyboardMarkup(rows)


@admin_only
async def ask_cancel(update: Update, context: BotContext) -> None:
    broadcast_id = _number(update, "cancel")
    broadcast = await service_of(context.application).get(broadcast_id)
    if broadcast is None:
        await answer_query(update, t.BROADCAST_NOT_FOUND)
        await _list(update, context, 0)
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_YES_CANCEL, BUTTONS.pack("cancelyes", broadcast_id)),
                button(t.BUTTON_NO, BUTTONS.pack("show", broadcast_id)),
            ]
        ]
    )
    await show(update, t.cancel_question(broadcast_id), keyboard)


@admin_only
async def cancel(update: Update, context: BotContext) -> None:
    await _act(update, context, "cancel", t.CANCELLED_ANSWER, "cancelyes")


@admin_only
async def pause(update: Update, context: BotContext) -> None:
    await _act(update, context, "pause", t.PAUSED)


@admin_only
async def resume(update: Update, context: BotContext) -> None:
    await _act(update, context, "resume", t.RESUMED)


async def _act(
    update: Update, context: BotContext, action: str, done: str, button_action: str = ""
) -> None:
    service = service_of(context.application)
    broadcast_id = _number(update, button_action or action)
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
        CallbackQueryHandler(list_page, pattern=BUTTONS.pattern("page", r"[0-9]{1,6}")),
        CallbackQueryHandler(show_broadcast, pattern=BUTTONS.pattern("show", BROADCAST_ID)),
        CallbackQueryHandler(pause, pattern=BUTTONS.pattern("pause", BROADCAST_ID)),
        CallbackQueryHandler(resume, pattern=BUTTONS.pattern("resume", BROADCAST_ID)),
        CallbackQueryHandler(ask_cancel, pattern=BUTTONS.pattern("cancel", BROADCAST_ID)),
        CallbackQueryHandler(cancel, pattern=BUTTONS.pattern("cancelyes", BROADCAST_ID)),
    ]
