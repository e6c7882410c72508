"""Atendimentos as a subscriber sees them: tabs, history, provider files, new tickets, replies."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from backend_client.errors import Rejected, Unavailable
from backend_client.features import Feature
from backend_client.models import BackendSession, Document, NewTicket, Ticket, TicketStatus
from bot.ui import texts as common_texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, launch_lacking, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TXT = b"Teste no cabo: 312 Mbps de download, 158 de upload.\n"

# Seeded tickets of PERSON (Maria): tk-1 closed (PDF from the provider), tk-2 pending (PNG from
# the provider), tk-3 open; tk-4 belongs to COMPANY.
CLOSED, PENDING, OPEN, OTHERS = "tk-1", "tk-2", "tk-3", "tk-4"
CLOSED_PROTOCOL = "20260909000001"


async def backend_session(env: BotEnv, account: Any = PERSON) -> BackendSession:
    assert env.backend is not None
    return await env.backend.login(account.document, account.password)


async def all_tickets(env: BotEnv, account: Any = PERSON) -> list[Ticket]:
    assert env.backend is not None
    return await env.backend.list_tickets(await backend_session(env, account))


def protocol_messages(calls: list[Call]) -> list[str]:
    """sendMessage texts that are a protocol number alone in a <code> block."""
    return [
        match.group(1)
        for call in calls
        if call.method == "sendMessage"
        and (match := re.fullmatch(r"<code>(\d+)</code>", str(call.params.get("text"))))
    ]


def answers(calls: list[Call]) -> int:
    return methods(calls).count("answerCallbackQuery")


async def new_ticket_until_attachments(
    chat: ChatDriver, description: str = "Sem internet desde ontem à noite, luz LOS acesa."
) -> None:
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.press("tk:subject:sem-conexao")
    calls = await chat.send(description)
    assert "Anexos (opcional)" in shown(calls)


# --- following tickets -------------------------------------------------------------------------
async def test_tabs_show_each_ticket_with_protocol_subject_dates_and_status(
    chat: ChatDriver,
) -> None:
    await login(chat)
    calls = await chat.press("menu:tickets")
    said = shown(calls)
    assert "Atendimentos — abertos" in said
    assert "Protocolo 20261127000001" in said
    assert "Assunto: Financeiro" in said
    assert "Aberto em 27/11/2026" in said and "Aberto" in said
    assert "Última atualização: 27/11/2026 10:02" in said
    labels = [label for label, _ in calls[-1].buttons]
    assert "● Abertos (1)" in labels and "Pendentes (1)" in labels and "Fechados (1)" in labels

    said = shown(await chat.tap("Pendentes"))
    assert "pendentes" in said and "Lentidão" in said and "Pendente" in said
    assert "Última atualização: 23/11/2026 09:05" in said
    calls = await chat.tap("Fechados")
    said = shown(calls)
    assert "Sem conexão" in said and "Fechado" in said and CLOSED_PROTOCOL in said
    assert "● Fechados (1)" in [label for label, _ in calls[-1].buttons]
    assert answers(calls) == 1


async def test_pressing_the_active_tab_again_changes_nothing(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    message_id = chat.last_bot_message_id()
    calls = await chat.press("tk:tab:open", message_id)
    assert methods(calls) == ["answerCallbackQuery"]


async def test_an_empty_tab_says_so_and_offers_a_new_ticket(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:tickets")
    calls = await chat.tap("Pendentes")
    assert "não tem atendimentos pendentes" in shown(calls)
    assert ("➕ Novo atendimento", "tk:new") in calls[-1].buttons


async def test_long_lists_are_paged_and_forged_pages_clamped(env: BotEnv, chat: ChatDriver) -> None:
    assert env.backend is not None
    session = await backend_session(env)
    for number in range(7):
        await env.backend.open_ticket(
            session, NewTicket("outro", f"Pedido de teste número {number} para paginar.")
        )
    await login(chat)
    calls = await chat.press("menu:tickets")
    said = shown(calls)
    assert "página 1 de 2" in said and "● Abertos (8)" in [b for b, _ in calls[-1].buttons]
    assert len([d for _, d in calls[-1].buttons if d.startswith("tk:view:")]) == 5
    calls = await chat.tap("▶️")
    assert "página 2 de 2" in shown(calls)
    assert len([d for _, d in calls[-1].buttons if d.startswith("tk:view:")]) == 3
    assert "Protocolo 20261127000001" in shown(calls)  # the oldest open one is last
    calls = await chat.press("tk:tab:open:page:-3")
    assert "página 1 de 2" in shown(calls)
    calls = await chat.press("tk:tab:open:page:999")
    assert "página 2 de 2" in shown(calls)
    calls = await chat.press("tk:tab:../../etc")
    assert answers(calls) == 1  # an unknown tab shows the open ones


async def test_detail_shows_who_wrote_when_and_what_with_attachments(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Fechados")
    calls = await chat.tap(CLOSED_PROTOCOL)
    said = shown(calls)
    assert f"Atendimento {CLOSED_PROTOCOL}" in said
    assert "Você · 09/09/2026 08:12" in said
    assert "Suporte Conecta Vale · 09/09/2026 08:51" in said
    assert "A luz LOS do modem está vermelha." in said
    assert "📎 laudo-visita-tecnica.pdf" in said
    data = [d for _, d in calls[-1].buttons]
    assert "tk:att:tk-1:att-1" in data
    assert not any(d.startswith("tk:reply:") for d in data)  # a closed ticket has no Responder
    assert f"tk:new:{CLOSED}" in data
    calls = await chat.tap("Atendimentos")
    assert "Atendimentos — fechados" in shown(calls)  # back to the tab it came from


async def test_provider_files_come_as_photo_or_document_with_their_bytes(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    session = await backend_session(env)
    await login(chat)
    await chat.press(f"tk:view:{PENDING}")
    assert "💬 Responder" in [label for label, _ in env.api.calls[-1].buttons]
    calls = await chat.tap("como-testar-no-cabo.png")
    assert methods(calls) == ["answerCallbackQuery", "sendPhoto"]
    png = await env.backend.get_ticket_attachment(session, PENDING, "att-2")
    sent = env.api.sent_files[-1]
    assert (sent.method, sent.content, sent.filename) == ("sendPhoto", png.content, png.filename)

    await chat.press(f"tk:view:{CLOSED}")
    calls = await chat.tap("laudo-visita-tecnica.pdf")
    assert methods(calls) == ["answerCallbackQuery", "sendDocument"]
    report = await env.backend.get_ticket_attachment(session, CLOSED, "att-1")
    sent = env.api.sent_files[-1]
    assert sent.filename == "laudo-visita-tecnica.pdf" and sent.content == report.content
    assert sent.content is not None and sent.content.startswith(b"%PDF")


async def test_a_long_history_is_split_in_parts_under_the_limit(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    for number in range(5):
        text = f"Mensagem {number}: " + "Testes & medições <ok> " * 120
        await env.backend.simulate_provider_reply(OPEN, text)
    huge = "FIM " + "palavra " * 1400 + "ÚLTIMA"  # over 4096 characters by itself
    await env.backend.simulate_provider_reply(OPEN, huge)
    await login(chat)
    calls = await chat.press(f"tk:view:{OPEN}")
    said = shown(calls)
    match = re.search(r"parte (\d+) de (\d+)", said)
    assert match and match.group(1) == match.group(2)  # opens on the newest part
    pages = int(match.group(2))
    assert pages >= 4 and "ÚLTIMA" in said and "(continuação)" in said
    seen = said
    for _ in range(pages - 1):
        calls = await chat.tap("◀️")
        seen += shown(calls)
    assert "parte 1 de" in shown(calls) and "Paguei a fatura" in shown(calls)
    for number in range(5):
        assert f"Mensagem {number}:" in seen
    assert "Testes & medições <ok>" in seen
    # The fake Telegram refuses any text over 4096 characters: every part went through.
    assert all(len(c.text) <= 4096 for c in env.api.calls if c.method == "editMessageText")


# --- new ticket --------------------------------------------------------------------------------
async def test_new_ticket_with_a_photo_and_a_pdf_is_stored_with_its_files(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    calls = await chat.tap("Novo atendimento")
    labels = [label for label, _ in calls[-1].buttons]
    assert {"Sem conexão", "Lentidão", "Financeiro", "Mudança de endereço"} <= set(labels)
    calls = await chat.tap("Sem conexão")
    said = shown(calls)
    assert "Descreva" in said and "contrato" not in said.lower()  # one contract: not asked
    await chat.send("Sem internet desde ontem & a luz <LOS> está vermelha.")
    calls = await chat.send_photo(JPEG)
    assert "Anexo recebido: foto-1.jpg (1 de 5)" in shown(calls)
    calls = await chat.send_document(PDF, "laudo técnico.pdf", "application/pdf")
    assert "Anexo recebido: laudo técnico.pdf (2 de 5)" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    said = shown(calls)
    assert "Confira o seu novo atendimento" in said and "Assunto: Sem conexão" in said
    assert "Contrato: " in said and "a luz <LOS> está vermelha" in said
    assert "foto-1.jpg" in said and "laudo técnico.pdf" in said
    before = len(await all_tickets(env))

    calls = await chat.tap("Confirmar")
    protocols = protocol_messages(calls)
    assert len(protocols) == 1
    assert "Atendimento aberto" in shown(calls)
    assert "Atendimento enviado" in shown(calls)  # the summary lost its buttons
    tickets = await all_tickets(env)
    assert len(tickets) == before + 1
    created = next(t for t in tickets if t.protocol == protocols[0])
    assert env.backend is not None
    session = await backend_session(env)
    full = await env.backend.get_ticket(session, created.id)
    assert full.status is TicketStatus.OPEN and full.contract_id == "c1"
    first = full.messages[0]
    assert first.text == "Sem internet desde ontem & a luz <LOS> está vermelha."
    stored = {a.filename: a for a in first.attachments}
    assert set(stored) == {"foto-1.jpg", "laudo técnico.pdf"}
    photo = await env.backend.get_ticket_attachment(session, created.id, stored["foto-1.jpg"].id)
    assert (photo.content, photo.content_type) == (JPEG, "image/jpeg")
    pdf = await env.backend.get_ticket_attachment(
        session, created.id, stored["laudo técnico.pdf"].id
    )
    assert (pdf.content, pdf.content_type) == (PDF, "application/pdf")
    # The new ticket is there to follow.
    calls = await chat.tap("Ver atendimento")
    assert protocols[0] in shown(calls) and "foto-1.jpg" in shown(calls)


async def test_a_company_with_two_contracts_picks_one(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    calls = await chat.tap("Lentidão")
    said = shown(calls)
    assert "Sobre qual contrato" in said
    contract_buttons = [d for _, d in calls[-1].buttons if d.startswith("tk:contract:")]
    assert contract_buttons == ["tk:contract:c3", "tk:contract:c4"]
    calls = await chat.press("tk:contract:c999")  # forged: asked again
    assert "Sobre qual contrato" in shown(calls)
    calls = await chat.send("qualquer coisa")  # typed instead of pressing: asked again
    assert "escolha uma das opções" in shown(calls)
    calls = await chat.press("tk:contract:c4")
    assert "Descreva" in shown(calls)
    await chat.send("A filial está muito lenta desde segunda-feira.")
    calls = await chat.tap("Pular")
    assert "Sem anexos." in shown(calls) and "Contrato: 2025/0233" in shown(calls)
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    created = next(t for t in await all_tickets(env, COMPANY) if t.protocol == protocol)
    assert created.contract_id == "c4" and created.subject == "Lentidão"


async def test_bad_descriptions_are_explained_and_the_step_waits(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.tap("Outro")
    calls = await chat.send("curto")
    assert "curta demais" in shown(calls)
    calls = await chat.send("x" * 3001)
    assert "o máximo é 3000" in shown(calls)
    calls = await chat.send_message_with(
        sticker={
            "file_id": "s1",
            "file_unique_id": "us1",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    )
    assert "descrição por escrito" in shown(calls)
    calls = await chat.send("Quero saber sobre a troca do roteador.")
    assert "Anexos (opcional)" in shown(calls)


async def test_a_photo_before_the_description_is_kept(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.tap("Sem conexão")
    calls = await chat.send_photo(JPEG)
    assert "Guardei" in shown(calls) and "foto-1.jpg" in shown(calls)
    await chat.send("O modem está com a luz vermelha piscando.")
    calls = await chat.tap("Concluir anexos")
    assert "foto-1.jpg" in shown(calls)
    calls = await chat.tap("Confirmar")
    assert len(protocol_messages(calls)) == 1


async def test_cancel_discards_the_draft_and_typing_goes_nowhere(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    before = len(await all_tickets(env))
    await new_ticket_until_attachments(chat)
    calls = await chat.tap("Cancelar")
    assert "descartei" in shown(calls)
    calls = await chat.send("isso não é uma descrição")
    assert "Não entendi" in shown(calls)
    assert len(await all_tickets(env)) == before
    calls = await chat.press("tk:confirm")  # a stale Confirmar
    assert "não está mais disponível" in shown(calls) and answers(calls) == 1
    assert len(await all_tickets(env)) == before


async def test_menu_mid_flow_leaves_it_and_drops_the_draft(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.tap("Financeiro")
    calls = await chat.send("/menu")
    assert "O que você precisa?" in shown(calls)
    calls = await chat.send("Minha fatura veio com valor errado.")
    assert "Não entendi" in shown(calls)  # not taken as a description
    assert "draft" not in env.app.chat_data[chat.user_id].get("tickets", {})
    calls = await chat.send_photo(JPEG)
    assert "Anexo recebido" not in shown(calls)


async def test_backend_down_during_creation_then_retry_creates_one_ticket(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    await login(chat)
    before = len(await all_tickets(env))
    await new_ticket_until_attachments(chat)
    await chat.send_photo(JPEG)
    await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    await chat.tap("Concluir anexos")
    env.backend.outage = True
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "não respondeu" in said and "ainda não foi registrado" in said
    assert "foto-1.jpg" in said and "laudo.pdf" in said  # what was not sent
    assert "✅ Confirmar" in [label for label, _ in calls[-1].buttons]
    assert protocol_messages(calls) == []
    env.backend.outage = False
    calls = await chat.tap("Confirmar")
    assert len(protocol_messages(calls)) == 1
    tickets = await all_tickets(env)
    assert len(tickets) == before + 1


async def test_a_retry_after_a_lost_answer_reuses_the_idempotency_key(
    env: BotEnv, chat: ChatDriver
) -> None:
    """The backend created the ticket but the answer never came back: no second ticket."""
    backend = env.backend
    assert backend is not None
    real_open = backend.open_ticket
    keys: list[str | None] = []

    async def lose_first_answer(session: BackendSession, ticket: NewTicket) -> Ticket:
        keys.append(ticket.idempotency_key)
        created = await real_open(session, ticket)
        if len(keys) == 1:
            raise Unavailable("the answer was lost on the way back")
        return created

    backend.open_ticket = lose_first_answer  # type: ignore[method-assign]
    await login(chat)
    before = len(await all_tickets(env))
    await new_ticket_until_attachments(chat)
    await chat.tap("Pular")
    calls = await chat.tap("Confirmar")
    assert "não respondeu" in shown(calls)
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    assert (
        len(keys) == 2 and keys[0] == keys[1] and keys[0] and re.fullmatch(r"[0-9a-f]{32}", keys[0])
    )
    tickets = await all_tickets(env)
    assert len(tickets) == before + 1
    assert [t.protocol for t in tickets].count(protocol) == 1


async def test_a_file_refused_by_the_provider_is_named_and_removed(
    env: BotEnv, chat: ChatDriver
) -> None:
    backend = env.backend
    assert backend is not None
    real_open = backend.open_ticket
    calls_made: list[NewTicket] = []

    async def refuse_the_pdf_once(session: BackendSession, ticket: NewTicket) -> Ticket:
        calls_made.append(ticket)
        if len(calls_made) == 1:
            raise Rejected("O arquivo laudo.pdf está corrompido.")
        return await real_open(session, ticket)

    backend.open_ticket = refuse_the_pdf_once  # type: ignore[method-assign]
    await login(chat)
    await new_ticket_until_attachments(chat, "A conexão cai toda hora, segue o laudo.")
    await chat.send_photo(JPEG)
    await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    await chat.tap("Concluir anexos")
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "recusou o anexo laudo.pdf" in said and "corrompido" in said
    assert "Anexos (1):" in said and "foto-1.jpg" in said
    assert "A conexão cai toda hora" in said  # the text is kept
    calls = await chat.tap("Confirmar")
    assert len(protocol_messages(calls)) == 1
    assert [d.filename for d in calls_made[-1].attachments] == ["foto-1.jpg"]
    assert calls_made[0].idempotency_key == calls_made[1].idempotency_key


async def test_a_restart_mid_draft_downloads_the_files_again(env: BotEnv) -> None:
    chat = env.chat()
    await login(chat)
    await new_ticket_until_attachments(chat)
    await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    await chat.send_document(TXT, "velocidade.txt", "text/plain")
    await env.launch()  # the in-memory bytes are gone; the draft is persisted
    chat = env.chat()
    downloads = len(env.api.downloads)
    calls = await chat.tap("Concluir anexos")
    assert "laudo.pdf" in shown(calls) and "velocidade.txt" in shown(calls)
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    assert len(env.api.downloads) == downloads + 2
    assert env.backend is not None
    session = await backend_session(env)
    created = next(t for t in await all_tickets(env) if t.protocol == protocol)
    files = (await env.backend.get_ticket(session, created.id)).messages[0].attachments
    contents = {
        f.filename: (await env.backend.get_ticket_attachment(session, created.id, f.id)).content
        for f in files
    }
    assert contents == {"laudo.pdf": PDF, "velocidade.txt": TXT}


async def test_a_file_telegram_no_longer_gives_is_named_and_the_rest_kept(
    env: BotEnv,
) -> None:
    chat = env.chat()
    await login(chat)
    await new_ticket_until_attachments(chat)
    await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    await chat.send_photo(JPEG)
    await chat.tap("Concluir anexos")
    broken = env.api.downloads[0]  # the PDF
    await env.launch()
    chat = env.chat()
    env.api.broken_downloads.add(broken)
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Não consegui baixar do Telegram: laudo.pdf" in said
    assert "Anexos (1):" in said and "foto-1.jpg" in said and "Sem internet desde ontem" in said
    assert protocol_messages(calls) == []
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    assert env.backend is not None
    created = next(t for t in await all_tickets(env) if t.protocol == protocol)
    full = await env.backend.get_ticket(await backend_session(env), created.id)
    assert [a.filename for a in full.messages[0].attachments] == ["foto-1.jpg"]


# --- replying ----------------------------------------------------------------------------------
async def test_reply_with_an_attachment_reaches_the_ticket(env: BotEnv, chat: ChatDriver) -> None:
    assert env.backend is not None
    await login(chat)
    await chat.press(f"tk:view:{PENDING}")
    calls = await chat.tap("Responder")
    assert "Responder ao atendimento 20261122000001" in shown(calls)
    await chat.send("Fiz o teste no cabo, segue o resultado.")
    calls = await chat.send_document(TXT, "resultado.txt", "text/plain")
    assert "Anexo recebido: resultado.txt" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    assert "Confira a sua resposta" in shown(calls)
    calls = await chat.tap("Confirmar")
    assert "Resposta enviada" in shown(calls)
    session = await backend_session(env)
    ticket = await env.backend.get_ticket(session, PENDING)
    last = ticket.messages[-1]
    assert last.text == "Fiz o teste no cabo, segue o resultado."
    assert ticket.status is TicketStatus.OPEN  # back to the provider
    [info] = last.attachments
    stored = await env.backend.get_ticket_attachment(session, PENDING, info.id)
    assert (stored.filename, stored.content, stored.content_type) == (
        "resultado.txt",
        TXT,
        "text/plain",
    )


async def test_a_photo_with_caption_is_a_whole_reply(env: BotEnv, chat: ChatDriver) -> None:
    assert env.backend is not None
    await login(chat)
    await chat.press(f"tk:view:{OPEN}")
    await chat.tap("Responder")
    calls = await chat.send_photo(JPEG, caption="Segue o comprovante de novo.")
    assert "legenda" in shown(calls)
    await chat.tap("Concluir anexos")
    await chat.tap("Confirmar")
    ticket = await env.backend.get_ticket(await backend_session(env), OPEN)
    assert ticket.messages[-1].text == "Segue o comprovante de novo."
    assert [a.filename for a in ticket.messages[-1].attachments] == ["foto-1.jpg"]


async def test_a_reply_can_begin_with_a_photo_and_get_its_text_after(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    await login(chat)
    await chat.press(f"tk:view:{PENDING}")
    await chat.tap("Responder")
    calls = await chat.send_photo(JPEG)
    assert "Anexo recebido: foto-1.jpg" in shown(calls) and "escreva também" in shown(calls)
    calls = await chat.send("Print do teste de velocidade.")
    assert "Mensagem guardada" in shown(calls)
    calls = await chat.send("mais texto")
    assert "Agora é a vez dos anexos" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    assert "Print do teste de velocidade." in shown(calls)
    await chat.tap("Confirmar")
    ticket = await env.backend.get_ticket(await backend_session(env), PENDING)
    assert ticket.messages[-1].text == "Print do teste de velocidade."
    assert [a.filename for a in ticket.messages[-1].attachments] == ["foto-1.jpg"]


async def test_a_closed_ticket_cannot_be_answered_but_can_be_followed_up(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press(f"tk:view:{CLOSED}")
    calls = await chat.press(f"tk:reply:{CLOSED}")  # forged: there is no such button
    said = shown(calls)
    assert "fechado e não pode mais ser respondido" in said and answers(calls) == 1
    calls = await chat.tap("Abrir novo atendimento sobre este")
    assert CLOSED_PROTOCOL in shown(calls)
    await chat.tap("Sem conexão")
    await chat.send("A internet voltou a cair do mesmo jeito.")
    calls = await chat.tap("Pular")
    assert f"Referente ao atendimento anterior, protocolo {CLOSED_PROTOCOL}." in shown(calls)
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    assert env.backend is not None
    created = next(t for t in await all_tickets(env) if t.protocol == protocol)
    full = await env.backend.get_ticket(await backend_session(env), created.id)
    assert full.messages[0].text.startswith(
        f"Referente ao atendimento anterior, protocolo {CLOSED_PROTOCOL}."
    )
    assert full.messages[0].text.endswith("A internet voltou a cair do mesmo jeito.")
    closed = await env.backend.get_ticket(await backend_session(env), CLOSED)
    assert len(closed.messages) == 4  # nothing was appended to the closed ticket


async def test_a_ticket_closed_while_replying_keeps_the_text_for_a_new_one(
    env: BotEnv, chat: ChatDriver
) -> None:
    assert env.backend is not None
    await login(chat)
    await chat.press(f"tk:view:{OPEN}")
    await chat.tap("Responder")
    await chat.send("Ainda aparece em aberto no aplicativo.")
    await chat.send_photo(JPEG)
    await chat.tap("Concluir anexos")
    await env.backend.simulate_provider_reply(OPEN, "Pagamento localizado.", close=True)
    calls = await chat.tap("Confirmar")
    assert "foi fechado enquanto você escrevia" in shown(calls)
    await chat.tap("Abrir novo atendimento sobre este")
    calls = await chat.tap("Financeiro")
    said = shown(calls)  # straight to the summary: the text and photo came along
    assert "Ainda aparece em aberto no aplicativo." in said and "foto-1.jpg" in said
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    created = next(t for t in await all_tickets(env) if t.protocol == protocol)
    full = await env.backend.get_ticket(await backend_session(env), created.id)
    assert "Ainda aparece em aberto" in full.messages[0].text
    assert [a.filename for a in full.messages[0].attachments] == ["foto-1.jpg"]


async def test_a_reply_that_did_reach_the_backend_is_not_sent_twice(
    env: BotEnv, chat: ChatDriver
) -> None:
    backend = env.backend
    assert backend is not None
    real_reply = backend.reply_ticket
    attempts: list[str] = []

    async def lose_first_answer(
        session: BackendSession, ticket_id: str, text: str, attachments: tuple[Document, ...] = ()
    ) -> Ticket:
        attempts.append(text)
        ticket = await real_reply(session, ticket_id, text, attachments)
        if len(attempts) == 1:
            raise Unavailable("lost")
        return ticket

    backend.reply_ticket = lose_first_answer  # type: ignore[method-assign]
    await login(chat)
    await chat.press(f"tk:view:{PENDING}")
    await chat.tap("Responder")
    await chat.send("Resultado: 300 Mbps no cabo.")
    await chat.tap("Pular")
    calls = await chat.tap("Confirmar")
    assert "não respondeu" in shown(calls) and "ainda não foi registrada" in shown(calls)
    calls = await chat.tap("Confirmar")
    assert "Resposta enviada" in shown(calls)
    ticket = await backend.get_ticket(await backend_session(env), PENDING)
    assert [m.text for m in ticket.messages].count("Resultado: 300 Mbps no cabo.") == 1
    assert len(attempts) == 1  # the retry saw it was already there


# --- untrusted input ---------------------------------------------------------------------------
async def test_a_ticket_opened_without_protocol_announces_none(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert env.backend is not None
    original = env.backend.open_ticket

    async def without_protocol(session: BackendSession, ticket: NewTicket) -> Ticket:
        return dataclasses.replace(await original(session, ticket), protocol="")

    monkeypatch.setattr(env.backend, "open_ticket", without_protocol)
    await login(chat)
    await new_ticket_until_attachments(chat)
    await chat.tap("Pular")
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Atendimento aberto!" in said and "protocolo" not in said.lower()
    assert "<code></code>" not in [call.params.get("text") for call in calls]
    assert common_texts.UNEXPECTED_ERROR not in said


# --- a system that takes no attachments (IXC) ----------------------------------------------------
def _mentions_files(said: str) -> bool:
    said = said.lower()
    return any(word in said for word in ("foto", "document", "anexo", "arquivo"))


def _offered(calls: list[Call]) -> list[str]:
    return [data for call in calls for _, data in call.buttons]


async def test_without_attachments_a_ticket_is_opened_and_nothing_typed_is_lost(
    env: BotEnv,
) -> None:
    await launch_lacking(env, lacking={Feature.TICKET_ATTACHMENTS})
    chat = env.chat()
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    calls = await chat.press("tk:subject:sem-conexao")
    assert "Descreva" in shown(calls) and not _mentions_files(shown(calls))

    calls = await chat.send_photo(JPEG, caption="Foto do roteador")  # sent anyway
    said = shown(calls)
    assert "não recebe anexos" in said and "continua guardado" in said
    assert "Anexo recebido" not in said
    calls = await chat.send("Sem internet desde ontem, a luz LOS está vermelha.")
    said = shown(calls)
    assert "Confira o seu novo atendimento" in said and "Assunto: Sem conexão" in said
    assert "a luz LOS está vermelha" in said
    assert not _mentions_files(said)
    assert _offered(calls) == ["tk:confirm", "tk:cancel", "menu:home"]

    calls = await chat.send_document(PDF, "laudo.pdf", "application/pdf")  # on the summary
    assert "não recebe anexos" in shown(calls)
    assert "Anexo recebido" not in shown(calls)
    calls = await chat.press("tk:more")  # an old or forged button
    assert "Anexos (opcional)" not in shown(calls)

    before = len(await all_tickets(env))
    calls = await chat.tap("Confirmar")
    assert "Atendimento aberto" in shown(calls) and len(protocol_messages(calls)) == 1
    tickets = await all_tickets(env)
    assert len(tickets) == before + 1
    assert env.backend is not None
    created = next(t for t in tickets if t.protocol == protocol_messages(calls)[0])
    full = await env.backend.get_ticket(await backend_session(env), created.id)
    assert full.messages[0].text == "Sem internet desde ontem, a luz LOS está vermelha."
    assert not full.messages[0].attachments


async def test_without_attachments_a_reply_offers_none_and_takes_none(env: BotEnv) -> None:
    await launch_lacking(env, lacking={Feature.TICKET_ATTACHMENTS})
    chat = env.chat()
    await login(chat)
    calls = await chat.press(f"tk:view:{PENDING}")  # the provider's PNG is listed, not offered
    assert not [data for data in _offered(calls) if data.startswith("tk:att:")]
    assert "Toque num anexo" not in shown(calls)
    calls = await chat.tap("Responder")
    assert "Escreva a sua mensagem" in shown(calls) and not _mentions_files(shown(calls))
    calls = await chat.send_photo(JPEG)
    assert "não recebe anexos" in shown(calls)
    calls = await chat.send("Fiz o teste no cabo e continua lento.")
    assert "Confira a sua resposta" in shown(calls) and not _mentions_files(shown(calls))
    calls = await chat.tap("Confirmar")
    assert "Resposta enviada" in shown(calls)
    assert env.backend is not None
    ticket = await env.backend.get_ticket(await backend_session(env), PENDING)
    assert ticket.messages[-1].text == "Fiz o teste no cabo e continua lento."


async def test_attachments_refused_on_sending_leave_the_text_to_send_without_them(
    env: BotEnv,
) -> None:
    # The system does not say beforehand that it takes no files; it refuses them on sending.
    await launch_lacking(env, refusing={Feature.TICKET_ATTACHMENTS})
    chat = env.chat()
    await login(chat)
    await new_ticket_until_attachments(chat, "Sem internet desde ontem, a luz LOS está vermelha.")
    await chat.send_photo(JPEG)
    await chat.tap("Concluir anexos")
    before = len(await all_tickets(env))

    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "não recebe anexos" in said and "foto-1.jpg" in said
    assert "sem os anexos" in said and "a luz LOS está vermelha" in said
    assert "tk:more" not in _offered(calls) and "tk:confirm" in _offered(calls)
    assert len(await all_tickets(env)) == before  # nothing sent yet

    calls = await chat.tap("Confirmar")
    assert "Atendimento aberto" in shown(calls)
    tickets = await all_tickets(env)
    assert len(tickets) == before + 1
    assert env.backend is not None
    created = next(t for t in tickets if t.protocol == protocol_messages(calls)[0])
    full = await env.backend.get_ticket(await backend_session(env), created.id)
    assert full.messages[0].text == "Sem internet desde ontem, a luz LOS está vermelha."

    # Learned: the next ticket offers no files at all.
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    calls = await chat.press("tk:subject:sem-conexao")
    assert not _mentions_files(shown(calls))


async def test_a_reply_whose_attachments_are_refused_keeps_its_text(env: BotEnv) -> None:
    await launch_lacking(env, refusing={Feature.TICKET_ATTACHMENTS})
    chat = env.chat()
    await login(chat)
    await chat.press(f"tk:view:{PENDING}")
    await chat.tap("Responder")
    await chat.send("Segue o print do teste de velocidade.")
    await chat.send_photo(JPEG)
    await chat.tap("Concluir anexos")
    calls = await chat.tap("Confirmar")
    assert "sem os anexos" in shown(calls)
    assert "Segue o print do teste de velocidade." in shown(calls)
    calls = await chat.tap("Confirmar")
    assert "Resposta enviada" in shown(calls)
    assert env.backend is not None
    ticket = await env.backend.get_ticket(await backend_session(env), PENDING)
    assert ticket.messages[-1].text == "Segue o print do teste de velocidade."


async def test_forged_callbacks_get_a_polite_answer(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    for data in (
        f"tk:view:{OTHERS}",  # another subscriber's ticket
        "tk:view:tk-999",
        f"tk:att:{CLOSED}:att-2",  # an attachment of another ticket
        f"tk:att:{OTHERS}:att-1",
        f"tk:reply:{OTHERS}",
        f"tk:new:{OTHERS}",
        "tk:hist::page:1",
    ):
        calls = await chat.press(data)
        assert "Não encontrei" in shown(calls), data
        assert answers(calls) == 1, data
        assert not any(c.method in ("sendPhoto", "sendDocument") for c in calls)
    calls = await chat.press(f"tk:hist:{CLOSED}:page:999")  # clamped to the last part
    assert CLOSED_PROTOCOL in shown(calls) and answers(calls) == 1
    calls = await chat.press(f"tk:hist:{CLOSED}:page:x")
    assert answers(calls) == 1
    for stale in ("tk:subject:lentidao", "tk:done", "tk:more", "tk:cancel"):
        calls = await chat.press(stale)
        assert "não está mais disponível" in shown(calls), stale


async def test_a_forged_subject_is_asked_again(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    calls = await chat.press("tk:subject:<script>")
    assert "Qual é o assunto?" in shown(calls) and answers(calls) == 1
    calls = await chat.tap("Lentidão")
    assert "Descreva" in shown(calls)


async def test_a_draft_is_not_sent_for_another_subscriber(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await new_ticket_until_attachments(chat)
    summary = chat.last_bot_message_id()
    await chat.tap("Pular")
    await chat.send("/sair")
    await login(chat, COMPANY)
    before = len(await all_tickets(env, COMPANY))
    calls = await chat.press("tk:confirm", summary)
    assert "rascunho não existe mais" in shown(calls) and answers(calls) == 1
    assert len(await all_tickets(env, COMPANY)) == before


async def test_backend_down_while_listing_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    assert env.backend is not None
    await login(chat)
    env.backend.outage = True
    calls = await chat.press("menu:tickets")
    assert "não respondeu" in shown(calls) and answers(calls) == 1
    env.backend.outage = False
    calls = await chat.press("menu:tickets")
    assert "Atendimentos — abertos" in shown(calls)


async def test_tickets_need_a_login(chat: ChatDriver) -> None:
    await chat.send("/ajuda")
    calls = await chat.press("menu:tickets")
    assert "entre primeiro" in shown(calls) and answers(calls) == 1
    calls = await chat.press(f"tk:view:{CLOSED}")
    assert "entre primeiro" in shown(calls)
