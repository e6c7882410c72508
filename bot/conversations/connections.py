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

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from backend_client.models import AccessLogin, BackendSession, ConnectionSession
from bot.conversations import common
from bot.conversations.common import flow, typed
from bot.conversations.period_step import PeriodStep, export_buttons, other_period, send_table
from bot.handlers.access import END, leave, step
from bot.services import exports
from bot.services.context import BotContext
from bot.ui import paging, periods
from bot.ui.callbacks import MENU, Buttons
from bot.ui.formatting import day_time
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import show
from bot.ui.texts import connections as t

FLOW = "connections"
PREFIX = "connections"
BUTTONS = Buttons(PREFIX)
PAGE_SIZE = 10
CHOOSE_LOGIN, CHOOSE_PERIOD, TYPE_PERIOD, SHOW_PAGE = range(4)
Handler = BaseHandler  # type: ignore[type-arg]

# Decimal units, as providers sell and count traffic (1 GB = 10⁹ bytes): unit, bytes, decimals.
_UNITS = (("KB", 10**3, 0), ("MB", 10**6, 1), ("GB", 10**9, 1), ("TB", 10**12, 2))


# --- presentation helpers (pure) -----------------------------------------------------------------
def data_size(size: int) -> str:
    """Bytes in decimal units with a pt-BR decimal comma: ``820,3 MB``, ``1,5 GB``, ``2,25 TB``
    (a value that would round to 1.000 goes to the next unit)."""
    if size < 1000:
        return f"{max(size, 0)} B"
    for unit, factor, decimals in _UNITS:
        value = round(size / factor, decimals)
        if value < 1000 or unit == _UNITS[-1][0]:
            break
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return f"{format_decimal(value, format=pattern, locale='pt_BR')} {unit}"


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


def _line(session: ConnectionSession, now: datetime) -> t.SessionLine:
    return t.SessionLine(
        start=day_time(session.started_at),
        end=day_time(session.ended_at) if session.ended_at else None,
        duration=span(_seconds(session, now)),
        ip=session.ip_address,
        download=data_size(session.download_bytes),
        upload=data_size(session.upload_bytes),
    )


def _totals(sessions: Sequence[ConnectionSession], now: datetime) -> t.Totals:
    seconds = download = upload = 0.0
    for session in sessions:
        seconds += _seconds(session, now)
        download += session.download_bytes
        upload += session.upload_bytes
    return t.Totals(
        sessions=len(sessions),
        duration=span(seconds),
        download=data_size(int(download)),
        upload=data_size(int(upload)),
    )


# --- chosen values (chat_data["connections"], JSON only) -----------------------------------------
def _chosen(context: BotContext) -> dict[str, Any]:
    return context.flow_data(FLOW)


def _clear(context: BotContext) -> None:
    if context.chat_data is not None:
        context.chat_data.pop(FLOW, None)


async def _logins(context: BotContext, session: BackendSession) -> list[AccessLogin]:
    subscriber = await context.services.backend.get_subscriber(session)
    return [login for contract in subscriber.contracts for login in contract.logins]


# --- screens -------------------------------------------------------------------------------------
async def _login_picker(
    update: Update, logins: list[AccessLogin], notice: str | None = None
) -> int:
    rows = [
        [
            button(
                t.login_button(login.login, login.online),
                BUTTONS.pack("login", login.id),
            )
        ]
        for login in logins
        if BUTTONS.fits("login", login.id)
    ]
    rows.append(menu_row())
    text = t.CHOOSE_LOGIN
    await show(update, f"{notice}\n\n{text}" if notice else text, InlineKeyboardMarkup(rows))
    return CHOOSE_LOGIN


def _period_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    several = _chosen(context).get("several_logins")
    return periods.keyboard(PREFIX, back=BUTTONS.pack("logins") if several else None)


async def _period_picker(update: Update, context: BotContext, notice: str | None = None) -> int:
    text = t.choose_period(_chosen(context)["login_name"])
    await show(update, f"{notice}\n\n{text}" if notice else text, _period_keyboard(context))
    return CHOOSE_PERIOD


async def _statement(
    update: Update, context: BotContext, session: BackendSession, page: int = 0
) -> int:
    chosen = _chosen(context)
    period = periods.from_json(chosen["period"])
    found = context.services
    sessions = await found.backend.list_connection_sessions(session, chosen["login"], period)
    if not sessions:
        text = t.empty(chosen["login_name"], periods.describe(period))
        await show(update, text, _period_keyboard(context))
        return CHOOSE_PERIOD
    now = found.clock()
    newest_first = sorted(sessions, key=lambda item: item.started_at, reverse=True)
    shown = paging.page(newest_first, page, PREFIX, PAGE_SIZE)
    text = t.statement(
        chosen["login_name"],
        periods.describe(period),
        [_line(item, now) for item in shown.items],
        shown.number,
        shown.count,
        _totals(sessions, now),
    )
    other = [other_period(BUTTONS)]
    if chosen.get("several_logins"):
        other.append(button(t.BUTTON_OTHER_LOGIN, BUTTONS.pack("logins")))
    rows = [*shown.nav, export_buttons(BUTTONS), other, menu_row()]
    await show(update, text, InlineKeyboardMarkup(rows))
    return SHOW_PAGE


async def _start_over(update: Update, context: BotContext, session: BackendSession) -> int:
    logins = await _logins(context, session)
    if not logins:
        _clear(context)
        leave(context)
        await show(update, t.NO_LOGINS, InlineKeyboardMarkup([menu_row()]))
        return END
    if len(logins) > 1:
        _chosen(context)["several_logins"] = True
        return await _login_picker(update, logins)
    return await _use_login(update, context, logins[0])


async def _use_login(update: Update, context: BotContext, login: AccessLogin) -> int:
    chosen = _chosen(context)
    chosen.update(login=login.id, login_name=login.login)
    chosen.pop("period", None)
    return await _period_picker(update, context)


PERIOD = PeriodStep(
    FLOW,
    PREFIX,
    TYPE_PERIOD,
    ask=_period_picker,
    on_chosen=_statement,
    ask_again=functools.partial(_period_picker, notice=t.PERIOD_UNAVAILABLE),
    back=InlineKeyboardMarkup([menu_row(BUTTONS.pack("periods"))]),
    back_after_error=True,
    needs=("login",),
    resume=_start_over,
)


# --- steps ---------------------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    _clear(context)
    return await _start_over(update, context, session)


@step(FLOW)
async def show_logins(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _start_over(update, context, session)


@step(FLOW)
async def choose_login(update: Update, context: BotContext, session: BackendSession) -> int:
    login_id = BUTTONS.argument(update, "login")
    logins = await _logins(context, session)
    login = next((found for found in logins if found.id == login_id), None)
    if login is None:
        if not logins:
            return await _start_over(update, context, session)
        return await _login_picker(update, logins, t.LOGIN_UNAVAILABLE)
    return await _use_login(update, context, login)


@step(FLOW)
async def change_page(update: Update, context: BotContext, session: BackendSession) -> int:
    chosen = _chosen(context)
    if "login" not in chosen:
        return await _start_over(update, context, session)
    if "period" not in chosen:
        return await _period_picker(update, context)
    page = BUTTONS.page(update)
    return await _statement(update, context, session, page)


def _export_row(item: ConnectionSession, now: datetime, for_csv: bool) -> tuple[str, ...]:
    end = day_time(item.ended_at) if item.ended_at else t.STILL_RUNNING
    if for_csv:
        minutes = str(int(_seconds(item, now)) // 60)
        download, upload = str(item.download_bytes), str(item.upload_bytes)
        return (day_time(item.started_at), end, minutes, item.ip_address, download, upload)
    line = _line(item, now)
    return (line.start, end, line.duration, line.ip, line.download, line.upload)


@step(FLOW)
async def export(update: Update, context: BotContext, session: BackendSession) -> int:
    """The chosen period's sessions as a PDF or a CSV (issue 21), newest first as on screen."""
    chosen = _chosen(context)
    if "login" not in chosen:
        return await _start_over(update, context, session)
    if "period" not in chosen:
        return await _period_picker(update, context)
    for_csv = BUTTONS.argument(update, "export") == "csv"
    period = periods.from_json(chosen["period"])
    found = context.services
    sessions = await found.backend.list_connection_sessions(session, chosen["login"], period)
    now = found.clock()
    newest_first = sorted(sessions, key=lambda item: item.started_at, reverse=True)
    described = periods.describe(period)
    totals = _totals(sessions, now)
    table = exports.Table(
        title=t.EXPORT_TITLE,
        subtitle=t.export_subtitle(chosen["login_name"], described),
        headers=t.EXPORT_HEADERS_CSV if for_csv else t.EXPORT_HEADERS_PDF,
        rows=[_export_row(item, now, for_csv) for item in newest_first],
        totals=[
            f"Conexões: {totals.sessions}",
            f"Tempo conectado: {totals.duration}",
            f"Download: {totals.download} · Upload: {totals.upload}",
        ],
        widths=(2.6, 2.6, 2, 2.6, 1.6, 1.6),
    )
    await send_table(
        update,
        table,
        "csv" if for_csv else "pdf",
        period=described,
        caption=t.export_caption(described),
        created_at=now,
    )
    return SHOW_PAGE


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = common.on_buttons(BUTTONS)

    # /menu, /start, /cancelar and the Menu button leave (and forget the choices): see flow().
    buttons: list[Handler] = [
        on("login", choose_login, "", whole=False),
        on("logins", show_logins),
        on("period", PERIOD.choose, "", whole=False),
        on("periods", PERIOD.pick),
        on("page", change_page, "", whole=False),
        on("export", export, "", whole=False),
        CallbackQueryHandler(common.stale_button, pattern=BUTTONS.pattern()),
        common.text_expected(FLOW, application),
    ]
    period_typed = typed(FLOW, application, PERIOD.typed)
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=MENU.pattern(FLOW))],
        states={
            CHOOSE_LOGIN: [*buttons, common.buttons_expected(FLOW, application)],
            CHOOSE_PERIOD: [*buttons, period_typed],
            TYPE_PERIOD: [*buttons, period_typed],
            SHOW_PAGE: [*buttons, period_typed],
        },
        fallbacks=[common.logging_out(FLOW)],
    )
