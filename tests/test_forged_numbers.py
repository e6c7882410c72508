"""Forged buttons with Unicode digits (issue 17, defect 6): "²".isdigit() is true but int("²")
fails, so such data used to get the apology for a crash and a traceback in the log. Callback
data is parsed with bot.parsing.ascii_int (paging.page_number): a forged number is answered like
any stale or out-of-range button."""

from __future__ import annotations

import logging

import pytest

from bot.ui import texts
from tests.support.bot_env import PERSON, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

FORGED = ["²", "٣", "１"]


def _no_crash(calls: list, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[type-arg]
    assert texts.UNEXPECTED_ERROR not in shown(calls)
    assert methods(calls).count("answerCallbackQuery") == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_forged_ticket_page(chat: ChatDriver, caplog: pytest.LogCaptureFixture) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    for digit in FORGED:
        calls = await chat.press(f"tk:tab:open:page:{digit}")
        _no_crash(calls, caplog)


async def test_a_forged_connections_page(
    chat: ChatDriver, caplog: pytest.LogCaptureFixture
) -> None:
    await login(chat, PERSON)
    await chat.press("menu:connections")
    await chat.tap("12 meses")
    for digit in FORGED:
        calls = await chat.press(f"connections:page:{digit}")
        _no_crash(calls, caplog)


async def test_a_forged_contacts_page(chat: ChatDriver, caplog: pytest.LogCaptureFixture) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    for digit in FORGED:
        calls = await chat.press(f"contacts:page:{digit}")
        _no_crash(calls, caplog)


async def test_a_forged_due_day(chat: ChatDriver, caplog: pytest.LogCaptureFixture) -> None:
    await login(chat)
    calls = await chat.press("menu:due_day")
    if any(data.startswith("venc:contract:") for _, data in calls[-1].buttons):
        await chat.press(next(d for _, d in calls[-1].buttons if d.startswith("venc:contract:")))
    for digit in FORGED:
        calls = await chat.press(f"venc:day:{digit}")
        _no_crash(calls, caplog)
        assert "Esse dia não está disponível" in chat.screen()
