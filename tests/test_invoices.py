"""Faturas and Ver boleto, as a subscriber sees them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from backend_client.formats.boleto import format_linha_digitavel, is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode, parse_tlv
from backend_client.models import InvoiceStatus
from bot.conversations.invoices import qr_png
from bot.ui import texts
from tests.support.billing import ManyRecords, assert_within_limits, copy_values, sent_file
from tests.support.bot_env import COMPANY, PERSON, SUSPENDED, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown


async def _open_invoices(env: BotEnv, account: object) -> list:
    """The open invoices straight from the sandbox, to compare with what the bot shows."""
    session = await env.backend.login(account.document, account.password)  # type: ignore[union-attr, attr-defined]
    invoices = await env.backend.list_invoices(session)  # type: ignore[union-attr]
    return [i for i in invoices if i.status is InvoiceStatus.OPEN]


async def test_all_open_invoices_one_line_each_overdue_marked(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    # Faturas opens on the open invoices at once (issue 21): Ver boleto is the second tap.
    calls = await chat.press("menu:invoices")
    said = shown(calls)
    assert "🔴 10/11/2026 · R$ 99,90 · ⚠️ vencida há 18 dias" in said
    assert "🟡 10/12/2026 · R$ 99,90 · a vencer" in said
    assert "2 faturas · total R$ 199,80 · 1 vencida ⚠️" in said
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:2] == ["Ver boleto 10/11/2026 · R$ 99,90", "Ver boleto 10/12/2026 · R$ 99,90"]
    assert "⬅️ Menu" in labels and "🗓 Outro período" in labels  # a period is secondary
    assert "📑 Escolher contrato" not in labels  # one contract
    # The list replaced the menu in place.
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    calls = await chat.tap("Outro período")
    assert calls[-1].buttons[0] == ("📋 Todas em aberto", "inv:period:all")
    calls = await chat.tap("Todas em aberto")
    assert "2 faturas · total R$ 199,80" in shown(calls)


async def test_this_month_also_covers_invoices_falling_due_later(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:invoices")
    await chat.tap("Outro período")
    calls = await chat.tap("Este mês")
    said = shown(calls)
    assert "novembro de 2026 e as que vencem depois" in said
    assert "10/11/2026" in said and "10/12/2026" in said
    # Last month ended before today: only what fell due in October (paid), so nothing open.
    await chat.tap("Outro período")
    calls = await chat.tap("Mês passado")
    said = shown(calls)
    assert "outubro de 2026" in said
    assert "Não há faturas em aberto neste período" in said
    assert ("📋 Todas em aberto", "inv:period:all") in calls[-1].buttons
    assert ("📅 Este mês", "inv:period:this_month") in calls[-1].buttons


async def test_company_picks_a_contract_or_all(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:invoices")
    # Every contract's open invoices at once; a contract is a secondary button.
    said = shown(calls)
    assert "R$ 249,90 · a vencer · contrato 2022/0087" in said
    assert "R$ 399,90 · a vencer · contrato 2025/0233" in said
    calls = await chat.tap("Escolher contrato")
    assert "mais de um contrato" in shown(calls)
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[0] == "📑 Todos os contratos"
    assert any(label.startswith("2022/0087 · Fibra Empresarial 600 Mega") for label in labels)
    assert any(label.startswith("2025/0233 · Fibra Empresarial 1 Giga") for label in labels)

    calls = await chat.tap("2025/0233")
    said = shown(calls)
    assert "todas · contrato 2025/0233" in said
    assert "R$ 399,90" in said and "R$ 249,90" not in said

    await chat.tap("Outro período")
    await chat.tap("Contratos")
    calls = await chat.tap("Todos os contratos")
    said = shown(calls)
    assert "R$ 249,90 · a vencer · contrato 2022/0087" in said
    assert "R$ 399,90 · a vencer · contrato 2025/0233" in said


async def test_ver_boleto_overdue_details_and_copy_values(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    overdue = [i for i in await _open_invoices(env, SUSPENDED) if i.due_date == date(2026, 11, 5)]
    invoice = overdue[0]
    await chat.press("menu:invoices")
    calls = await chat.tap("Ver boleto 05/11/2026")
    said = shown(calls)
    assert "Fatura 11/2026" in said
    assert "Vencimento: 05/11/2026 — ⚠️ vencida há 23 dias" in said
    assert "Valor: R$ 119,90" in said
    assert "Multa: R$ 2,40" in said and "Juros: R$ 0,92" in said
    assert "Valor atualizado: R$ 123,22" in said
    assert "PIX copia e cola — R$ 123,22 (valor atualizado)" in said
    # Everything is sent as new messages: the list stays usable.
    assert methods(calls) == ["answerCallbackQuery", *["sendMessage"] * 4, "sendPhoto"]

    linha, pix = copy_values(calls)
    assert re.fullmatch(r"\d{5}\.\d{5} \d{5}\.\d{6} \d{5}\.\d{6} \d \d{14}", linha)
    assert is_valid_linha_digitavel(linha)
    assert linha == format_linha_digitavel(invoice.linha_digitavel)
    assert is_valid_brcode(pix)
    assert Decimal(parse_tlv(pix)["54"]) == invoice.updated_amount == Decimal("123.22")
    # Each value is alone in its message, nothing glued to it.
    raw = [c.params["text"] for c in calls if c.method == "sendMessage"]
    assert f"<code>{linha}</code>" in raw and f"<code>{pix}</code>" in raw

    photo = next(c for c in calls if c.method == "sendPhoto")
    _, png = sent_file(photo, "photo")
    assert png.startswith(b"\x89PNG") and png == qr_png(pix)
    assert [label for label, _ in photo.buttons] == ["📄 Boleto em PDF", "⬅️ Faturas", "⬅️ Menu"]


async def test_ver_boleto_not_overdue_has_no_charges(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:invoices")
    calls = await chat.tap("Ver boleto 10/12/2026")
    said = shown(calls)
    assert "a vencer" in said and "Multa" not in said and "atualizado" not in said
    linha, pix = copy_values(calls)
    assert is_valid_linha_digitavel(linha) and is_valid_brcode(pix)
    assert parse_tlv(pix)["54"] == "99.90"


async def test_boleto_pdf_files_are_unique_per_invoice(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    list_calls = await chat.press("menu:invoices")
    shows = [data for _, data in list_calls[-1].buttons if data.startswith("inv:show:")]
    names = []
    for data in shows:
        await chat.press(data)
        calls = await chat.tap("Boleto em PDF")
        document = next(c for c in calls if c.method == "sendDocument")
        name, content = sent_file(document, "document")
        assert content.startswith(b"%PDF")
        assert name.endswith(".pdf") and data.removeprefix("inv:show:") in name
        assert "Boleto da fatura 12/2026" in shown(calls)
        names.append(name)
    # Both contracts have a 12/2026 invoice: the backend calls both "boleto-12-2026.pdf".
    assert len(names) == 2 and len(set(names)) == 2


async def test_paid_invoice_has_no_boleto(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    session = await env.backend.login(PERSON.document, PERSON.password)  # type: ignore[union-attr]
    invoices = await env.backend.list_invoices(session)  # type: ignore[union-attr]
    paid = next(i for i in invoices if i.status is InvoiceStatus.PAID)
    calls = await chat.press(f"inv:show:{paid.id}")
    said = shown(calls)
    assert "já foi paga em" in said and "Não há boleto" in said
    assert copy_values(calls) == []
    calls = await chat.press(f"inv:pdf:{paid.id}")
    assert "sendDocument" not in methods(calls)
    assert "já foi paga" in shown(calls)


async def test_forged_callbacks_are_harmless(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    # Another subscriber's invoice (the company's) or a made-up id: "not found", nothing sent.
    for data in ("inv:show:inv-1030", "inv:pdf:inv-1030", "inv:show:nope"):
        calls = await chat.press(data)
        assert methods(calls)[0] == "answerCallbackQuery"
        assert texts.NOT_FOUND in shown(calls)
        assert copy_values(calls) == [] and "sendDocument" not in methods(calls)
    await chat.press("menu:invoices")
    await chat.tap("Outro período")
    picker = chat.message_with_button("inv:period:all")
    calls = await chat.press("inv:period:forever", picker)
    assert methods(calls) == ["answerCallbackQuery"]  # the same picker again: nothing to edit
    calls = await chat.press("inv:contract:c3")  # not theirs
    assert "Não encontrei esse contrato" in shown(calls)
    calls = await chat.press("inv:show:../../etc/passwd")
    assert texts.BUTTON_EXPIRED in shown(calls)


async def test_typed_periods_bad_inverted_then_good(chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:invoices")
    await chat.tap("🗓 Outro período")
    calls = await chat.tap("✍️ Outro período")
    assert "mm/aaaa" in shown(calls)
    calls = await chat.send("ontem")
    assert texts.PERIOD_INVALID.split(".")[0] in shown(calls)
    calls = await chat.send("13/2026")
    assert "Não entendi esse período" in shown(calls)
    calls = await chat.send("30/11/2026 a 01/09/2026")
    assert "A data final vem antes da inicial" in shown(calls)
    assert "dd/mm/aaaa a dd/mm/aaaa" in shown(calls)
    calls = await chat.send_photo()
    assert texts.EXPECTING_TEXT in shown(calls)
    calls = await chat.send("01/09/2026 a 30/11/2026")
    said = shown(calls)
    assert "01/09/2026 a 30/11/2026" in said
    assert "05/10/2026" in said and "05/11/2026" in said and "05/12/2026" not in said


async def test_menu_mid_flow_leaves_it_and_text_is_not_swallowed(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:invoices")
    await chat.tap("🗓 Outro período")
    await chat.tap("✍️ Outro período")
    calls = await chat.send("/menu")
    assert "O que você precisa?" in shown(calls)
    calls = await chat.send("10/2026")
    assert "Não entendi" in shown(calls)


async def test_300_invoices_are_paged_within_telegram_limits(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = ManyRecords(TODAY, 300)
    many.install(env.backend, monkeypatch)
    await login(chat, PERSON)
    calls = await chat.press("menu:invoices")
    said = shown(calls)
    assert "300 faturas" in said and "Página 1 de 30." in said
    assert sum(1 for _, data in calls[-1].buttons if data.startswith("inv:show:")) == 10
    assert ("1/30", "inv:page:0") in calls[-1].buttons
    calls += await chat.tap("▶️")
    assert "Página 2 de 30." in chat.screen()
    calls += await chat.press("inv:page:9999")  # forged: clamped to the last page
    assert "Página 30 de 30." in chat.screen()
    last = await chat.tap("Ver boleto")
    calls += last
    linha, pix = copy_values(last)
    assert is_valid_linha_digitavel(linha) and is_valid_brcode(pix)
    # Pressing the page counter changes nothing: only the answer, no identical edit.
    counter = await chat.press("inv:page:29", chat.message_with_button("inv:page:29"))
    assert methods(counter) == ["answerCallbackQuery"]
    assert_within_limits(calls + counter)
    assert all(len(c.text) <= 4096 for c in env.api.calls)


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.press("menu:invoices")
    assert "não respondeu" in shown(calls)
    assert ("⬅️ Menu", "menu:home") in calls[-1].buttons
    env.backend.outage = False  # type: ignore[union-attr]
    await chat.press("menu:invoices")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Ver boleto 10/11/2026")
    assert "não respondeu" in shown(calls) and copy_values(calls) == []
    assert methods(calls).count("answerCallbackQuery") == 1


async def test_a_restart_mid_flow_keeps_the_step(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:invoices")
    await chat.tap("🗓 Outro período")
    await chat.tap("✍️ Outro período")
    await env.launch()  # the bot restarts while the subscriber is typing the period
    chat = env.chat()
    calls = await chat.send("10/2026")
    said = shown(calls)
    assert "outubro de 2026" in said and "05/10/2026" in said
