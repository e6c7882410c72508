"""Extrato de Ligação (seed 1.5): the calls of a phone line, by terminal type and period.

States:
    CHOOSE_LINE   → the subscriber has several lines: one button per line (none: said politely)
    CHOOSE_TYPE   → a terminal type from the backend's list, or 📋 Todos
    CHOOSE_PERIOD → the period picker (a period may also be typed here)
    TYPE_PERIOD   → "Outro período": ``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``
    SHOW_PAGE     → a page of calls with the period's totals per type; ◀️ ▶️, other period/type

The choices live in ``chat_data["calls"]`` (JSON: ids, the line's number, the period); every page
asks the backend again. Once a line is chosen, every button of the flow works from any state.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import phonenumbers
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from backend_client.models import BackendSession, CallRecord, PhoneLine, TerminalType
from bot.conversations import common
from bot.conversations.common import flow, typed
from bot.conversations.period_step import PeriodStep, export_buttons, other_period, send_table
from bot.handlers.access import END, leave, step
from bot.services import exports
from bot.services.context import BotContext
from bot.ui import paging, periods
from bot.ui.callbacks import MENU, Buttons
from bot.ui.formatting import day_time, money, phone
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import show
from bot.ui.texts import calls as t

FLOW = "calls"
PREFIX = "calls"
BUTTONS = Buttons(PREFIX)
ALL = "all"  # the "Todos" terminal type
PAGE_SIZE = 10
CHOOSE_LINE, CHOOSE_TYPE, CHOOSE_PERIOD, TYPE_PERIOD, SHOW_PAGE = range(5)
Handler = BaseHandler  # type: ignore[type-arg]


# --- presentation helpers (pure) -----------------------------------------------------------------
def duration(seconds: int) -> str:
    """``mm:ss`` under an hour, else ``h:mm:ss``."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _parse_number(digits: str) -> phonenumbers.PhoneNumber | None:
    try:
        if digits.startswith("0"):  # 0800…, or a national number with its trunk prefix
            return phonenumbers.parse(digits, "BR")
        return phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return None


def masked_number(number: str) -> str:
    """A called number with its middle hidden: ``(11) 9****-4321``, ``+351 21 *** 3456``.

    The area code (and the first digit of a Brazilian number) and the last four digits stay
    visible, so the subscriber recognises the call without the statement exposing the number.
    """
    digits = re.sub(r"\D", "", number)
    parsed = _parse_number(digits) if digits else None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        brazilian = parsed.country_code == 55
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if brazilian
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        shown = phonenumbers.format_number(parsed, style)
        significant = phonenumbers.national_significant_number(parsed)
        prefix = len(re.sub(r"\D", "", shown)) - len(significant)
        head = prefix + phonenumbers.length_of_national_destination_code(parsed)
        head += 1 if brazilian else 0
    elif parsed is not None and parsed.country_code != 55:  # a foreign number not in the metadata
        country = str(parsed.country_code)
        shown = f"+{country} {phonenumbers.national_significant_number(parsed)}"
        head = len(country) + 2
    else:
        shown, head = digits, 2
    total = sum(char.isdigit() for char in shown)
    tail = 4 if total > 6 else 2
    head = max(0, min(head, total - tail - 2))
    result, seen = [], 0
    for char in shown:
        if char.isdigit():
            hidden = head <= seen < total - tail
            result.append("*" if hidden else char)
            seen += 1
        else:
            result.append(char)
    return "".join(result)


def _totals(
    records: Sequence[CallRecord], names: dict[str, str]
) -> tuple[list[t.TotalLine], t.TotalLine]:
    """Per terminal type (in the backend's order) and overall, over the whole period."""
    count: dict[str, int] = {}
    seconds: dict[str, int] = {}
    cost: dict[str, Decimal] = {}
    for record in records:
        kind = record.terminal_type_id
        count[kind] = count.get(kind, 0) + 1
        seconds[kind] = seconds.get(kind, 0) + record.duration_seconds
        cost[kind] = cost.get(kind, Decimal("0")) + record.cost
    order = [kind for kind in names if kind in count] + sorted(set(count) - set(names))
    per_type = [
        t.TotalLine(names.get(kind, kind), count[kind], duration(seconds[kind]), money(cost[kind]))
        for kind in order
    ]
    overall = t.TotalLine(
        t.TOTAL,
        len(records),
        duration(sum(seconds.values())),
        money(sum(cost.values(), Decimal("0"))),
    )
    return per_type, overall


# --- chosen values (chat_data["calls"], JSON only) -----------------------------------------------
def _chosen(context: BotContext) -> dict[str, Any]:
    return context.flow_data(FLOW)


def _clear(context: BotContext) -> None:
    if context.chat_data is not None:
        context.chat_data.pop(FLOW, None)


# --- screens -------------------------------------------------------------------------------------
async def _line_picker(update: Update, lines: list[PhoneLine], notice: str | None = None) -> int:
    rows = [
        [button(f"📞 {phone(line.number)}", BUTTONS.pack("line", line.id))]
        for line in lines
        if BUTTONS.fits("line", line.id)
    ]
    rows.append(menu_row())
    text = f"{notice}\n\n{t.CHOOSE_LINE}" if notice else t.CHOOSE_LINE
    await show(update, text, InlineKeyboardMarkup(rows))
    return CHOOSE_LINE


async def _type_picker(
    update: Update, context: BotContext, session: BackendSession, notice: str | None = None
) -> int:
    chosen = _chosen(context)
    types = await context.services.backend.list_terminal_types(session)
    buttons = [
        button(kind.name, BUTTONS.pack("type", kind.id))
        for kind in types
        if BUTTONS.fits("type", kind.id)
    ]
    buttons.append(button(t.BUTTON_ALL_TYPES, BUTTONS.pack("type", ALL)))
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(menu_row(BUTTONS.pack("lines") if chosen.get("several_lines") else None))
    text = t.choose_type(chosen["line_number"])
    await show(update, f"{notice}\n\n{text}" if notice else text, InlineKeyboardMarkup(rows))
    return CHOOSE_TYPE


def _period_keyboard() -> InlineKeyboardMarkup:
    return periods.keyboard(PREFIX, back=BUTTONS.pack("types"))


async def _period_picker(update: Update, context: BotContext, notice: str | None = None) -> int:
    chosen = _chosen(context)
    text = t.choose_period(chosen["line_number"], chosen["type_name"])
    await show(update, f"{notice}\n\n{text}" if notice else text, _period_keyboard())
    return CHOOSE_PERIOD


def _type_names(types: list[TerminalType]) -> dict[str, str]:
    return {kind.id: kind.name for kind in types}


async def _statement(
    update: Update, context: BotContext, session: BackendSession, page: int = 0
) -> int:
    chosen = _chosen(context)
    period = periods.from_json(chosen["period"])
    backend = context.services.backend
    type_id = None if chosen["type"] == ALL else chosen["type"]
    records = await backend.list_call_records(session, chosen["line"], period, type_id)
    # Newest first, as Extrato de Conexão (issue 21): backends list them in any order.
    records = sorted(records, key=lambda record: record.started_at, reverse=True)
    if not records:
        text = t.empty(chosen["line_number"], chosen["type_name"], periods.describe(period))
        await show(update, text, _period_keyboard())
        return CHOOSE_PERIOD
    names = _type_names(await backend.list_terminal_types(session))
    shown = paging.page(records, page, PREFIX, PAGE_SIZE)
    lines = [
        t.CallLine(
            when=day_time(record.started_at),
            number=masked_number(record.called_number),
            duration=duration(record.duration_seconds),
            cost=money(record.cost),
            type_name=names.get(record.terminal_type_id, record.terminal_type_id)
            if type_id is None
            else None,
        )
        for record in shown.items
    ]
    per_type, overall = _totals(records, names)
    text = t.statement(
        chosen["line_number"],
        chosen["type_name"],
        periods.describe(period),
        lines,
        shown.number,
        shown.count,
        per_type,
        overall,
    )
    rows = [
        *shown.nav,
        export_buttons(BUTTONS),
        [
            other_period(BUTTONS),
            button(t.BUTTON_OTHER_TYPE, BUTTONS.pack("types")),
        ],
    ]
    if chosen.get("several_lines"):
        rows.append([button(t.BUTTON_OTHER_LINE, BUTTONS.pack("lines"))])
    rows.append(menu_row())
    await show(update, text, InlineKeyboardMarkup(rows))
    return SHOW_PAGE


async def _resume(update: Update, context: BotContext, session: BackendSession) -> int:
    """The first choice still missing (e.g. a button of an old message after a restart)."""
    chosen = _chosen(context)
    if "line" not in chosen:
        return await start_over(update, context, session)
    if "type" not in chosen:
        return await _type_picker(update, context, session)
    if "period" not in chosen:
        return await _period_picker(update, context)
    return await _statement(update, context, session)


PERIOD = PeriodStep(
    FLOW,
    PREFIX,
    TYPE_PERIOD,
    ask=_period_picker,
    on_chosen=_statement,
    ask_again=functools.partial(_period_picker, notice=t.PERIOD_UNAVAILABLE),
    back=InlineKeyboardMarkup([menu_row(BUTTONS.pack("periods"))]),
    back_after_error=True,
    needs=("line", "type"),
    resume=_resume,
)


# --- steps ---------------------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    _clear(context)
    return await start_over(update, context, session)


async def start_over(update: Update, context: BotContext, session: BackendSession) -> int:
    lines = await context.services.backend.list_phone_lines(session)
    if not lines:
        _clear(context)
        leave(context)
        await show(update, t.NO_LINES, InlineKeyboardMarkup([menu_row()]))
        return END
    if len(lines) > 1:
        _chosen(context)["several_lines"] = True
        return await _line_picker(update, lines)
    return await _use_line(update, context, session, lines[0])


async def _use_line(
    update: Update, context: BotContext, session: BackendSession, line: PhoneLine
) -> int:
    chosen = _chosen(context)
    chosen.update(line=line.id, line_number=phone(line.number))
    for key in ("type", "type_name", "period"):
        chosen.pop(key, None)
    return await _type_picker(update, context, session)


@step(FLOW)
async def choose_line(update: Update, context: BotContext, session: BackendSession) -> int:
    line_id = BUTTONS.argument(update, "line")
    lines = await context.services.backend.list_phone_lines(session)
    line = next((found for found in lines if found.id == line_id), None)
    if line is None:
        if not lines:
            return await start_over(update, context, session)
        return await _line_picker(update, lines, t.LINE_UNAVAILABLE)
    return await _use_line(update, context, session, line)


@step(FLOW)
async def show_lines(update: Update, context: BotContext, session: BackendSession) -> int:
    return await start_over(update, context, session)


@step(FLOW)
async def show_types(update: Update, context: BotContext, session: BackendSession) -> int:
    if "line" not in _chosen(context):
        return await start_over(update, context, session)
    return await _type_picker(update, context, session)


@step(FLOW)
async def choose_type(update: Update, context: BotContext, session: BackendSession) -> int:
    chosen = _chosen(context)
    if "line" not in chosen:
        return await start_over(update, context, session)
    type_id = BUTTONS.argument(update, "type")
    if type_id == ALL:
        name = t.ALL_TYPES
    else:
        names = _type_names(await context.services.backend.list_terminal_types(session))
        if type_id not in names:
            return await _type_picker(update, context, session, t.TYPE_UNAVAILABLE)
        name = names[type_id]
    chosen.update(type=type_id, type_name=name)
    return await _period_picker(update, context)


@step(FLOW)
async def change_page(update: Update, context: BotContext, session: BackendSession) -> int:
    chosen = _chosen(context)
    if not {"line", "type", "period"} <= chosen.keys():
        return await _resume(update, context, session)
    page = BUTTONS.page(update)
    return await _statement(update, context, session, page)


@step(FLOW)
async def export(update: Update, context: BotContext, session: BackendSession) -> int:
    """The chosen period's calls as a PDF or a CSV (issue 21), newest first as on screen."""
    chosen = _chosen(context)
    if not {"line", "type", "period"} <= chosen.keys():
        return await _resume(update, context, session)
    kind = "csv" if BUTTONS.argument(update, "export") == "csv" else "pdf"
    period = periods.from_json(chosen["period"])
    backend = context.services.backend
    type_id = None if chosen["type"] == ALL else chosen["type"]
    records = await backend.list_call_records(session, chosen["line"], period, type_id)
    records = sorted(records, key=lambda record: record.started_at, reverse=True)
    names = _type_names(await backend.list_terminal_types(session))
    described = periods.describe(period)
    per_type, overall = _totals(records, names)
    table = exports.Table(
        title=t.EXPORT_TITLE,
        subtitle=t.export_subtitle(chosen["line_number"], chosen["type_name"], described),
        headers=t.EXPORT_HEADERS,
        rows=[
            (
                day_time(record.started_at),
                masked_number(record.called_number),
                names.get(record.terminal_type_id, record.terminal_type_id),
                duration(record.duration_seconds),
                exports.decimal_br(record.cost),
            )
            for record in records
        ],
        totals=[t.export_total(line) for line in [*per_type, overall]],
        widths=(3, 3, 2.2, 1.6, 1.6),
    )
    await send_table(
        update,
        table,
        kind,
        period=described,
        caption=t.export_caption(described),
        created_at=context.services.clock(),
    )
    return SHOW_PAGE


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    on = common.on_buttons(BUTTONS)

    # /menu, /start, /cancelar and the Menu button leave (and forget the choices): see flow().
    buttons: list[Handler] = [
        on("line", choose_line, "", whole=False),
        on("lines", show_lines),
        on("type", choose_type, "", whole=False),
        on("types", show_types),
        on("period", PERIOD.choose, "", whole=False),
        on("periods", PERIOD.pick),
        on("page", change_page, "", whole=False),
        on("export", export, "", whole=False),
        CallbackQueryHandler(common.stale_button, pattern=BUTTONS.pattern()),
        common.text_expected(FLOW, application),
    ]
    use_buttons = common.buttons_expected(FLOW, application)
    period_typed = typed(FLOW, application, PERIOD.typed)
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=MENU.pattern(FLOW))],
        states={
            CHOOSE_LINE: [*buttons, use_buttons],
            CHOOSE_TYPE: [*buttons, use_buttons],
            CHOOSE_PERIOD: [*buttons, period_typed],
            TYPE_PERIOD: [*buttons, period_typed],
            SHOW_PAGE: [*buttons, period_typed],
        },
        fallbacks=[common.logging_out(FLOW)],
    )
