"""Seed journeys over real HTTP, the bot started exactly as in production (polling)."""

from __future__ import annotations

import pytest

from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from bot.localapi.core import LocalBotApi, LocalUser

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_wrong_then_right_login_menu_and_minha_conta(local_api: LocalBotApi) -> None:
    user = local_api.user(91001)
    await user.send("/start")
    await user.wait_for_text("CPF ou CNPJ")
    await user.send("318.456.720-62")
    await user.wait_for_text("senha")

    mark = len(user.chat.events)
    password = await user.send("senha-errada")
    await user.wait_for_text("Usuário ou senha inválida.", since=mark)
    assert local_api.message(user.id, password.message_id) is None  # deleted

    mark = len(user.chat.events)
    await user.send("demo1234")
    await user.wait_for_text("Receber avisos neste chat?", since=mark)
    mark = len(user.chat.events)
    await user.tap("Maria Aparecida dos Santos (Financeiro)")
    await user.wait_for_text("Cadastro vinculado com sucesso", since=mark)
    await user.wait_for_text("O que você precisa?", since=mark)

    mark = len(user.chat.events)
    await user.tap("Minha Conta")
    account = await user.wait_for_text("Minha Conta", since=mark)
    assert "Maria Aparecida dos Santos" in account
    assert "CPF: 318.456.720-62" in account

    mark = len(user.chat.events)
    await user.tap("Detalhes do Plano")
    details = await user.wait_for_text("Detalhes do Plano", since=mark)
    assert "Login (PPPoE)" in details


async def test_company_name_with_html_characters_arrives_intact(local_api: LocalBotApi) -> None:
    user = local_api.user(91002)
    await user.send("/start")
    await user.wait_for_text("CPF ou CNPJ")
    await user.send("27.481.563/0001-03")
    await user.wait_for_text("senha")
    await user.send("demo3456")
    said = await user.wait_for_text("Silva & Filhos <Ltda>")
    assert "Silva & Filhos <Ltda>" in said
    await user.wait_for_text("Receber avisos neste chat?")
    mark = len(user.chat.events)
    await user.tap("Agora não")
    await user.wait_for_text("O que você precisa?", since=mark)


async def test_every_button_press_is_answered(local_api: LocalBotApi) -> None:
    user = local_api.user(91003)
    await user.send("/menu")
    await user.wait_for_text("não está conectado")
    mark = len(user.chat.events)
    await user.tap("Entrar")
    events = await user.wait_until(lambda es: any(e.kind == "answered" for e in es), since=mark)
    assert sum(e.kind == "answered" for e in events) == 1


async def test_commands_are_registered(local_api: LocalBotApi) -> None:
    names = [command["command"] for command in local_api.commands["pt"]]
    assert names == ["start", "menu", "ajuda", "cancelar", "sair", "notificacoes", "parar"]


async def _logged_in(local_api: LocalBotApi, user_id: int) -> LocalUser:
    user = local_api.user(user_id)
    await user.send("/start")
    await user.wait_for_text("CPF ou CNPJ")
    await user.send("318.456.720-62")
    await user.wait_for_text("senha")
    await user.send("demo1234")
    await user.wait_for_text("Receber avisos neste chat?")
    mark = len(user.chat.events)
    await user.tap("Agora não")
    await user.wait_for_text("O que você precisa?", since=mark)
    return user


async def test_faturas_boleto_pix_and_pdf_over_http(local_api: LocalBotApi) -> None:
    user = await _logged_in(local_api, 91004)
    mark = len(user.chat.events)
    await user.tap("Faturas")
    await user.wait_for_text("Ver boleto", since=mark)  # the open invoices at once (issue 21)
    mark = len(user.chat.events)
    await user.tap("Ver boleto")
    linha = await user.wait_for_text("00190.", since=mark)
    assert is_valid_linha_digitavel(linha)
    pix = await user.wait_for_text("br.gov.bcb.pix", since=mark)
    assert is_valid_brcode(pix)
    await user.wait_until(lambda es: any(e.message and e.message.photo for e in es), since=mark)

    mark = len(user.chat.events)
    await user.tap("Boleto em PDF")
    events = await user.wait_until(
        lambda es: any(e.message and e.message.document for e in es), since=mark
    )
    document = next(e.message.document for e in events if e.message and e.message.document)
    assert document.content.startswith(b"%PDF") and document.filename.endswith(".pdf")


async def test_statement_and_tickets_over_http(local_api: LocalBotApi) -> None:
    user = await _logged_in(local_api, 91005)
    mark = len(user.chat.events)
    await user.tap("Extrato Financeiro")
    await user.wait_for_text("período", since=mark)
    mark = len(user.chat.events)
    await user.tap("12 meses")
    statement = await user.wait_for_text("🟢", since=mark)
    assert "🔴" in statement and "R$" in statement

    mark = len(user.chat.events)
    await user.send("/menu")
    await user.wait_for_text("O que você precisa?", since=mark)
    mark = len(user.chat.events)
    await user.tap("Atendimentos")
    tickets = await user.wait_for_text("Atendimentos", since=mark)
    assert "Protocolo" in tickets
    labels = [label for m in local_api.messages(user.id) for label, _ in m.buttons]
    assert any("Novo atendimento" in label for label in labels)
