"""Atendimentos as a subscriber sees them: tabs, history, provider files, new tickets."""

from __future__ import annotations

import re

from backend_client.errors import Rejected, Unavailable
from backend_client.models import BackendSession, NewTicket, Ticket, TicketStatus
from tests.support.bot_env import COMPANY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.tickets import (
    CLOSED,
    CLOSED_PROTOCOL,
    JPEG,
    OPEN,
    PDF,
    PENDING,
    TXT,
    all_tickets,
    answers,
    backend_session,
    new_ticket_until_attachments,
    protocol_messages,
)


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
    # Not taken as a description: free text, understood as being about the invoices.
    assert "Faturas em aberto" in shown(calls)
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
