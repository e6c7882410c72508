"""Paging long lists with ◀️ / ▶️ buttons (``<prefix>:page:<n>``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from telegram import InlineKeyboardButton

from bot.ui import callbacks
from bot.ui.keyboards import button

T = TypeVar("T")
PAGE_SIZE = 10


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // size))


def clamp(page: int, total: int, size: int = PAGE_SIZE) -> int:
    """Any page number (even a forged one) brought into range."""
    return min(max(page, 0), page_count(total, size) - 1)


def page_items(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> Sequence[T]:
    page = clamp(page, len(items), size)
    return items[page * size : (page + 1) * size]


def nav_row(
    prefix: str, page: int, total: int, size: int = PAGE_SIZE
) -> list[InlineKeyboardButton]:
    """◀️ 2/5 ▶️ (empty when everything fits on one page)."""
    pages = page_count(total, size)
    if pages == 1:
        return []
    row = []
    if page > 0:
        row.append(button("◀️", callbacks.pack(prefix, "page", page - 1)))
    row.append(button(f"{page + 1}/{pages}", callbacks.pack(prefix, "page", page)))
    if page < pages - 1:
        row.append(button("▶️", callbacks.pack(prefix, "page", page + 1)))
    return row


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Page ``number`` (0-based) of ``count``: its ``items`` and ``nav``, the ◀️ n/N ▶️ row as a
    list of keyboard rows (none when everything fits on one page)."""

    items: Sequence[T]
    number: int
    count: int
    nav: list[list[InlineKeyboardButton]]


def page(items: Sequence[T], number: int, prefix: str, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` of ``items``, any number (even a forged one) brought into range."""
    number = clamp(number, len(items), size)
    nav = nav_row(prefix, number, len(items), size)
    rows = [nav] if nav else []
    return Page(page_items(items, number, size), number, page_count(len(items), size), rows)
