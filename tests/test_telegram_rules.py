"""Telegram's rules live in one production module (issue 18, step 2): ``bot.telegram_html`` holds
the HTML parse mode, the text and caption limits and the Bot API's errors; the senders, the
composer, the local Bot API and the tests' recorder all use it, so they agree with Telegram and
with each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot import telegram_html
from bot.localapi.core import LocalBotApi
from bot.localapi.inprocess import InProcessRequest
from bot.ui import formatting
from tests.support.bot_env import TOKEN, BotEnv
from tests.support.driver import ChatDriver

ROOT = Path(__file__).resolve().parent.parent

# (method, parameters, the Bot API's description) — Telegram's words, from bot.telegram_html.
REFUSED = [
    ("sendMessage", {"text": "x" * 4097}, "Bad Request: message is too long"),
    (
        "sendMessage",
        {"text": " <b> </b> ", "parse_mode": "HTML"},
        "Bad Request: message text is empty",
    ),
    (
        "sendMessage",
        {"text": "<div>x</div>", "parse_mode": "HTML"},
        'Bad Request: can\'t parse entities: Unsupported start tag "div" at byte offset 0',
    ),
    (
        "sendPhoto",
        {"photo": b"\xff\xd8 jpeg", "caption": "y" * 1025},
        "Bad Request: message caption is too long",
    ),
]


async def _refusal(bot: Bot, method: str, chat_id: int, params: dict[str, object]) -> str:
    with pytest.raises(BadRequest) as refused:
        if method == "sendPhoto":
            await bot.send_photo(chat_id, **params)  # type: ignore[arg-type]
        else:
            await bot.send_message(chat_id, **params)  # type: ignore[arg-type]
    return refused.value.message


@pytest.mark.parametrize(("method", "params", "description"), REFUSED)
async def test_the_recorder_and_the_local_api_refuse_a_text_in_telegrams_words(
    env: BotEnv, chat: ChatDriver, method: str, params: dict[str, object], description: str
) -> None:
    await chat.send("/start")
    recorded = await _refusal(env.app.bot, method, chat.user_id, params)

    api = LocalBotApi(TOKEN)
    await api.user(chat.user_id).send("oi")
    async with Bot(TOKEN, request=InProcessRequest(api)) as local_bot:
        local = await _refusal(local_bot, method, chat.user_id, params)

    # PTB drops the "Bad Request: " prefix and capitalizes what is left (telegram/error.py).
    assert recorded == local == description.removeprefix("Bad Request: ").capitalize()


def test_the_senders_read_a_text_as_telegram_does() -> None:
    # tdlib decodes only &lt; &gt; &amp; &quot; and numeric references: "&nbsp;" stays literal,
    # so a screen holding it is not mistaken for another one (a no-op edit) nor shown wrong.
    assert formatting.plain_text("Silva &nbsp;& Filhos") == "Silva &nbsp;& Filhos"
    assert formatting.plain_text(" <b>A &amp; B</b>\n") == "A & B"
    assert formatting.plain_text("<code></code>") == ""
    assert formatting.MESSAGE_LIMIT == telegram_html.TEXT_LIMIT == 4096
    assert telegram_html.CAPTION_LIMIT == 1024


def test_message_text_counts_code_points_after_parsing_and_trimming() -> None:
    # "1-4096 characters after entities parsing" (core.telegram.org/bots/api#sendmessage)
    assert telegram_html.message_text("<b>" + "é" * 4096 + "</b>\n", html=True) == "é" * 4096
    assert telegram_html.message_text("&amp;" * 1024, html=True, caption=True) == "&" * 1024
    assert telegram_html.message_text("", html=True, caption=True) is None
    with pytest.raises(telegram_html.Refused, match="caption is too long"):
        telegram_html.message_text("&amp;" * 1025, html=True, caption=True)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(
    "module",
    [
        "bot/broadcasts/content.py",
        "bot/broadcasts/texts.py",
        "bot/ui/formatting.py",
        "bot/ui/screens.py",
    ],
)
def test_production_code_takes_telegrams_rules_from_the_rules_module_not_the_emulator(
    module: str,
) -> None:
    imports = _imports(ROOT / module)
    assert not any(name.startswith("bot.localapi") for name in imports)


def test_no_second_copy_of_the_limits() -> None:
    modules = (
        "bot/ui/formatting.py",
        "bot/broadcasts/texts.py",
        "bot/localapi/core.py",
        "tests/support/fake_telegram.py",
    )
    for module in modules:
        source = (ROOT / module).read_text(encoding="utf-8")
        assert "4096" not in source and "(1024" not in source, module
        assert "limit=1024" not in source, module


async def test_the_recorder_answers_as_the_local_bot_api_does(
    env: BotEnv, chat: ChatDriver
) -> None:
    """One Telegram emulator: the tests' recorder is the local Bot API with a call log, so what
    the local API (and Telegram) refuses, the recorder refuses too."""
    await chat.send("/start")
    bot = env.app.bot
    typeless = InlineKeyboardMarkup([[InlineKeyboardButton("sem ação")]])
    with pytest.raises(BadRequest, match=r"(?i)button_type_invalid"):
        await bot.send_message(chat.user_id, "botão", reply_markup=typeless)
    photo = await bot.send_photo(chat.user_id, photo=b"\xff\xd8 jpeg", caption="<b>legenda</b>")
    assert env.api.messages[(chat.user_id, photo.message_id)].text == "legenda"
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("novo", chat.user_id, photo.message_id)
    assert [call.method for call in env.api.calls[-3:]] == [
        "sendMessage",
        "sendPhoto",
        "editMessageText",
    ]
