"""Login journeys: document, password, wrong pairs, lockout, restart in the middle."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from backend_client.errors import Unavailable
from backend_client.formats.documents import format_document, mask_document
from bot.ui import texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, Clock, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

pytestmark = pytest.mark.both_databases


async def test_start_greets_and_asks_for_the_document(chat: ChatDriver) -> None:
    calls = await chat.send("/start")
    said = shown(calls)
    assert "Minha Central" in said
    assert "CPF ou CNPJ" in said


async def test_login_with_cpf_shows_the_menu_and_deletes_the_password(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    asked = await chat.send(format_document(PERSON.document))
    assert "senha" in shown(asked)

    calls = await chat.send(PERSON.password)

    password_message = [c for c in calls if c.method == "deleteMessage"]
    assert len(password_message) == 1
    deleted_id = password_message[0].params["message_id"]
    assert (chat.user_id, deleted_id) not in env.api.messages
    # The password is deleted before anything is answered.
    assert methods(calls).index("deleteMessage") < methods(calls).index("sendMessage")
    said = shown(calls)
    assert "Maria Aparecida dos Santos" in said
    # First login on this chat: the offer to link it for notifications, then the menu.
    assert "Receber avisos neste chat?" in said
    calls = await chat.tap("Agora não")
    menu = calls[-1]
    labels = [label for label, _ in menu.buttons]
    assert labels == [label for _, label in texts.MENU_ITEMS] + [texts.MENU_LOGOUT]
    assert all(len(data.encode()) <= 64 for _, data in menu.buttons)


async def test_the_password_is_never_stored_or_echoed(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await env.app.update_persistence()
    bot_side = [c for c in env.api.calls if c.method != "deleteMessage"]
    assert all(PERSON.password not in str(c.params) for c in bot_side)
    async with env.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT data FROM ptb_persistence"))).all()
    assert rows, "the session should be persisted"
    assert all(PERSON.password not in str(row) for row in rows)


async def test_invalid_document_is_refused_and_the_flow_waits(chat: ChatDriver) -> None:
    await chat.send("/start")
    calls = await chat.send("529.982.247-26")
    assert "não é válido" in shown(calls)
    calls = await chat.send("banana")
    assert "não é válido" in shown(calls)
    calls = await chat.send(PERSON.document)
    assert "senha" in shown(calls)


async def test_company_logs_in_with_formatted_cnpj_and_its_name_is_not_mangled(
    chat: ChatDriver,
) -> None:
    await chat.send("/start")
    await chat.send(format_document(COMPANY.document))
    calls = await chat.send(COMPANY.password)
    said = shown(calls)
    assert "Silva & Filhos <Ltda>" in said
    offered = [label for call in calls for label, _ in call.buttons]
    assert any("Roberta Silva" in label for label in offered)  # contacts offered for linking


async def test_alphanumeric_cnpj_in_lowercase_is_accepted(chat: ChatDriver) -> None:
    await chat.send("/start")
    calls = await chat.send("12.abc.345/01de-35")
    assert "senha" in shown(calls)
    calls = await chat.send("demo4567")
    assert "Você entrou na sua central" in shown(calls)


async def test_wrong_password_then_right_one(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send("wrong-password")
    assert "Usuário ou senha inválida." in shown(calls)
    assert "deleteMessage" in methods(calls)
    calls = await chat.send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)


async def test_other_document_button_goes_back_to_the_document(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    await chat.send("wrong-password")
    calls = await chat.tap("outro CPF/CNPJ")
    assert "CPF ou CNPJ" in shown(calls)
    await chat.send(COMPANY.document)
    calls = await chat.send(COMPANY.password)
    assert "Silva & Filhos" in shown(calls)


async def test_five_failures_lock_the_chat_and_the_document_for_15_minutes(
    env: BotEnv, chat: ChatDriver, clock: Clock
) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    for _ in range(4):
        calls = await chat.send("wrong-password")
        assert "Usuário ou senha inválida." in shown(calls)
    calls = await chat.send("wrong-password")
    said = shown(calls)
    assert "bloqueado até 10:15 de 28/11/2026" in said

    # The same chat, even with the right password, is refused without asking the backend.
    await chat.send("/start")
    calls = await chat.send(PERSON.document)
    assert "bloqueado até 10:15" in shown(calls)

    # The same document from another chat is refused too.
    other = env.chat(user_id=777002)
    await other.send("/start")
    calls = await other.send(PERSON.document)
    assert "bloqueado até 10:15" in shown(calls)
    # …while another chat with another document is not.
    await other.send("/start")
    await other.send(COMPANY.document)
    calls = await other.send(COMPANY.password)
    assert "Você entrou na sua central" in shown(calls)

    clock.advance(minutes=16)
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)


async def test_a_photo_instead_of_the_password_is_asked_again(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send_photo()
    assert "mensagem de texto" in shown(calls)
    calls = await chat.send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)


async def test_cancel_during_login(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send("/cancelar")
    assert "cancelei" in shown(calls)
    calls = await chat.send(PERSON.password)  # no longer taken as a password
    assert "Apaguei a sua última mensagem" in shown(calls)  # deleted, and the login starts over
    assert "envie o CPF ou CNPJ" in shown(calls)


async def test_restart_between_document_and_password_resumes_the_login(env: BotEnv) -> None:
    chat = env.chat()
    await chat.send("/start")
    await chat.send(PERSON.document)

    await env.launch()  # the process restarts
    chat = env.chat()
    calls = await chat.send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)
    assert "deleteMessage" in methods(calls)


async def test_restart_keeps_the_subscriber_logged_in(env: BotEnv) -> None:
    chat = env.chat()
    await login(chat)
    await env.launch()
    chat = env.chat()
    calls = await chat.send("/menu")
    assert "olá, Maria" in shown(calls)


async def test_a_restart_resumes_every_chat_where_it_was(env: BotEnv) -> None:
    """Persistence writes all chats of a round together: each still resumes at its own step."""
    waiting_password, cancelled, logged_in = env.chat(7001), env.chat(7002), env.chat(7003)
    for chat in (waiting_password, cancelled):
        await chat.send("/start")
        await chat.send(PERSON.document)
    await cancelled.send("/cancelar")
    await login(logged_in)

    await env.launch()  # the process restarts

    calls = await env.chat(7001).send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)
    calls = await env.chat(7002).send(PERSON.password)
    assert "Apaguei a sua última mensagem" in shown(calls)
    assert "Você entrou" not in shown(calls)
    calls = await env.chat(7003).send("/menu")
    assert "olá, Maria" in shown(calls)


async def test_a_system_unavailable_at_login_is_logged_without_document_or_password(
    env: BotEnv, chat: ChatDriver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "SGP answered an unexpected shape: contratos.razaoSocial is missing"

    async def unavailable(document: str, password: str) -> None:
        raise Unavailable(reason)

    monkeypatch.setattr(env.backend, "login", unavailable)
    caplog.set_level(logging.DEBUG)
    await chat.send("/start")
    await chat.send(format_document(PERSON.document))
    calls = await chat.send(PERSON.password)
    assert texts.BACKEND_UNAVAILABLE in shown(calls)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.name for r in warnings] == ["bot.conversations.login"]
    assert reason in warnings[0].getMessage()
    for record in caplog.records:
        logged = record.getMessage()
        for secret in (PERSON.password, PERSON.document, format_document(PERSON.document)):
            assert secret not in logged, record.name
    assert mask_document(PERSON.document) not in warnings[0].getMessage()
