"""Telegram's HTML parse mode (issue 17, defect 9): one port of tdlib's parse_html
(bot.telegram_html), used by the broadcast composer and the local Bot API, which must agree."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import telegram_html
from bot.broadcasts.content import InvalidInput, validate_content
from bot.localapi.core import BotApiError, LocalBotApi
from bot.settings import Settings
from tests.support.bot_env import BotEnv
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

ADMIN = 900001
TOKEN = "123:local-html"
AMPERSAND = "23h & sem interrupção"

# markup -> what the chat shows, or the start of tdlib's error text
ACCEPTED = [
    (AMPERSAND, AMPERSAND),
    ("Silva &amp; Filhos &lt;Ltda&gt;", "Silva & Filhos <Ltda>"),
    ("&amp;", "&"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", '"'),
    ("&#38;", "&"),
    ("&#x26;", "&"),
    ("&#x27;", "'"),  # what html.escape() writes for a quote
    ("&amp sem ponto e vírgula", "& sem ponto e vírgula"),
    ("&nbsp;", "&nbsp;"),  # an unknown name stays literal
    ("&AMP;", "&AMP;"),  # names are case-sensitive
    ("&#X26;", "&#X26;"),  # only a lowercase x is hexadecimal
    ("&#0;", "&#0;"),
    ("&#1114111;", "&#1114111;"),  # U+10FFFF and above stay literal
    ("&#00000038;", "&#00000038;"),  # 10 characters or more: not a reference
    ("R$ 10 & R$ 20 &", "R$ 10 & R$ 20 &"),
    ("<b>negrito</b> <i>itálico</i> <u>sub</u> <s>riscado</s>", "negrito itálico sub riscado"),
    ("<B>caixa</B>", "caixa"),
    ("<b>fecha com</>", "fecha com"),
    ('<span class="tg-spoiler">x</span>', "x"),
    ("<tg-spoiler>x</tg-spoiler>", "x"),
    ('<a href="https://exemplo.com.br/?a=1&amp;b=2">link</a>', "link"),
    ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
    ("<blockquote expandable>citação</blockquote>", "citação"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("  <b>com espaços</b>  ", "com espaços"),
]
REFUSED = [
    ("<b>aberto", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<br>", 'Unsupported start tag "br" at byte offset 0'),
    ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
    ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("ção<p>", 'Unsupported start tag "p" at byte offset 5'),  # offsets count UTF-8 bytes
    ("</b>", "Unexpected end tag at byte offset 0"),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("<b x", 'Unclosed start tag "b" at byte offset 0'),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<a href=x"y">l</a>', "Unexpected end of name token at byte offset 8"),
    ('<b ="x">y</b>', 'Empty attribute name in the tag "b" at byte offset 0'),
    ('<tg-emoji emoji-id="0">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
    ("&#xD83D;", "Text contains invalid Unicode characters after decoding HTML entities"),
]


@pytest.mark.parametrize(("markup", "text"), ACCEPTED)
def test_telegram_accepts(markup: str, text: str) -> None:
    assert telegram_html.displayed(markup) == text


@pytest.mark.parametrize(("markup", "reason"), REFUSED)
def test_telegram_refuses_with_tdlibs_reason(markup: str, reason: str) -> None:
    with pytest.raises(telegram_html.HtmlError) as caught:
        telegram_html.parse(markup)
    assert str(caught.value).startswith(reason)


async def _local_api(markup: str) -> str:
    """What the local Bot API shows for a sendMessage with parse_mode=HTML."""
    api = LocalBotApi(TOKEN)
    await api.user(11).send("oi")
    params = {"chat_id": 11, "text": markup, "parse_mode": "HTML"}
    result = await api.call(TOKEN, "sendMessage", params)
    return str(result["text"])


@pytest.mark.parametrize(("markup", "expected"), ACCEPTED + REFUSED)
async def test_the_composer_and_the_local_bot_api_agree(markup: str, expected: str) -> None:
    try:
        composer: str = validate_content(markup)
    except InvalidInput as error:
        composer = "refused: " + str(error.details.get("problem"))
    try:
        local = await _local_api(markup)
    except BotApiError as error:
        assert error.description.startswith(telegram_html.ERROR_PREFIX)
        local = "refused: " + error.description.removeprefix(telegram_html.ERROR_PREFIX)
    assert composer == local
    assert composer == expected or composer.startswith("refused: " + expected)


async def test_a_bare_ampersand_reaches_the_chat_through_the_local_bot_api() -> None:
    assert await _local_api(AMPERSAND) == AMPERSAND


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, admin_telegram_ids=(ADMIN,))


async def test_aviso_accepts_a_bare_ampersand_and_previews_it(env: BotEnv) -> None:
    admin: ChatDriver = env.chat(ADMIN)
    await admin.send("/aviso")
    calls = await admin.send(AMPERSAND)
    assert "Quer anexar" in shown(calls)
    assert "reserved" not in shown(calls)


async def test_aviso_refuses_an_unclosed_tag_with_telegrams_reason(env: BotEnv) -> None:
    admin: ChatDriver = env.chat(ADMIN)
    await admin.send("/aviso")
    calls = await admin.send("<b>Manutenção hoje")
    assert "Can't find end tag corresponding to start tag" in shown(calls)
    calls = await admin.send("Manutenção<br>hoje")
    assert 'Unsupported start tag "br"' in shown(calls)
    calls = await admin.send(AMPERSAND)  # the step waited for the fix
    assert "Quer anexar" in shown(calls)
