"""Atendimentos: answering a ticket, forged buttons, and a system that takes no attachments."""

from __future__ import annotations

import dataclasses

import pytest

from backend_client.errors import Unavailable
from backend_client.features import Feature
from backend_client.models import BackendSession, Document, NewTicket, Ticket, TicketStatus
from bot.ui import texts as common_texts
from tests.support.bot_env import COMPANY, BotEnv, launch_lacking, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call
from tests.support.tickets import (
    CLOSED,
    CLOSED_PROTOCOL,
    JPEG,
    OPEN,
    OTHERS,
    PDF,
    PENDING,
    TXT,
    all_tickets,
    answers,
    backend_session,
    new_ticket_until_attachments,
    protocol_messages,
)


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
