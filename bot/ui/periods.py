"""The period picker every statement uses: buttons for common periods, or a typed period.

Buttons carry ``<prefix>:period:<key>``; ``resolve`` turns the key into dates, ``parse`` reads
what the user typed (``mm/aaaa`` or ``dd/mm/aaaa a dd/mm/aaaa``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from telegram import InlineKeyboardMarkup

from backend_client.models import DateRange
from bot.ui import texts
from bot.ui.callbacks import pack
from bot.ui.formatting import PT_BR, day
from bot.ui.keyboards import button, menu_row

CUSTOM = "custom"
KEYS = ("this_month", "last_month", "3m", "6m", "12m")
MAX_DAYS = 400
_MONTH = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{4})\s*$")
_RANGE = re.compile(
    r"^\s*(\d{1,2}/\d{1,2}/\d{4})\s*(?:a|até|ate|-|–)\s*(\d{1,2}/\d{1,2}/\d{4})\s*$",
    re.IGNORECASE,
)


class PeriodError(ValueError):
    """``str(error)`` is the pt-BR explanation to show."""


def keyboard(
    prefix: str, *, include_future: bool = False, back: str | None = None
) -> InlineKeyboardMarkup:
    """The period buttons, then ⬅️ Menu (after ⬅️ Voltar to callback data ``back``, if given)."""
    labels = texts.PERIOD_LABELS
    rows = [
        [button(labels["this_month"], pack(prefix, "period", "this_month"))],
        [button(labels["last_month"], pack(prefix, "period", "last_month"))],
        [
            button(labels["3m"], pack(prefix, "period", "3m")),
            button(labels["6m"], pack(prefix, "period", "6m")),
            button(labels["12m"], pack(prefix, "period", "12m")),
        ],
        [button(labels[CUSTOM], pack(prefix, "period", CUSTOM))],
        menu_row(back),
    ]
    return InlineKeyboardMarkup(rows)


def resolve(key: str, today: date) -> DateRange:
    """The range of a button key; ValueError for an unknown (forged) key."""
    first_of_month = today.replace(day=1)
    if key == "this_month":
        return DateRange(first_of_month, first_of_month + relativedelta(months=1, days=-1))
    if key == "last_month":
        start = first_of_month - relativedelta(months=1)
        return DateRange(start, first_of_month - timedelta(days=1))
    months = {"3m": 3, "6m": 6, "12m": 12}.get(key)
    if months is None:
        raise ValueError(f"unknown period key {key!r}")
    # The last N months including the current one, up to the end of this month.
    start = first_of_month - relativedelta(months=months - 1)
    return DateRange(start, first_of_month + relativedelta(months=1, days=-1))


def parse(text: str) -> DateRange:
    """A typed period, or PeriodError saying what is accepted."""
    month = _MONTH.match(text)
    if month:
        number, year = int(month.group(1)), int(month.group(2))
        if not 1 <= number <= 12 or not 2000 <= year <= 2100:
            raise PeriodError(texts.PERIOD_INVALID)
        start = date(year, number, 1)
        return DateRange(start, start + relativedelta(months=1, days=-1))
    pair = _RANGE.match(text)
    if not pair:
        raise PeriodError(texts.PERIOD_INVALID)
    try:
        start, end = (datetime.strptime(part, "%d/%m/%Y").date() for part in pair.groups())
    except ValueError as error:
        raise PeriodError(texts.PERIOD_INVALID) from error
    if end < start:
        raise PeriodError(texts.PERIOD_INVERTED)
    if (end - start).days > MAX_DAYS:
        raise PeriodError(texts.PERIOD_TOO_LONG)
    return DateRange(start, end)


def describe(period: DateRange) -> str:
    """``novembro de 2026`` for a whole month, else ``01/09/2026 a 30/11/2026``."""
    whole_month = period.start.day == 1 and period.end == period.start + relativedelta(
        months=1, days=-1
    )
    if whole_month:
        return format_date(period.start, "MMMM 'de' yyyy", locale=PT_BR)
    return f"{day(period.start)} a {day(period.end)}"


def to_json(period: DateRange) -> list[str]:
    """For chat_data (persisted as JSON)."""
    return [period.start.isoformat(), period.end.isoformat()]


def from_json(stored: list[str]) -> DateRange:
    return DateRange(date.fromisoformat(stored[0]), date.fromisoformat(stored[1]))
