"""Extrato de Conexão (seed 1.6): the connection sessions (RADIUS accounting) of a login.

States:
    CHOOSE_LOGIN  → the subscriber has several access logins: one button each (none: said so)
    CHOOSE_PERIOD → the period picker (a period may also be typed here)
    TYPE_PERIOD   → "Outro período": ``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``
    SHOW_PAGE     → a page of sessions, newest first, with the whole period's totals; ◀️ ▶️

The choices live in ``chat_data["connections"]`` (JSON); every page asks the backend again and
formats only that page, while the totals are summed over the whole period in one pass, so months
of sessions stay fast and every page stays far below Telegram's 4096 characters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from backend_client.models import AccessLogin, BackendSession, ConnectionSession
from bot.conversations import common
from bot.conversations.common import END, flow, leave, step, typed
from bot.handlers import menu
from bot.handlers.guards import Context
from bot.services.context import services
from bot.ui import paging, periods, texts
from bot.ui.formatting import day_time, local_time
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import connections as connection_texts

logger = logging.getLogger(__name__)

FLOW = "connections"
PREFIX = "connections"
PAGE_SIZE = 10
CHOOSE_LOGIN, CHOOSE_PERIOD, TYPE_PERIOD, SHOW_PAGE = range(4)
Handler = BaseHandler  # type: ignore[type-arg]
NOT_TEXT = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL

_UNITS = (("TB", 1024**4, "#,##0.00"), ("GB", 1024**3, "#,##0.0"), ("MB", 1024**2, "#,##0.0"))


# --- presentation helpers (pure) -----------------------------------------------------------------
def data_size(size: int) -> str:
    """Bytes in human units with a pt-BR decimal comma: ``820,3 MB``, ``1.234,5 GB``."""
    for unit, factor, pattern in _UNITS:
        if size >= factor:
            return f"{format_decimal(size / factor, format=pattern, locale='pt_BR')} {unit}"
    if size >= 1024:
        return f"{format_decimal(size / 1024, format='#,##0', locale='pt_BR')} KB"
    return f"{max(size, 0)} B"


def span(seconds: float) -> str:
    """A connection time: ``45 min``, ``3 h 05 min``, ``2 d 3 h 05 min``."""
    minutes = int(max(seconds, 0)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes:02d} min"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if minutes else "menos de 1 min"


def _seconds(session: ConnectionSession, now: datetime) -> float:
    end = session.ended_at or now
    return max((end - session.started_at).total_seconds(), 0.0)


def _line(session: ConnectionSession, now: datetime) -> connection_texts.SessionLine:
    return connection_texts.SessionLine(
        start=day_time(session.started_at),
        end=day_time(session.ended_at) if session.ended_at else None,
        duration=span(_seconds(session, now)),
        ip=session.ip_address,
        download=data_size(session.download_bytes),
        upload=data_size(session.upload_bytes),
    )


def _totals(sessions: Sequence[ConnectionSession], now: datetime) -> connection_texts.Totals:
    seconds = download = upload = 0.0
    for session in sessions:
        seconds += _seconds(session, now)
        download += session.download_bytes
        upload += session.upload_bytes
    return connection_texts.Totals(
        sessions=len(sessions),
        duration=span(seconds),
        download=data_size(int(download)),
        upload=data_size(int(upload)),
    )


# --- chosen values (chat_data["connections"], JSON only) -----------------------------------------
def _chosen(context: Context) -> dict[str, Any]:
    assert context.chat_data is not None
    found: dict[str, Any] = context.chat_data.setdefault(FLOW, {})
    return found


def _clear(context: Context) -> None:
    if context.chat_data is not None:
        context.chat_data.pop(FLOW, None)


def _argument(update: Update, action: str) -> str:
    data = update.callback_query.data if update.callback_query else None
    return (data or "").removeprefix(f"{PREFIX}:{action}:")


async def _display(update: Update, text: str, keyboard: InlineKeyboardMarkup) -> None:
    if update.callback_query is not None:
        await show(update, text, keyboard)
    else:
        await send(update, text, keyboard)


def _fits(data: str) -> bool:
    """Whether a backend id makes callback data Telegram accepts (≤ 64 bytes)."""
    if len(data.encode()) <= 64:
        return True
    logger.warning("id too long for a button, left out: %r", data)
    return False


def _menu_row(back: str | None = None) -> list[InlineKeyboardButton]:
    row = [button(connection_texts.BUTTON_BACK, f"{PREFIX}:{back}")] if back else []
    row.append(button(texts.BUTTON_MENU, "menu:home"))
    return row


async def _logins(context: Context, session: BackendSession) -> list[AccessLogin]:
    subscriber = await services(context).backend.get_subscriber(session)
    return [login for contract in subscriber.contracts for login in contract.logins]


# --- screens -------------------------------------------------------------------------------------
async def _login_picker(
    update: Update, logins: list[AccessLogin], notice: str | None = None
) -> int:
    rows = [
        [
            button(
                connection_texts.login_button(login.login, login.online),
                f"{PREFIX}:login:{login.id}",
            )
        ]
        for login in logins
        if _fits(f"{PREFIX}:login:{login.id}")
    ]
    rows.append(_menu_row())
    text = connection_texts.CHOOSE_LOGIN
    await _display(update, f"{notice}\n\n{text}" if notice else text, InlineKeyboardMarkup(rows))
    return CHOOSE_LOGIN


def _period_keyboard(context: Context) -> InlineKeyboardMarkup:
    rows = [list(row) for row in periods.keyboard(PREFIX).inline_keyboard[:-1]]
    rows.append(_menu_row("logins" if _chosen(context).get("several_logins") else None))
    return InlineKeyboardMarkup(rows)


async def _period_picker(update: Update, context: Context, notice: str | None = None) -> int:
    text = connection_texts.choose_period(_chosen(context)["login_name"])
    await _display(update, f"{notice}\n\n{text}" if notice else text, _period_keyboard(context))
    return CHOOSE_PERIOD


async def _statement(
    update: Update, context: Context, session: BackendSession, page: int = 0
) -> int:
    chosen = _chosen(context)
    period = periods.from_json(chosen["period"])
    found = services(context)
    sessions = await found.backend.list_connection_sessions(session, chosen["login"], period)
    if not sessions:
        text = connection_texts.empty(chosen["login_name"], periods.describe(period))
        await _display(update, text, _period_keyboard(context))
        return CHOOSE_PERIOD
    now = found.clock()
    newest_first = sessions[::-1]
    page = paging.clamp(page, len(sessions), PAGE_SIZE)
    text = connection_texts.statement(
        chosen["login_name"],
        periods.describe(period),
        [_line(item, now) for item in paging.page_items(newest_first, page, PAGE_SIZE)],
        page,
        paging.page_count(len(sessions), PAGE_SIZE),
        _totals(sessions, now),
    )
    rows = []
    nav = paging.nav_row(PREFIX, page, len(sessions), PAGE_SIZE)
    if nav:
        rows.append(nav)
    other = [button(connection_texts.BUTTON_OTHER_PERIOD, f"{PREFIX}:periods")]
    if chosen.get("several_logins"):
        other.append(button(connection_texts.BUTTON_OTHER_LOGIN, f"{PREFIX}:logins"))
    rows += [other, _menu_row()]
    await _display(update, text, InlineKeyboardMarkup(rows))
    return SHOW_PAGE


async def _start_over(update: Update, context: Context, session: BackendSession) -> int:
    logins = await _logins(context, session)
    if not logins:
        _clear(context)
        leave(context)
        await _display(update, connection_texts.NO_LOGINS, InlineKeyboardMarkup([_menu_row()]))
        return END
    if len(logins) > 1:
        _chosen(context)["several_logins"] = True
        return await _login_picker(update, logins)
    return await _use_login(update, context, logins[0])


async def _use_login(update: Update, context: Context, login: AccessLogin) -> int:
    chosen = _chosen(context)
    chosen.update(login=login.id, login_name=login.login)
    chosen.pop("period", None)
    return await _period_picker(update, context)


# --- steps ---------------------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: Context, session: BackendSession) -> int:
    _clear(context)
    return await _start_over(update, context, session)


@step(FLOW)
async def show_logins(update: Update, context: Context, session: BackendSession) -> int:
    return await _start_over(update, context, session)


@step(FLOW)
async def choose_login(update: Update, context: Context, session: BackendSession) -> int:
    login_id = _argument(update, "login")
    logins = await _logins(context, session)
    login = next((found for found in logins if found.id == login_id), None)
    if login is None:
        if not logins:
            return await _start_over(update, context, session)
        return await _login_picker(update, logins, connection_texts.LOGIN_UNAVAILABLE)
    return await _use_login(update, context, login)


@step(FLOW)
async def show_periods(update: Update, context: Context, session: BackendSession) -> int:
    if "login" not in _chosen(context):
        return await _start_over(update, context, session)
    return await _period_picker(update, context)


@step(FLOW)
async def choose_period(update: Update, context: Context, session: BackendSession) -> int:
    chosen = _chosen(context)
    if "login" not in chosen:
        return await _start_over(update, context, session)
    key = _argument(update, "period")
    if key == periods.CUSTOM:
        await _display(update, texts.ASK_PERIOD, InlineKeyboardMarkup([_menu_row("periods")]))
        return TYPE_PERIOD
    today = local_time(services(context).clock()).date()
    try:
        period = periods.resolve(key, today)
    except ValueError:  # a forged key
        return await _period_picker(update, context, connection_texts.PERIOD_UNAVAILABLE)
    chosen["period"] = periods.to_json(period)
    return await _statement(update, context, session)


@step(FLOW)
async def receive_period(update: Update, context: Context, session: BackendSession) -> int:
    assert update.message is not None and update.message.text is not None
    chosen = _chosen(context)
    if "login" not in chosen:
        return await _start_over(update, context, session)
    try:
        period = periods.parse(update.message.text)
    except periods.PeriodError as error:
        await send(update, str(error), InlineKeyboardMarkup([_menu_row("periods")]))
        return TYPE_PERIOD
    chosen["period"] = periods.to_json(period)
    return await _statement(update, context, session)


@step(FLOW)
async def change_page(update: Update, context: Context, session: BackendSession) -> int:
    chosen = _chosen(context)
    if "login" not in chosen:
        return await _start_over(update, context, session)
    if "period" not in chosen:
        return await _period_picker(update, context)
    raw = _argument(update, "page")
    page = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    return await _statement(update, context, session, page)


@step(FLOW)
async def use_buttons(update: Update, context: Context, session: BackendSession) -> None:
    await send(update, connection_texts.USE_BUTTONS)


async def stale_button(update: Update, context: Context) -> None:
    await answer_query(update, texts.BUTTON_EXPIRED)


async def _leave_to_menu(update: Update, context: Context) -> int:
    _clear(context)
    return await common.back_to_menu(update, context)


async def _leave_cancelling(update: Update, context: Context) -> int:
    _clear(context)
    return await common.cancel(update, context)


async def _leave_logging_out(update: Update, context: Context) -> int:
    _clear(context)
    leave(context)
    await menu.logout(update, context)
    return END


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    def pressed(callback: Any, pattern: str) -> Handler:
        return CallbackQueryHandler(callback, pattern=rf"^{PREFIX}:{pattern}")

    buttons: list[Handler] = [
        CommandHandler(["menu", "start"], _leave_to_menu),
        CommandHandler("cancelar", _leave_cancelling),
        CommandHandler("sair", _leave_logging_out),
        CallbackQueryHandler(_leave_to_menu, pattern=r"^menu:home$"),
        pressed(choose_login, "login:"),
        pressed(show_logins, "logins$"),
        pressed(choose_period, "period:"),
        pressed(show_periods, "periods$"),
        pressed(change_page, "page:"),
        CallbackQueryHandler(stale_button, pattern=rf"^{PREFIX}:"),
        typed(FLOW, application, common.unexpected_input, NOT_TEXT),
    ]
    period_typed = typed(FLOW, application, receive_period)
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=rf"^menu:{FLOW}$")],
        states={
            CHOOSE_LOGIN: [*buttons, typed(FLOW, application, use_buttons)],
            CHOOSE_PERIOD: [*buttons, period_typed],
            TYPE_PERIOD: [*buttons, period_typed],
            SHOW_PAGE: [*buttons, period_typed],
        },
    )
