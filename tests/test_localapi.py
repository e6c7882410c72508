"""The local Bot API answers like Telegram: envelope, error codes, constraints, files, polling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from bot.localapi.core import LocalBotApi
from tests.support.bot_env import TOKEN


@pytest.fixture
async def bot(served: tuple[LocalBotApi, str]) -> AsyncIterator[Bot]:
    _, url = served
    async with Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
        yield bot


async def test_wrong_token_is_401(served: tuple[LocalBotApi, str]) -> None:
    _, url = served
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{url}/bot1:wrong/getMe")
        body = await response.json()
    assert response.status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong-token-xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", base_url=f"{url}/bot"):
            pass


async def test_json_and_form_requests(served: tuple[LocalBotApi, str]) -> None:
    api, url = served
    user = api.user(10)
    await user.send("oi")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    async with aiohttp.ClientSession() as http:
        as_json = await http.post(
            f"{url}/bot{TOKEN}/sendMessage",
            json={
                "chat_id": 10,
                "text": "<b>olá</b>",
                "parse_mode": "HTML",
                "reply_markup": markup,
            },
        )
        as_form = await http.post(
            f"{url}/bot{TOKEN}/sendMessage",
            data={"chat_id": "10", "text": "form", "reply_markup": json.dumps(markup)},
        )
        sent = [await as_json.json(), await as_form.json()]
    assert sent[0]["ok"] and sent[0]["result"]["text"] == "olá"
    assert sent[1]["result"]["reply_markup"] == markup


async def test_odd_json_bodies_are_a_bad_request_not_a_crash(
    served: tuple[LocalBotApi, str],
) -> None:
    _, url = served
    deep = "[" * 200_000 + "]" * 200_000
    async with aiohttp.ClientSession() as http:
        for body in ("[]", "5", "{nope", deep):
            response = await http.post(
                f"{url}/bot{TOKEN}/sendMessage",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            answer = await response.json()
            assert response.status == 400, body[:10]
            assert answer["description"].startswith("Bad Request: can't parse JSON body")


async def test_telegram_constraints(served: tuple[LocalBotApi, str], bot: Bot) -> None:
    api, _ = served
    await api.user(11).send("oi")
    with pytest.raises(BadRequest, match=r"(?i)Unsupported start tag"):
        await bot.send_message(11, "<div>x</div>", parse_mode="HTML")
    # A bare '&' that starts no entity stays literal, as on Telegram (tdlib's decode_html_entity).
    sent = await bot.send_message(11, "Silva & Filhos", parse_mode="HTML")
    assert sent.text == "Silva & Filhos"
    with pytest.raises(BadRequest, match=r'(?i)tag "span" must have class "tg-spoiler"'):
        await bot.send_message(11, "<span>x</span>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        await bot.send_message(11, "<b>aberto", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(11, "x" * 4097)
    # Telegram: "Bad Request: message text is empty", also when only markup is left.
    for empty in ("", " \n", "<code></code>"):
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(11, empty, parse_mode="HTML")
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(11, "botão", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "ninguém")

    message = await bot.send_message(11, "mesmo texto")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("mesmo texto", 11, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 11, 99999)
    assert await bot.delete_message(11, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(11, message.message_id)


async def test_callback_queries_can_be_answered_once(
    served: tuple[LocalBotApi, str], bot: Bot
) -> None:
    api, _ = served
    user = api.user(12)
    await user.send("oi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Sim", callback_data="yes")]])
    await bot.send_message(12, "Confirma?", reply_markup=keyboard)
    query_id = await user.tap("Sim")
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_flood_wait_and_blocked_user(served: tuple[LocalBotApi, str], bot: Bot) -> None:
    api, _ = served
    await api.user(13).send("oi")
    api.inject_flood_wait(retry_after=3, method="sendMessage")
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(13, "x")
    assert raised.value.retry_after == timedelta(seconds=3)
    assert (await bot.send_message(13, "agora vai")).text == "agora vai"
    api.block(13)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(13, "x")


async def test_files_both_ways(served: tuple[LocalBotApi, str], bot: Bot, tmp_path: Path) -> None:
    api, _ = served
    user = api.user(14)
    incoming = await user.send_document(b"%PDF-1.4 demo", "conta.pdf", "application/pdf")
    assert incoming.document is not None
    telegram_file = await bot.get_file(incoming.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == b"%PDF-1.4 demo"

    sent = await bot.send_document(14, document=b"%PDF-1.7 boleto", filename="boleto.pdf")
    assert sent.document is not None and sent.document.file_name == "boleto.pdf"
    stored = api.messages(14)[-1].document
    assert stored is not None and stored.content == b"%PDF-1.7 boleto"


async def test_get_updates_long_polls_until_a_user_writes(
    served: tuple[LocalBotApi, str], bot: Bot
) -> None:
    api, _ = served
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not polling.done()
    await api.user(15).send("/start")
    updates = await asyncio.wait_for(polling, 2)
    assert updates[0].message is not None and updates[0].message.text == "/start"
    # Acknowledged with the next offset, it is not delivered again.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()


async def test_a_waiting_user_is_woken_only_by_its_own_chat() -> None:
    api = LocalBotApi(TOKEN)
    waiting, other = api.user(16), api.user(17)
    checks: list[int] = []

    def answered(events: list[object]) -> bool:
        checks.append(len(events))
        return bool(events)

    waiter = asyncio.create_task(waiting.wait_until(answered, within=5))
    anything = asyncio.create_task(api.changed(5))
    await asyncio.sleep(0.01)
    for n in range(50):
        await api.call(TOKEN, "sendMessage", {"chat_id": other.id, "text": f"para outro {n}"})
    await asyncio.wait_for(anything, 1)  # changed() still hears every chat
    assert not waiter.done() and checks == [0]  # 50 answers elsewhere: not even re-checked
    await api.call(TOKEN, "sendMessage", {"chat_id": waiting.id, "text": "para você"})
    events = await asyncio.wait_for(waiter, 1)
    assert [e.message.text for e in events if e.message] == ["para você"]
    assert checks == [0, 1] and waiting.chat.waiters == []
