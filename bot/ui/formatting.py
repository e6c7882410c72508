"""pt-BR presentation helpers: money, dates, phones, documents, HTML escaping, message splitting."""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal

import phonenumbers
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency

from backend_client.formats.documents import format_document
from backend_client.formats.phones import brazilian_number
from backend_client.timezone import SAO_PAULO, local_time
from bot import telegram_html

TIMEZONE = SAO_PAULO  # the one constant lives in backend_client.timezone
PT_BR = Locale.parse("pt_BR")  # parsed once: Babel would parse the name at every call
MESSAGE_LIMIT = telegram_html.TEXT_LIMIT  # Telegram's rules live in bot.telegram_html


def esc(value: object) -> str:
    """Escape anything for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def money(amount: Decimal) -> str:
    """``R$ 1.234,56``."""
    return format_currency(amount, "BRL", locale=PT_BR).replace("\xa0", " ")


def day(value: date) -> str:
    """``dd/mm/aaaa``."""
    return format_date(value, "dd/MM/yyyy", locale=PT_BR)


def day_time(instant: datetime) -> str:
    """``dd/mm/aaaa hh:mm`` in America/Sao_Paulo."""
    return local_time(instant).strftime("%d/%m/%Y %H:%M")


def clock(instant: datetime) -> str:
    """``hh:mm`` in America/Sao_Paulo."""
    return local_time(instant).strftime("%H:%M")


def phone(value: str) -> str:
    """``5519987654321`` → ``(19) 98765-4321``, a Brazilian number also without its country code
    (``19987654321``, ``0800 123 4567``); another country's with its code (``+1 202-555-0123``);
    what is no valid number is returned as given."""
    number = brazilian_number(value)
    if number is None:  # E.164 digits of another country, stored without "+"
        try:
            number = phonenumbers.parse(f"+{value.strip().lstrip('+')}")
        except phonenumbers.NumberParseException:
            return value
        if not phonenumbers.is_valid_number(number):
            return value
    if number.country_code != 55:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def document(value: str) -> str:
    return format_document(value)


def plain_text(html_text: str) -> str:
    """What Telegram displays for an HTML message (used to detect no-op edits and empty parts),
    by Telegram's own rules (``bot.telegram_html``: ``&nbsp;`` or a bare ``&`` stay literal).
    Markup Telegram would refuse is returned trimmed as it is: sending it gets Telegram's error."""
    try:
        return telegram_html.displayed(html_text)
    except telegram_html.HtmlError:
        return html_text.strip()


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at blank lines, then lines, so that each part fits Telegram's limit.

    Our texts never open a tag on one line and close it on another, so cutting at line
    boundaries keeps the HTML of every part well formed.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single enormous line: hard cut (plain text only)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [part for part in parts if part.strip()]
