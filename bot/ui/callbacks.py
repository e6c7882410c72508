"""Button data, built and read one way: ``<prefix>:<action>[:<argument>]``.

In the spirit of aiogram's ``CallbackData`` (a prefix, fields joined by ``:``, ``pack`` and
``unpack``, a length check: https://docs.aiogram.dev/en/dev-3.x/dispatcher/filters/callback_data.html),
without its field types: a flow declares ``BUTTONS = Buttons("inv")`` and builds
``BUTTONS.pack("show", invoice.id)``, matches ``BUTTONS.pattern("show", ARGUMENT)`` and reads
``BUTTONS.argument(update, "show")``.

What comes back in a callback query is untrusted: any client can send any data, so numbers are
read with ``bot.parsing.ascii_int`` (ASCII digits only) and a page number is brought into range.
Telegram takes 1–64 bytes of ``callback_data`` ("Data to be sent in a callback query to the bot
when the button is pressed, 1-64 bytes": https://core.telegram.org/bots/api#inlinekeyboardbutton);
``pack`` refuses more rather than let Telegram refuse the whole message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Update

from bot.parsing import ascii_int

logger = logging.getLogger(__name__)
MAX_BYTES = 64
SEPARATOR = ":"
PAGE_DIGITS = 5  # no list of ours has 100,000 pages: a longer "number" is forged

# Argument patterns (regex) for ``Buttons.pattern``.
ID = r"[\w.-]{1,50}"  # a backend's id: letters, digits, "_", "." and "-"
PAGE = r"[0-9]{1,4}"
KEY = r"\w{1,20}"


class CallbackDataError(ValueError):
    """Button data Telegram would refuse (empty, or over 64 bytes in UTF-8)."""


def join(*parts: object) -> str:
    """``parts`` joined by ``:``, unchecked (see ``pack`` and ``fits``)."""
    return SEPARATOR.join(str(part) for part in parts)


def pack(*parts: object) -> str:
    """``parts`` joined by ``:``, checked against Telegram's 1–64 bytes."""
    data = join(*parts)
    size = len(data.encode("utf-8"))
    if not 1 <= size <= MAX_BYTES:
        raise CallbackDataError(f"callback data of {size} bytes (Telegram takes 1-{MAX_BYTES})")
    return data


def fits(data: str) -> bool:
    """Whether callback data made from a backend id fits a button (else logged, to leave out)."""
    if len(data.encode("utf-8")) <= MAX_BYTES:
        return True
    logger.warning("id too long for a button, left out: %r", data)
    return False


def data_of(update: Update | str | None) -> str:
    """The pressed button's data ('' without a callback query)."""
    if isinstance(update, str) or update is None:
        return update or ""
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def number(text: str | None, *, max_digits: int = PAGE_DIGITS) -> int | None:
    """``text`` as a whole number when it is ASCII digits ("²" and "٣" are not), else None."""
    return ascii_int(text, max_digits=max_digits)


def page_number(text: str | None, pages: int | None = None) -> int:
    """A page number from button data: 0 when it is not one; within ``[0, pages)`` when the
    number of pages is given (a forged or outdated page shows the nearest real one)."""
    page = number((text or "").strip(), max_digits=PAGE_DIGITS) or 0
    return min(page, pages - 1) if pages is not None and pages > 0 else page


@dataclass(frozen=True, slots=True)
class Buttons:
    """The buttons of one flow: data ``<prefix>:<action>[:<argument>]``."""

    prefix: str

    def pack(self, action: str, *arguments: object) -> str:
        return pack(self.prefix, action, *arguments)

    def fits(self, action: str, *arguments: object) -> bool:
        """Whether the button fits Telegram's limit (an id from the backend may be too long:
        logged, and the caller leaves the button out)."""
        return fits(join(self.prefix, action, *arguments))

    def pattern(self, action: str = "", argument: str | None = None, *, whole: bool = True) -> str:
        """The regex a ``CallbackQueryHandler`` takes for ``action``: with ``argument`` (a regex)
        after a ``:``; ``whole=False`` matches any data that begins so; no action: any button
        of the flow."""
        head = f"^{re.escape(self.prefix)}{SEPARATOR}"
        if not action:
            return head
        body = head + re.escape(action)
        if argument is not None:
            body += SEPARATOR + argument
        return body + "$" if whole else body

    def argument(self, update: Update | str | None, action: str) -> str:
        """What follows ``<prefix>:<action>:`` in the pressed button's data ('' when absent)."""
        data = data_of(update)
        head = f"{self.prefix}{SEPARATOR}{action}{SEPARATOR}"
        return data[len(head) :] if data.startswith(head) else ""

    def number(
        self, update: Update | str | None, action: str, *, max_digits: int = PAGE_DIGITS
    ) -> int | None:
        """The argument of ``action`` as a whole number (ASCII digits only), else None."""
        return number(self.argument(update, action), max_digits=max_digits)

    def page(self, update: Update | str | None, pages: int | None = None) -> int:
        """The page of a ``<prefix>:page:<n>`` button (see ``page_number``)."""
        return page_number(self.argument(update, "page"), pages)


# The main menu's items: ``menu:<item>`` (``menu:home`` shows the menu itself).
MENU = Buttons("menu")
