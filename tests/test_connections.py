"""Extrato de Conexão: login, period; sessions newest first, "em andamento", totals, pages."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from backend_client.models import ConnectionSession, DateRange
from backend_client.sandbox.seed import DemoAccount
from bot.conversations.connections import PAGE_SIZE, data_size, span
from bot.ui import texts
from bot.ui.formatting import day_time
from tests.support.bot_env import COMPANY, PERSON, SUSPENDED, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

NOVEMBER = DateRange(TODAY.replace(day=1), TODAY.replace(day=30))
TWELVE_MONTHS = DateRange(date(2025, 12, 1), date(2026, 11, 30))


async def _sessions(
    env: BotEnv, period: DateRange, account: DemoAccount = PERSON, login_id: str = "l1"
) -> list[ConnectionSession]:
    assert env.backend is not None
    session = await env.backend.login(account.document, account.password)
    return await env.backend.list_connection_sessions(session, login_id, period)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1 KB"),
        (2048, "2 KB"),
        (10**6, "1,0 MB"),
        (820_340_000, "820,3 MB"),
        (1_500_000_000, "1,5 GB"),
        (1024**3, "1,1 GB"),  # a binary GiB is 1,07 GB: units are decimal, as providers sell
        (1024**2, "1,0 MB"),
        (999_999, "1,0 MB"),  # never "1.000 KB"
        (999_960_000, "1,0 GB"),
        (2_250_000_000_000, "2,25 TB"),
        (1_234_500_000_000_000, "1.234,50 TB"),
    ],
)
def test_data_sizes_in_human_units_with_a_decimal_comma(size: int, text: str) -> None:
    assert data_size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (20, "menos de 1 min"),
        (45 * 60 + 59, "45 min"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (2 * 86400 + 3 * 3600 + 5 * 60, "2 d 3 h 05 min"),
    ],
)
def test_connection_times(seconds: int, text: str) -> None:
    assert span(seconds) == text


async def test_one_login_goes_straight_to_the_period(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:connections")
    said = shown(calls)
    assert "Login: maria.santos" in said
    assert "De qual período?" in said
    assert "connections:period:this_month" in [data for _, data in calls[-1].buttons]
    assert "menu:home" in [data for _, data in calls[-1].buttons]


async def test_this_month_newest_first_running_session_and_whole_period_totals(
    env: BotEnv, chat: ChatDriver
) -> None:
    sessions = await _sessions(env, NOVEMBER)
    assert len(sessions) > PAGE_SIZE
    running = sessions[-1]
    assert running.ended_at is None
    await login(chat, PERSON)
    await chat.press("menu:connections")
    calls = await chat.tap("Este mês")
    said = shown(calls)
    pages = -(-len(sessions) // PAGE_SIZE)
    assert f"Período: novembro de 2026 — {len(sessions)} conexões · página 1 de {pages}" in said
    # Newest first: the running session opens the list, marked "em andamento".
    first_block = said.split("\n\n")[1]
    assert f"{day_time(running.started_at)} → em andamento" in first_block
    assert "até agora" in first_block
    assert "IP 100.64.23.145" in first_block
    assert said.count("⏱") == PAGE_SIZE
    assert said.count("em andamento") == 1
    finished = sessions[-2]
    assert f"{day_time(finished.started_at)} → {day_time(finished.ended_at)}" in said
    assert f"⬇️ {data_size(finished.download_bytes)} · ⬆️ {data_size(finished.upload_bytes)}" in said
    assert re.search(r"\d+,\d (MB|GB)", said)

    download = sum(s.download_bytes for s in sessions)
    upload = sum(s.upload_bytes for s in sessions)
    page_download = sum(s.download_bytes for s in sessions[-PAGE_SIZE:])
    assert data_size(download) != data_size(page_download)
    assert f"• Conexões: {len(sessions)}" in said
    assert f"• Download: {data_size(download)}" in said
    assert f"• Upload: {data_size(upload)}" in said
    assert "• Tempo conectado: " in said

    calls = await chat.tap("▶️")
    second = shown(calls)
    assert f"página 2 de {pages}" in second
    assert "em andamento" not in second
    assert f"• Download: {data_size(download)}" in second


async def test_months_of_sessions_stay_fast_and_every_page_fits(
    env: BotEnv, chat: ChatDriver
) -> None:
    sessions = await _sessions(env, TWELVE_MONTHS)
    assert (sessions[-1].started_at - sessions[0].started_at).days >= 180
    await login(chat, PERSON)
    await chat.press("menu:connections")
    started = time.perf_counter()
    calls = await chat.tap("12 meses")
    assert time.perf_counter() - started < 2.0
    pages = -(-len(sessions) // PAGE_SIZE)
    assert f"página 1 de {pages}" in shown(calls)
    seen = shown(calls).count("⏱")
    for page in range(1, pages):
        calls = await chat.press(f"connections:page:{page}")
        assert len(calls[-1].text) < 3000
        seen += shown(calls).count("⏱")
    assert seen == len(sessions)
    calls = await chat.press("connections:page:99999")  # forged, on the last page: no edit
    assert methods(calls) == ["answerCallbackQuery"]
    await chat.press("connections:page:0")
    calls = await chat.press("connections:page:99999")  # forged: the last page
    assert f"página {pages} de {pages}" in shown(calls)


async def test_two_logins_are_chosen_first(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:connections")
    assert "De qual login" in shown(calls)
    buttons = calls[-1].buttons
    assert [data for _, data in buttons] == [
        "connections:login:l3",
        "connections:login:l4",
        "menu:home",
    ]
    assert all("silvaefilhos." in label for label, _ in buttons[:2])
    calls = await chat.tap("filial")
    assert "Login: silvaefilhos.filial" in shown(calls)
    assert "connections:logins" in [data for _, data in calls[-1].buttons]
    calls = await chat.tap("Este mês")
    sessions = await _sessions(env, NOVEMBER, COMPANY, "l4")
    assert f"{len(sessions)} conexões" in shown(calls)
    assert "IP 203.0.113.26" in shown(calls)
    calls = await chat.tap("Outro login")
    assert "De qual login" in shown(calls)


async def test_a_suspended_contract_has_no_running_session(chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:connections")
    calls = await chat.tap("Este mês")
    said = shown(calls)
    assert "conexões" in said
    assert "em andamento" not in said


async def test_an_empty_period_says_so_and_a_typed_period_works(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:connections")
    calls = await chat.tap("Outro período")
    assert "Qual período?" in shown(calls)
    calls = await chat.send("2020")
    assert "Não entendi esse período" in shown(calls)
    calls = await chat.send("01/01/2020 a 31/01/2020")
    said = shown(calls)
    assert "Não há conexões em janeiro de 2020" in said
    assert "connections:period:last_month" in [data for _, data in calls[-1].buttons]
    calls = await chat.send("10/2026")  # typed straight on the picker
    assert "outubro de 2026" in shown(calls) and "conexões" in shown(calls)


async def test_forged_buttons_are_harmless(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:connections")
    calls = await chat.press("connections:login:l1")  # another subscriber's login
    said = shown(calls)
    assert "Esse login não está disponível" in said
    assert "maria" not in said
    await chat.tap("matriz")
    calls = await chat.press("connections:period:forever")
    assert "Escolha um dos períodos" in shown(calls)
    calls = await chat.press("connections:page:x")  # no period chosen yet
    assert "De qual período?" in shown(calls)
    calls = await chat.press("connections:drop_tables")
    assert methods(calls) == ["answerCallbackQuery"]
    assert texts.BUTTON_EXPIRED in shown(calls)


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:connections")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Este mês")
    assert "não respondeu" in shown(calls)
    assert methods(calls).count("answerCallbackQuery") == 1
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Este mês")
    assert "conexões" in shown(calls)


async def test_menu_mid_flow_forgets_the_choices(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:connections")
    await chat.tap("Este mês")
    assert "connections" in chat.application.chat_data[chat.user_id]
    calls = await chat.tap("Menu")
    assert "O que você precisa?" in shown(calls)
    assert "connections" not in chat.application.chat_data[chat.user_id]
