"""Menu, Minha Conta, commands, sessions and errors, as a subscriber sees them."""

from __future__ import annotations

import pytest

from bot.ui import texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, Clock, login, set_backend_timeout
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

pytestmark = pytest.mark.both_databases


async def test_menu_needs_a_login(chat: ChatDriver) -> None:
    calls = await chat.send("/menu")
    assert "não está conectado" in shown(calls)
    assert [data for _, data in calls[-1].buttons] == ["login:start"]


async def test_minha_conta_shows_the_subscriber_and_plans(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.press("menu:account")
    said = shown(calls)
    assert "Maria Aparecida dos Santos" in said
    assert "CPF: 318.456.720-62" in said
    assert "R$ " in said and "/mês" in said
    assert "vencimento dia" in said
    # The account screen replaces the menu in place and the button press is answered.
    assert methods(calls).count("answerCallbackQuery") == 1
    assert "editMessageText" in methods(calls)


async def test_plan_details_show_login_and_ip(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:account")
    calls = await chat.tap("Detalhes do Plano")
    said = shown(calls)
    assert "Login (PPPoE):" in said  # spelled so (issue 21), not "PPPOE"
    assert "PPPOE" not in said
    assert "IP: " in said


async def test_company_with_two_contracts_and_html_in_its_name(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:account")
    said = shown(calls)
    assert "Silva & Filhos <Ltda>" in said
    assert "CNPJ: " in said
    assert said.count("Contrato ") == 2
    calls = await chat.tap("Detalhes do Plano")
    assert shown(calls).count("Login (") == 2


async def test_double_tap_does_not_edit_to_the_same_content(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:account")
    message_id = chat.last_bot_message_id()
    calls = await chat.press("menu:account", message_id)
    assert methods(calls) == ["answerCallbackQuery"]


async def test_menu_button_goes_back_to_the_menu(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:account")
    calls = await chat.tap("Menu")
    assert "O que você precisa?" in shown(calls)


async def test_every_menu_item_opens_its_screen(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    for item, _ in texts.MENU_ITEMS:
        menu_id = chat.message_with_button(f"menu:{item}")
        calls = await chat.press(f"menu:{item}", menu_id)
        said = shown(calls)
        assert methods(calls).count("answerCallbackQuery") == 1, item
        assert said.strip(), item
        assert "em breve" not in said and "algo deu errado" not in said, (item, said)
        await chat.send("/menu")


async def test_forged_or_stale_buttons_are_answered_and_harmless(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.press("menu:../../etc/passwd")
    assert methods(calls)[0] == "answerCallbackQuery"
    assert texts.BUTTON_EXPIRED in shown(calls)
    calls = await chat.press("x" * 64)
    assert texts.BUTTON_EXPIRED in shown(calls)


async def test_buttons_of_a_logged_out_chat_ask_for_login(chat: ChatDriver) -> None:
    await chat.send("/ajuda")
    calls = await chat.press("account:plans")
    assert "entre primeiro" in shown(calls)
    assert methods(calls)[0] == "answerCallbackQuery"


async def test_logout_with_the_button_and_with_the_command(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.tap("Sair")
    assert "Você saiu" in shown(calls)
    calls = await chat.press("menu:account")
    assert "entre primeiro" in shown(calls)
    await login(chat)
    calls = await chat.send("/sair")
    assert "Você saiu" in shown(calls)


async def test_help_cancel_and_unknown_command(chat: ChatDriver) -> None:
    calls = await chat.send("/ajuda")
    assert "/cancelar" in shown(calls)
    await login(chat)
    calls = await chat.send("/cancelar")
    assert "nada em andamento" in shown(calls)
    calls = await chat.send("/xyz")
    assert "Não conheço esse comando" in shown(calls)
    calls = await chat.send("oi tudo bem")
    assert "Olá, Maria!" in shown(calls)  # small talk gets a short answer (issue 21)


async def test_start_when_logged_in_shows_the_menu(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("/start")
    assert "O que você precisa?" in shown(calls)


async def test_idle_session_asks_to_log_in_again(chat: ChatDriver, clock: Clock) -> None:
    await login(chat)
    clock.advance(minutes=29)
    calls = await chat.press("menu:account")
    assert "Maria" in shown(calls)
    clock.advance(minutes=31)
    calls = await chat.press("menu:account")
    assert "sessão expirou" in shown(calls)
    assert methods(calls)[0] == "answerCallbackQuery"
    calls = await chat.send("/menu")
    assert "não está conectado" in shown(calls)


async def test_start_after_expiry_begins_a_new_login(chat: ChatDriver, clock: Clock) -> None:
    await login(chat)
    clock.advance(hours=2)
    calls = await chat.send("/start")
    assert "CPF ou CNPJ" in shown(calls)
    assert "sessão expirou" not in shown(calls)


async def test_slow_backend_gets_an_apology_not_silence(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    set_backend_timeout(env, 0.2)
    env.backend.latency = 1.0  # type: ignore[union-attr]
    calls = await chat.press("menu:account")
    said = shown(calls)
    assert "não respondeu" in said
    assert any(data == "menu:home" for _, data in calls[-1].buttons)


async def test_backend_down_gets_an_apology(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await login(chat)

    async def refuse(*_: object) -> None:
        raise ConnectionRefusedError("backend down")

    monkeypatch.setattr(env.backend, "get_subscriber", refuse)
    calls = await chat.press("menu:account")
    assert "não respondeu" in shown(calls)
    assert "Traceback" not in shown(calls)


async def test_backend_down_at_login_keeps_the_document(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    original = env.backend.login  # type: ignore[union-attr]

    async def refuse(*_: object) -> None:
        raise ConnectionRefusedError("backend down")

    monkeypatch.setattr(env.backend, "login", refuse)
    calls = await chat.send(PERSON.password)
    assert "não respondeu" in shown(calls)
    monkeypatch.setattr(env.backend, "login", original)
    calls = await chat.send(PERSON.password)
    assert "Você entrou na sua central" in shown(calls)


async def test_a_bug_gets_a_polite_message(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await login(chat)

    async def broken(*_: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(env.backend, "get_subscriber", broken)
    calls = await chat.press("menu:account")
    assert "algo deu errado" in shown(calls)


async def test_group_chats_are_refused(chat: ChatDriver) -> None:
    chat.chat_type = "group"
    calls = await chat.send("/start")
    assert "conversa privada" in shown(calls)


async def test_commands_are_registered_in_portuguese(env: BotEnv) -> None:
    registered = [c for c in env.api.calls if c.method == "setMyCommands"]
    assert registered
    names = [command["command"] for command in registered[-1].params["commands"]]
    assert names == ["start", "menu", "ajuda", "cancelar", "sair", "notificacoes", "parar"]


async def test_an_operation_the_provider_lacks_is_explained(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend_client.errors import NotSupported

    await login(chat)

    async def unsupported(*_: object) -> None:
        raise NotSupported("get_subscriber")

    monkeypatch.setattr(env.backend, "get_subscriber", unsupported)
    calls = await chat.press("menu:account")
    assert "não está disponível no sistema do seu provedor" in shown(calls)


async def test_another_menu_item_leaves_a_flow_half_way(chat: ChatDriver) -> None:
    await login(chat)
    menu_id = chat.last_bot_message_id()
    await chat.press("menu:tickets", menu_id)
    await chat.tap("Novo atendimento")
    await chat.tap("Lentidão")
    # Now the ticket flow waits for a description; the subscriber goes elsewhere instead.
    await chat.send("/ajuda")
    await chat.press("menu:account", chat.message_with_button("menu:home"))
    calls = await chat.send("minha internet está lenta desde ontem")
    assert "Sua conexão agora" in shown(calls)  # free text (issue 21), not the description
