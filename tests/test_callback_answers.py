"""Every button press is answered exactly once (issue 17, defect 8).

Telegram accepts one answerCallbackQuery per query: a second one is refused with 400 "query is too
old and response timeout expired or query ID is invalid" (the fake Bot API refuses it the same
way). This drives every button the bot registers — the callback_data pattern of every
CallbackQueryHandler, found by walking the application's handlers — logged in, logged out, and
with data nobody handles, and counts the answers each press got.
"""

from __future__ import annotations

import re
from dataclasses import replace
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot.services import sessions
from bot.settings import Settings
from tests.support.bot_env import PERSON, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.fake_telegram import Call

STAFF = 900001


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, admin_telegram_ids=(STAFF,))


UNKNOWN_DATA = ["zzz:unknown", "menu:nothing_here", "inv:show:\u00b2", "x" * 64]


def _example(items: Any) -> str:
    """A short string matching a parsed regex (``re._parser``): enough for our patterns."""
    out: list[str] = []
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(value))
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_in_example(value))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = value
            out.append(_example(sub) * low)
        elif name == "SUBPATTERN":
            out.append(_example(value[-1]))
        elif name == "BRANCH":
            out.append(_example(value[1][0]))
        elif name == "AT":
            continue
        else:  # pragma: no cover - a pattern this helper does not know yet
            raise AssertionError(f"no example for {name} in a callback pattern")
    return "".join(out)


def _in_example(members: Any) -> str:
    op, value = members[0]
    name = str(op)
    if name == "LITERAL":
        return chr(value)
    if name == "RANGE":
        return chr(value[0])
    if name == "CATEGORY":
        return "1" if "DIGIT" in str(value) else "a"
    raise AssertionError(f"no example for {name} in a character set")  # pragma: no cover


def button_examples(application: Any) -> list[str]:
    """A representative callback_data for every pattern of every CallbackQueryHandler."""
    patterns: set[str] = set()

    def walk(handlers: list[BaseHandler[Any, Any, Any]]) -> None:
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                walk(handler.entry_points)
                for state_handlers in handler.states.values():
                    walk(state_handlers)
                walk(handler.fallbacks)
            elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
                pattern = handler.pattern
                assert isinstance(pattern, re.Pattern), pattern  # all our buttons use regexes
                patterns.add(pattern.pattern)

    for group in application.handlers.values():
        walk(group)
    examples = []
    for pattern in sorted(patterns):
        data = _example(sre_parse.parse(pattern))
        assert re.match(pattern, data), (pattern, data)
        examples.append(data)
    return examples


def _answers(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.method == "answerCallbackQuery"]


async def _press_all(chat: ChatDriver, datas: list[str], logged_in: bool) -> list[str]:
    """Press each; return a line per press not answered exactly once (or refused by Telegram)."""
    problems = []
    for data in datas:
        if logged_in and sessions.current(chat.application.chat_data.get(chat.user_id, {})) is None:
            await login(chat)
        calls = await chat.press(data)
        answers = _answers(calls)
        if len(answers) != 1:
            problems.append(f"{data!r} ({'in' if logged_in else 'out'}): {len(answers)} answers")
    return problems


async def _press_shown_buttons(chat: ChatDriver) -> list[str]:
    """Logged in: open each menu item, then press each button its screen shows (one level)."""
    problems = []
    await chat.send("/menu")
    items = [data for _, data in chat.api.calls[-1].buttons if data != "menu:logout"]
    assert len(items) >= 10, items
    for item in items:
        await chat.send("/menu")
        opened = await chat.press(item)
        shown = [data for call in opened for _, data in call.buttons]
        for data in dict.fromkeys(shown):
            if sessions.current(chat.application.chat_data.get(chat.user_id, {})) is None:
                await login(chat)
            await chat.send("/menu")
            await chat.press(item)
            answers = _answers(await chat.press(data))
            if len(answers) != 1:
                problems.append(f"{item} → {data!r}: {len(answers)} answers")
    return problems


async def test_every_button_press_is_answered_exactly_once(env: BotEnv, chat: ChatDriver) -> None:
    datas = button_examples(env.app)
    assert len(datas) > 50  # every flow's buttons were found
    assert "menu:invoices" in datas and "login:start" in datas and "tk:list" in datas
    datas += UNKNOWN_DATA

    await chat.send("/start")
    problems = await _press_all(chat, datas, logged_in=False)
    await login(chat, PERSON)
    problems += await _press_all(chat, datas, logged_in=True)
    problems += await _press_shown_buttons(chat)
    staff = env.chat(STAFF)
    await staff.send("/aviso")
    problems += await _press_all(staff, datas, logged_in=False)

    assert not problems, "\n".join(problems)
