"""Extrato Financeiro, as a subscriber sees it."""

from __future__ import annotations

import pytest

from bot.ui import periods, texts
from tests.support.billing import ManyRecords, assert_within_limits
from tests.support.bot_env import COMPANY, PERSON, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown


async def test_paid_green_pending_red_with_totals(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:statement")
    assert "🟢 pagas e 🔴 pendentes" in shown(calls)
    calls = await chat.tap("12 meses")
    said = shown(calls)
    assert "01/12/2025 a 30/11/2026" in said
    lines = [line for line in said.splitlines() if line.startswith(("🟢", "🔴"))]
    entries = [line for line in lines if "Fatura" in line]
    assert len(entries) == 11  # January to November of Maria's monthly invoices
    # By due date, oldest first.
    assert entries[0].startswith("🟢 10/01/2026 · Fatura 01/2026 - Fibra 300 Mega · R$ 99,90")
    assert "paga em" in entries[0]
    assert entries[-1] == (
        "🔴 10/11/2026 · Fatura 11/2026 - Fibra 300 Mega · R$ 99,90 · pendente, ⚠️ vencida"
    )
    # A late payment shows what was paid with the charges.
    assert any("paga em 12/03/2026 (R$ 101,97)" in line for line in entries)
    assert "🟢 Total pago: R$ 1.003,20" in said
    assert "🔴 Total pendente: R$ 99,90 (1 vencida ⚠️)" in said
    assert said.rstrip().endswith("(1 vencida ⚠️)")  # the totals close the statement


async def test_company_statement_covers_both_contracts(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:statement")
    calls = await chat.tap("3 meses")
    said = shown(calls)
    assert said.count("Fibra Empresarial 600 Mega") == 3
    assert said.count("Fibra Empresarial 1 Giga + IP fixo") == 3
    assert "🔴 Total pendente: R$ 0,00" in said


async def test_empty_period_says_so_and_offers_another(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:statement")
    await chat.tap("Outro período")
    calls = await chat.send("01/2020")
    said = shown(calls)
    assert "janeiro de 2020" in said
    assert "Não há lançamentos com vencimento neste período" in said
    assert ("📅 Este mês", "stm:period:this_month") in calls[-1].buttons
    calls = await chat.tap("Este mês")
    assert "🔴 10/11/2026" in shown(calls)


async def test_typed_periods_bad_and_inverted_stay_in_the_step(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:statement")
    await chat.tap("Outro período")
    calls = await chat.send("semana passada")
    assert "Não entendi esse período" in shown(calls)
    calls = await chat.send("31/10/2026 a 01/10/2026")
    assert "A data final vem antes da inicial" in shown(calls)
    calls = await chat.send("01/01/2024 a 30/11/2026")
    assert "longo demais" in shown(calls)
    calls = await chat.send("01/10/2026 a 31/10/2026")
    said = shown(calls)
    assert "outubro de 2026" in said and "Fatura 10/2026" in said


async def test_forged_buttons(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:statement")
    picker = chat.message_with_button("stm:period:3m")
    calls = await chat.press("stm:period:decade", picker)
    assert methods(calls) == ["answerCallbackQuery"]
    calls = await chat.press("stm:page:-1")
    assert texts.BUTTON_EXPIRED in shown(calls)


async def test_300_entries_paged_with_totals(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = ManyRecords(TODAY, 300)
    many.install(env.backend, monkeypatch)
    year = periods.resolve("12m", TODAY)
    count = sum(1 for e in many.entries if e.due_date in year)
    assert count > 100
    pages = -(-count // 12)
    await login(chat, PERSON)
    calls = await chat.press("menu:statement")
    calls += await chat.tap("12 meses")
    first = chat.screen()
    assert f"Página 1 de {pages} · {count} lançamentos no período." in first
    assert first.count("🟢 ") + first.count("🔴 ") == 12 + 2  # 12 entries + 2 totals
    assert "Total pago:" in first and "Total pendente:" in first
    calls += await chat.tap("▶️")
    assert f"Página 2 de {pages}" in chat.screen()
    calls += await chat.press("stm:page:500")
    last = chat.screen()
    assert f"Página {pages} de {pages}" in last
    assert last.count(" · Fatura ") == count - (pages - 1) * 12
    # The totals do not depend on the page.
    total_line = [line for line in first.splitlines() if "Total pago" in line]
    assert total_line[0] in last
    assert_within_limits(calls)


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:statement")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Este mês")
    assert "não respondeu" in shown(calls)
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Este mês")
    assert "Fatura 11/2026" in shown(calls)
