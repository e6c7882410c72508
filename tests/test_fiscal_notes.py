"""Nota Fiscal, as a subscriber sees it."""

from __future__ import annotations

import pytest

from bot.ui import texts
from tests.support.billing import ManyRecords, assert_within_limits, sent_file
from tests.support.bot_env import COMPANY, PERSON, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown


async def test_notes_as_buttons_and_pdf_with_a_meaningful_name(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:fiscal_notes")
    assert "data de emissão" in shown(calls)
    calls = await chat.tap("3 meses")
    assert "6 notas fiscais no período" in shown(calls)
    notes = [(label, data) for label, data in calls[-1].buttons if data.startswith("nf:pdf:")]
    assert [label for label, _ in notes] == [
        "NFCom nº 4838 · 30/09/2026 · R$ 249,90",
        "NFS-e nº 1527 · 30/09/2026 · R$ 399,90",
        "NFCom nº 4839 · 31/10/2026 · R$ 249,90",
        "NFS-e nº 1528 · 31/10/2026 · R$ 399,90",
        "NFCom nº 4840 · 28/11/2026 · R$ 249,90",
        "NFS-e nº 1529 · 28/11/2026 · R$ 399,90",
    ]
    calls = await chat.tap("NFS-e nº 1528")
    document = next(c for c in calls if c.method == "sendDocument")
    name, content = sent_file(document, "document")
    assert name == "nota-fiscal-nfs-e-1528-serie-e-2026-10-31.pdf"
    assert content.startswith(b"%PDF")
    assert "NFS-e nº 1528 (série E) — emitida em 31/10/2026 — R$ 399,90" in shown(calls)
    assert methods(calls)[0] == "answerCallbackQuery"
    # The list stays: another note can be picked from the same message.
    calls = await chat.tap("NFCom nº 4840")
    name, _ = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    assert name == "nota-fiscal-nfcom-4840-serie-1-2026-11-28.pdf"


async def test_empty_period_says_so_and_offers_another(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:fiscal_notes")
    await chat.tap("Outro período")
    calls = await chat.send("03/2021")
    said = shown(calls)
    assert "março de 2021" in said
    assert "Não há notas fiscais emitidas neste período" in said
    assert ("📅 Mês passado", "nf:period:last_month") in calls[-1].buttons
    calls = await chat.tap("Mês passado")
    assert "1 nota fiscal no período" in shown(calls)


async def test_typed_periods_bad_and_inverted_stay_in_the_step(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:fiscal_notes")
    await chat.tap("Outro período")
    calls = await chat.send("semana que vem")
    assert "Não entendi esse período" in shown(calls)
    calls = await chat.send("28/11/2026 a 01/11/2026")
    assert "A data final vem antes da inicial" in shown(calls)
    calls = await chat.send("01/11/2026 a 28/11/2026")
    assert "1 nota fiscal no período" in shown(calls)


async def test_another_subscribers_note_is_not_sent(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("nf:pdf:nf-1030")  # the company's note
    assert texts.NOT_FOUND in shown(calls)
    assert "sendDocument" not in methods(calls)
    calls = await chat.press("nf:pdf:<b>")
    assert texts.BUTTON_EXPIRED in shown(calls)


async def test_300_notes_paged_within_limits(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ManyRecords(TODAY, 300).install(env.backend, monkeypatch)
    await login(chat, PERSON)
    calls = await chat.press("menu:fiscal_notes")
    calls += await chat.tap("12 meses")
    said = chat.screen()
    assert "notas fiscais no período. Página 1 de " in said
    assert sum(1 for _, data in calls[-1].buttons if data.startswith("nf:pdf:")) == 10
    calls += await chat.tap("▶️")
    assert "Página 2 de " in chat.screen()
    calls += await chat.press("nf:page:9999")
    nav = [label for label, data in calls[-1].buttons if data.startswith("nf:page:")]
    assert nav[-1].split("/")[0] == nav[-1].split("/")[1]  # the last page
    assert_within_limits(calls)


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:fiscal_notes")
    await chat.tap("Este mês")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("NFCom")
    assert "não respondeu" in shown(calls)
    assert "sendDocument" not in methods(calls)
