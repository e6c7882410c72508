"""Issue 21, "Polish": small things a newcomer noticed, each driven through updates."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, timedelta

from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from backend_client.models import DateRange
from bot.conversations.calls import masked_number
from bot.notifications.jobs import deliver_due, poll_and_plan
from bot.ui.formatting import day_time
from tests.support.billing import copy_values
from tests.support.bot_env import COMPANY, PERSON, TODAY, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.test_attachments import PNG, ZIP, at_attachments
from tests.test_invoices import sent_file
from tests.test_linking import _log_in_to_the_offer

NOVEMBER = DateRange(TODAY.replace(day=1), TODAY.replace(day=30))


async def test_call_records_are_newest_first_like_connections(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    session = await env.backend.login(COMPANY.document, COMPANY.password)
    records = await env.backend.list_call_records(session, "ln-1", NOVEMBER)
    newest = max(records, key=lambda record: record.started_at)
    oldest = min(records, key=lambda record: record.started_at)
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Todos")
    said = shown(await chat.tap("Este mês"))
    first_call = said.split("🕑", 2)[1]
    assert day_time(newest.started_at) in first_call
    assert masked_number(newest.called_number) in first_call
    assert day_time(oldest.started_at) not in said  # on the last page


async def test_one_connection_is_singular_without_an_order_to_tell(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    session = await env.backend.login(PERSON.document, PERSON.password)
    day = TODAY
    for offset in range(1, 60):
        day = TODAY - timedelta(days=offset)
        if len(await env.backend.list_connection_sessions(session, "l1", DateRange(day, day))) == 1:
            break
    else:
        raise AssertionError("no day with a single connection in the demo data")
    await login(chat, PERSON)
    await chat.press("menu:connections")
    await chat.tap("Outro período")
    typed = f"{day:%d/%m/%Y} a {day:%d/%m/%Y}"
    said = shown(await chat.send(typed))
    assert "— 1 conexão" in said
    assert "1 conexões" not in said
    assert "mais recentes primeiro" not in said
    said = shown(await chat.press("connections:period:this_month"))
    assert "conexões" in said and "mais recentes primeiro" in said


async def test_a_company_is_greeted_by_its_name_and_its_data_says_razao_social(
    chat: ChatDriver,
) -> None:
    await login(chat, COMPANY)
    said = shown(await chat.send("/menu"))
    assert f"olá, {COMPANY.name}!" in said
    said = shown(await chat.press("menu:account"))
    assert f"Razão social: {COMPANY.name}" in said
    assert "Nome:" not in said


async def test_a_person_is_greeted_by_the_first_name_and_their_data_says_nome(
    chat: ChatDriver,
) -> None:
    await login(chat, PERSON)
    said = shown(await chat.send("/menu"))
    assert f"olá, {PERSON.name.split()[0]}!" in said
    said = shown(await chat.press("menu:account"))
    assert f"Nome: {PERSON.name}" in said
    assert "Razão social" not in said


async def test_start_answers_in_one_message_welcome_and_cpf_request(chat: ChatDriver) -> None:
    calls = await chat.send("/start")
    sent = [call for call in calls if call.method == "sendMessage"]
    assert len(sent) == 1
    assert "Olá!" in sent[0].text and "CPF ou CNPJ" in sent[0].text


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_attachment_refusals_name_the_type_in_words_never_a_mime_type(
    chat: ChatDriver,
) -> None:
    await at_attachments(chat)
    said = shown(await chat.send_document(ZIP, "faturas.xlsx", XLSX))
    assert "Não aceito o arquivo faturas.xlsx: é uma planilha do Excel" in said
    assert "application/" not in said and "spreadsheetml" not in said
    said = shown(await chat.send_document(ZIP, "fotos.zip", "application/zip"))
    assert "é um arquivo compactado" in said and "application/zip" not in said
    said = shown(await chat.send_document(ZIP, "coisa.xyz", "application/x-coisa"))
    assert "esse tipo de arquivo não é permitido" in said and "x-coisa" not in said


async def test_a_png_photo_keeps_its_name(chat: ChatDriver) -> None:
    await at_attachments(chat)
    said = shown(await chat.send_photo(PNG))  # the local Bot API passes a PNG on as it is
    assert "Anexo recebido: foto-1.jpg " in said
    said = shown(await chat.tap("Concluir anexos"))
    assert "foto-1.jpg" in said and ".jpg.png" not in said


_RECT = re.compile(r"([\d.]+) ([\d.]+) ([\d.]+) -([\d.]+) re S")
_TEXT = re.compile(r"BT ([\d.]+) ([\d.]+) Td \((.*?)\) Tj ET")


async def test_the_boleto_pdf_keeps_the_payers_address_inside_its_box(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:invoices")
    shows = [data for _, data in calls[-1].buttons if data.startswith("inv:show:")]
    await chat.press(shows[0])
    calls = await chat.tap("Boleto em PDF")
    _, content = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S)
    page = next(
        text
        for text in (zlib.decompress(stream).decode("latin-1") for stream in streams)
        if "Pagador" in text
    )
    # The slip's Pagador box is the last box before the payer's address line (in PDF points,
    # y up): the address's baseline and its full width lie inside that box.
    address_at = page.index("Rua Coronel Quirino")
    x, top, width, height = map(float, _RECT.findall(page[:address_at])[-1])
    label = [m for m in _TEXT.finditer(page[:address_at]) if m.group(3) == "Pagador"][-1]
    assert float(label.group(2)) < top
    line = next(m for m in _TEXT.finditer(page, address_at - 40) if "Quirino" in m.group(3))
    baseline = float(line.group(2))
    assert top - height + 2 < baseline < top  # descenders stay inside too
    assert x < float(line.group(1)) < x + width


async def test_cancelar_with_nothing_running_says_so(chat: ChatDriver) -> None:
    assert "Não há nada em andamento para cancelar" in shown(await chat.send("/cancelar"))
    await login(chat, PERSON)
    await chat.press("menu:invoices")
    said = shown(await chat.send("/cancelar"))
    assert "cancelei" in said and "Não há nada" not in said
    assert "Não há nada em andamento para cancelar" in shown(await chat.send("/cancelar"))


async def test_a_pending_statement_line_has_its_own_ver_boleto(chat: ChatDriver) -> None:
    """Issue 21 ("Fewer taps"): from Extrato Financeiro straight to the boleto and PIX."""
    await login(chat, PERSON)
    await chat.press("menu:statement")
    calls = await chat.tap("12 meses")
    labels = [label for label, data in calls[-1].buttons if data.startswith("inv:show:")]
    assert labels == ["🔴 Ver boleto 10/11/2026 · R$ 99,90"]  # the pending one only, not paid
    calls = await chat.tap("Ver boleto 10/11/2026")
    said = shown(calls)
    assert "Fatura 11/2026" in said and "vencida" in said
    linha, pix = copy_values(calls)
    assert is_valid_linha_digitavel(linha) and is_valid_brcode(pix)
    calls = await chat.tap("Boleto em PDF")
    assert "sendDocument" in [call.method for call in calls]


async def test_a_reminder_has_ver_boleto_and_boleto_em_pdf(env: BotEnv, chat: ChatDriver) -> None:
    """Issue 21 ("Fewer taps"): from the reminder straight to the boleto, or its PDF."""
    await _log_in_to_the_offer(chat)
    await chat.tap("Maria Aparecida dos Santos")
    services = env.app.bot_data["services"]
    env.clock.now = datetime(2026, 12, 7, 13, tzinfo=UTC)  # 10:00 in São Paulo, 3 days before
    await poll_and_plan(services.detector, services.planner, services.clock())
    report = await deliver_due(env.app.bot, services.notifications, services.clock)
    assert report.sent == 1
    sent = [c for c in env.api.calls if c.method == "sendMessage"][-4:]
    assert "vence em 3 dias, em 10/12/2026" in shown(sent[:1])
    # Maria's November invoice is overdue too: a third button opens all her open invoices.
    assert sent[-1].buttons == [
        ("🧾 Ver boleto", "inv:show:inv-1012"),
        ("📄 Boleto em PDF", "inv:pdf:inv-1012"),
        ("🧾 Ver todas as faturas em aberto", "menu:invoices"),
    ]
    await login(chat, PERSON)  # days later: the session may have expired meanwhile
    calls = await chat.tap("Ver boleto")
    assert "Fatura 12/2026" in shown(calls)
    linha, pix = copy_values(calls)
    assert is_valid_linha_digitavel(linha) and is_valid_brcode(pix)
    calls = await chat.tap("Boleto em PDF")
    assert "sendDocument" in [call.method for call in calls]
    calls = await chat.tap("Ver todas as faturas em aberto")
    assert "Faturas em aberto" in shown(calls)
    assert "11/2026" in shown(calls) and "12/2026" in shown(calls)


async def test_extrato_de_ligacao_downloads_as_pdf_and_csv_for_excel(
    env: BotEnv, chat: ChatDriver
) -> None:
    """Issue 21: companies reconcile the chosen period's calls in a spreadsheet."""
    assert env.backend is not None
    session = await env.backend.login(COMPANY.document, COMPANY.password)
    records = await env.backend.list_call_records(session, "ln-1", NOVEMBER)
    await login(chat, COMPANY)
    await chat.press("menu:calls")
    await chat.tap("Todos")
    await chat.tap("Este mês")
    calls = await chat.tap("Baixar planilha")
    name, content = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    assert name == "extrato-de-ligacao-novembro-de-2026.csv"
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads "Número" right
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Data e hora;Número;Tipo;Duração;Valor (R$)"
    assert len(lines) == 1 + len(records)  # the whole period, not the page
    newest = max(records, key=lambda record: record.started_at)
    first = lines[1].split(";")
    assert first[0] == day_time(newest.started_at)
    assert first[1] == masked_number(newest.called_number)
    assert first[4] == f"{newest.cost:.2f}".replace(".", ",")
    calls = await chat.tap("Baixar PDF")
    name, content = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    assert name == "extrato-de-ligacao-novembro-de-2026.pdf" and content.startswith(b"%PDF")
    assert "Este mês" not in shown(calls)  # the statement stays on screen, untouched


async def test_extrato_de_conexao_downloads_as_pdf_and_csv(env: BotEnv, chat: ChatDriver) -> None:
    assert env.backend is not None
    session = await env.backend.login(PERSON.document, PERSON.password)
    sessions = await env.backend.list_connection_sessions(session, "l1", NOVEMBER)
    await login(chat, PERSON)
    await chat.press("menu:connections")
    await chat.tap("Este mês")
    calls = await chat.tap("Baixar planilha")
    name, content = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    assert name == "extrato-de-conexao-novembro-de-2026.csv"
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Início;Fim;Duração (min);IP;Download (bytes);Upload (bytes)"
    assert len(lines) == 1 + len(sessions)
    running = max(sessions, key=lambda item: item.started_at)  # newest first, still running
    first = lines[1].split(";")
    assert first[:2] == [day_time(running.started_at), "em andamento"]
    assert first[4] == str(running.download_bytes)
    calls = await chat.tap("Baixar PDF")
    name, content = sent_file(next(c for c in calls if c.method == "sendDocument"), "document")
    assert name == "extrato-de-conexao-novembro-de-2026.pdf" and content.startswith(b"%PDF")


async def test_extrato_financeiro_downloads_as_pdf(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:statement")
    await chat.tap("12 meses")
    calls = await chat.tap("Baixar PDF")
    document = next(c for c in calls if c.method == "sendDocument")
    name, content = sent_file(document, "document")
    assert name == "extrato-financeiro-01-12-2025-a-30-11-2026.pdf"
    assert content.startswith(b"%PDF")
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S)
    page = "".join(
        zlib.decompress(stream).decode("latin-1")
        for stream in streams
        if stream.startswith(b"x")  # zlib: the page contents (fonts are not embedded)
    )
    assert "Fatura 11/2026 - Fibra 300 Mega" in page and "Pendente, vencida" in page
    assert "Total pago: R$ 1.003,20" in page
    assert "Extrato Financeiro" in shown(calls)  # the caption names what it is
