"""The callback codec (bot.ui.callbacks): the data old buttons carry keeps its exact bytes, and
what a client sends back is read strictly. The flows' behaviour with these buttons is tested
through updates in each flow's own tests."""

from __future__ import annotations

import re

import pytest

from bot.ui import callbacks
from bot.ui.callbacks import ID, PAGE, Buttons, CallbackDataError

INVOICES = Buttons("inv")


@pytest.mark.parametrize(
    ("packed", "expected"),
    [
        (INVOICES.pack("show", "123"), "inv:show:123"),
        (INVOICES.pack("page", 2), "inv:page:2"),
        (INVOICES.pack("periods"), "inv:periods"),
        (Buttons("contacts").pack("sms", "yes"), "contacts:sms:yes"),
        (callbacks.pack("menu", "home"), "menu:home"),
    ],
)
def test_packed_data_is_what_buttons_always_carried(packed: str, expected: str) -> None:
    assert packed == expected


def test_data_over_64_bytes_is_refused_before_telegram_sees_it() -> None:
    assert len(INVOICES.pack("show", "x" * 55).encode()) == 64
    with pytest.raises(CallbackDataError):
        INVOICES.pack("show", "x" * 56)
    with pytest.raises(CallbackDataError):  # bytes, not characters
        INVOICES.pack("show", "é" * 28)
    assert not INVOICES.fits("show", "x" * 56)


@pytest.mark.parametrize(
    ("data", "matches"),
    [
        ("inv:show:123", True),
        ("inv:show:a.b-c_d", True),
        ("inv:show:", False),
        ("inv:show:1 2", False),
        ("inv:showing:1", False),
        ("invx:show:1", False),
        ("inv:show:" + "1" * 51, False),
    ],
)
def test_pattern_with_an_argument(data: str, matches: bool) -> None:
    assert bool(re.match(INVOICES.pattern("show", ID), data)) is matches


def test_patterns_without_argument_or_open_ended() -> None:
    assert re.match(INVOICES.pattern("periods"), "inv:periods")
    assert not re.match(INVOICES.pattern("periods"), "inv:periods:1")
    assert re.match(INVOICES.pattern("page", "", whole=False), "inv:page:anything")
    assert re.match(INVOICES.pattern(), "inv:whatever")
    assert not re.match(INVOICES.pattern("page", PAGE), "inv:page:12345")


@pytest.mark.parametrize(
    ("data", "pages", "page"),
    [
        ("inv:page:3", None, 3),
        ("inv:page:3", 2, 1),  # clamped to the last real page
        ("inv:page:²", None, 0),  # "²".isdigit() is true, but it is no number
        ("inv:page:٣", None, 0),
        ("inv:page:-1", None, 0),
        ("inv:page:123456", None, 0),
        ("inv:show:3", None, 0),  # another action's argument is no page
    ],
)
def test_page_numbers_are_ascii_digits_brought_into_range(
    data: str, pages: int | None, page: int
) -> None:
    assert INVOICES.page(data, pages) == page


def test_argument_and_number() -> None:
    assert INVOICES.argument("inv:show:a:b", "show") == "a:b"
    assert INVOICES.argument("inv:pdf:1", "show") == ""
    assert Buttons("venc").number("venc:day:10", "day", max_digits=2) == 10
    assert Buttons("venc").number("venc:day:100", "day", max_digits=2) is None
    assert INVOICES.argument(None, "show") == ""
