"""Extrato de Ligação: line, terminal type, period; masked numbers, totals per type, pages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from backend_client.models import CallRecord, DateRange
from backend_client.sandbox.db import PhoneLineRow
from bot.conversations.calls import PAGE_SIZE, duration, masked_number
from bot.ui import texts
from bot.ui.formatting import money, phone
from tests.support.bot_env import COMPANY, PERSON, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

NOVEMBER = DateRange(TODAY.replace(day=1), TODAY.replace(day=30))
MASKED = re.compile(r"\(\d\d\) \d\*{3,4}-\d{4}|0800 \d\*\* \d{4}|\+\d+ [\d*\- ]+")


async def _records(
    env: BotEnv, period: DateRange, terminal_type: str | None = None
) -> list[CallRecord]:
    assert env.backend is not None
    session = await env.backend.login(COMPANY.document, COMPANY.password)
    return await env.backend.list_call_records(session, "ln-1", period, terminal_type)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("5511987654321", "(11) 9****-4321"),
        ("551932345678", "(19) 3***-5678"),
        ("08001234567", "0800 1** 4567"),
        ("13055551234", "+1 305-***-1234"),
        ("351213123456", "+351 21 *** 3456"),
        ("3512130871234", "+351 21****1234"),  # not a valid number: masked all the same
        ("5599", "**99"),
    ],
)
def test_masked_numbers(number: str, masked: str) -> None:
    assert masked_number(number) == masked


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (8, "00:08"), (323, "05:23"), (3662, "1:01:02")]
)
def test_durations(seconds: int, text: str) -> None:
    assert duration(seconds) == text


async def test_a_subscriber_without_a_phone_line_is_told_politely(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:calls")
    said = shown(calls)
    assert "Não encontrei nenhuma linha telefônica" in said
    assert "erro" not in said.lower()
    assert [data for _, data in calls[-1].buttons] == ["menu:home"]
    calls = await chat.press("calls:type:all")  # a button of no screen: harmless
    assert methods(calls)[0] == "answerCallbackQuery"


async def test_one_line_goes_straight_to_the_terminal_types(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:calls")
    said = shown(calls)
    assert "Linha: (19) 3234-5678" in said
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:6] == [
        "Local fixo",
        "Móvel",
        "Longa distância (DDD)",
        "Internacional (DDI)",
        "0800",
        "📋 Todos",
    ]
    assert "menu:home" in [data for _, data in calls[-1].buttons]


async def test_all_types_this_month_masked_paged_with_totals_per_type(
    env: BotEnv, chat: ChatDriver
) -> None:
    records = (await _records(env, NOVEMBER))[::-1]  # shown newest first
    assert len(records) > PAGE_SIZE * 2  # the demo line has several pages this month
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    calls = await chat.tap("Todos")
    assert "De qual período?" in shown(calls)
    calls = await chat.tap("Este mês")
    said = shown(calls)
    pages = -(-len(records) // PAGE_SIZE)
    assert f"Período: novembro de 2026 — {len(records)} ligações · página 1 de {pages}" in said
    assert masked_number(records[0].called_number) in said
    for record in records[:PAGE_SIZE]:
        assert phone(record.called_number) not in said  # never the whole number
    assert said.count("🕑") == PAGE_SIZE
    assert len(MASKED.findall(said)) >= PAGE_SIZE
    assert re.search(r"· \d{2}:\d{2} · R\$ \d+,\d{2}", said)

    # Totals per type, over the whole month (not the page).
    for type_id, name in (("local", "Local fixo"), ("mobile", "Móvel"), ("0800", "0800")):
        of_type = [r for r in records if r.terminal_type_id == type_id]
        cost = sum((r.cost for r in of_type), Decimal("0"))
        count = f"{len(of_type)} ligações" if len(of_type) != 1 else "1 ligação"
        assert f"• {name}: {count} · " in said
        assert f"{duration(sum(r.duration_seconds for r in of_type))} · {money(cost)}" in said
    total = sum((r.cost for r in records), Decimal("0"))
    assert f"Total: {len(records)} ligações · " in said and money(total) in said

    calls = await chat.tap("▶️")
    second = shown(calls)
    assert f"página 2 de {pages}" in second
    assert masked_number(records[PAGE_SIZE].called_number) in second
    assert f"Total: {len(records)} ligações" in second  # same totals on every page
    calls = await chat.press("calls:page:9999")  # forged: clamped to the last page
    assert f"página {pages} de {pages}" in shown(calls)
    calls = await chat.press("calls:page:-1")
    assert "página 1 de" in shown(calls)
    assert all(len(c.text) <= 4096 for c in env.api.calls if c.method == "editMessageText")


async def test_one_type_shows_only_its_calls(env: BotEnv, chat: ChatDriver) -> None:
    records = await _records(env, NOVEMBER, "mobile")
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Móvel")
    calls = await chat.tap("Este mês")
    said = shown(calls)
    assert "Tipo: Móvel" in said
    assert f"{len(records)} ligações" in said
    assert "• Móvel:" in said and "• Local fixo:" not in said
    assert re.findall(r"\(\d\d\) 9\*{4}-\d{4}", said)
    calls = await chat.tap("Outro tipo")
    assert "Que tipo de ligação" in shown(calls)


async def test_an_empty_period_says_so_and_offers_another(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Todos")
    calls = await chat.tap("Outro período")
    assert "Qual período?" in shown(calls)
    calls = await chat.send("semana que vem")
    assert "Não entendi esse período" in shown(calls)
    calls = await chat.send("31/12/2019 a 01/01/2019")
    assert "data final vem antes" in shown(calls)
    calls = await chat.send("01/2020")
    said = shown(calls)
    assert "Não há ligações em janeiro de 2020" in said
    assert "calls:period:this_month" in [data for _, data in calls[-1].buttons]
    calls = await chat.tap("Mês passado")
    assert "outubro de 2026" in shown(calls) and "ligações" in shown(calls)


async def test_several_lines_are_chosen_first(env: BotEnv, chat: ChatDriver) -> None:
    async with env.backend._transaction() as db:  # type: ignore[union-attr]
        db.add(PhoneLineRow(id="ln-2", contract_id="c4", number="551933334444"))
    await login(chat, COMPANY)
    calls = await chat.press("menu:calls")
    said = shown(calls)
    assert "De qual linha" in said
    assert [data for _, data in calls[-1].buttons] == [
        "calls:line:ln-1",
        "calls:line:ln-2",
        "menu:home",
    ]
    calls = await chat.tap("3333-4444")
    assert "Linha: (19) 3333-4444" in shown(calls)
    assert "calls:lines" in [data for _, data in calls[-1].buttons]
    await chat.tap("Todos")
    calls = await chat.tap("12 meses")
    assert "Não há ligações" in shown(calls)
    calls = await chat.press("calls:lines")
    assert "De qual linha" in shown(calls)
    await chat.tap("3234-5678")
    await chat.tap("Todos")
    calls = await chat.tap("Este mês")
    assert ("📞 Outra linha", "calls:lines") in calls[-1].buttons


async def test_forged_buttons_are_harmless(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    calls = await chat.press("calls:line:ln-999")
    assert "Essa linha não está disponível" in shown(calls)
    calls = await chat.press("calls:type:../../x")
    assert "Esse tipo de ligação não está disponível" in shown(calls)
    await chat.tap("Todos")
    calls = await chat.press("calls:period:99y")
    assert "Escolha um dos períodos" in shown(calls)
    calls = await chat.press("calls:nonsense")
    assert texts.BUTTON_EXPIRED in shown(calls)
    assert methods(calls) == ["answerCallbackQuery"]
    calls = await chat.press("calls:page:abc")  # before any period: back to the period picker
    assert "De qual período?" in shown(calls)


async def test_another_subscribers_line_is_never_shown(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:calls")
    calls = await chat.press("calls:line:ln-1")  # the company's line, forged by this subscriber
    assert methods(calls)[0] == "answerCallbackQuery"
    assert "3234-5678" not in shown(calls)
    assert "ligações" not in shown(calls)


async def test_text_where_a_button_is_expected(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    calls = await chat.send("todos")
    assert "toque em um dos botões" in shown(calls)


async def test_menu_mid_flow_leaves_and_forgets_the_choices(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Todos")
    calls = await chat.send("/menu")
    assert "O que você precisa?" in shown(calls)
    assert "calls" not in chat.application.chat_data[chat.user_id]
    calls = await chat.send("10/2026")
    assert "Não entendi" in shown(calls)


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.press("menu:calls")
    assert "não respondeu" in shown(calls)
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.press("menu:calls")
    assert "Que tipo de ligação" in shown(calls)


async def test_logging_out_mid_flow_forgets_the_choices(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Todos")
    calls = await chat.send("/sair")
    assert "Você saiu" in shown(calls)
    assert "calls" not in chat.application.chat_data[chat.user_id]
    calls = await chat.press("calls:period:this_month")
    assert "ligações" not in shown(calls)
