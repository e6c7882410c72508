"""bot.ui.screens: what Telegram would refuse is never sent."""

from __future__ import annotations

import logging

import pytest

from bot.ui import keyboards
from bot.ui.screens import send_to_chat
from tests.support.bot_env import BotEnv
from tests.support.driver import ChatDriver, methods


@pytest.mark.parametrize("text", ["", "   \n", "<code></code>", "<b> </b>\n<i></i>"])
async def test_a_text_that_displays_nothing_is_not_sent_and_is_logged_once(
    env: BotEnv, chat: ChatDriver, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    await chat.send("/start")
    before = len(env.api.calls)
    with caplog.at_level(logging.DEBUG, logger="bot"):
        sent = await send_to_chat(env.app.bot, chat.user_id, text, keyboards.back_to_menu())
    assert sent is None
    assert env.api.calls[before:] == []  # Telegram: "Bad Request: message text is empty"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].name == "bot.ui.screens"
    assert "code" not in warnings[0].getMessage()


async def test_a_text_with_something_to_show_is_sent(env: BotEnv, chat: ChatDriver) -> None:
    await chat.send("/start")
    before = len(env.api.calls)
    sent = await send_to_chat(env.app.bot, chat.user_id, "<code>123</code>")
    assert sent is not None and methods(env.api.calls[before:]) == ["sendMessage"]
