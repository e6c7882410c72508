"""No password stays visible in the chat (issue 17, defect 3).

Where a password was asked for lately (or a login was refused or locked), a text that is neither
a valid CPF/CNPJ nor a command is deleted, whichever handler then takes it. Alterar Senha checks
the current password before it asks for the new one, so it never holds a new password while it
waits for the current one again.
"""

from __future__ import annotations

import pytest

from backend_client.errors import InvalidCredentials
from bot.conversations.password import PENDING_KEY
from bot.handlers import stray_passwords
from bot.ui.texts import password as password_texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, Clock, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call

NEW_PASSWORD = "NovaSenha2027"


def _deleted(calls: list[Call]) -> bool:
    return methods(calls).count("deleteMessage") == 1


def _visible(env: BotEnv, chat: ChatDriver, text: str) -> bool:
    """Is a message from the user with this text still in the chat?"""
    return any(
        not message.from_bot and message.text == text and key[0] == chat.user_id
        for key, message in env.api.messages.items()
    )


async def _backend_accepts(env: BotEnv, password: str) -> bool:
    try:
        await env.backend.login(PERSON.document, password)  # type: ignore[union-attr]
    except InvalidCredentials:
        return False
    return True


async def test_a_password_typed_after_the_lockout_message_is_deleted(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    for _ in range(5):
        calls = await chat.send("wrong-password")
    assert "bloqueado até" in shown(calls)

    calls = await chat.send(PERSON.password)  # the user tries once more, the flow has ended
    assert _deleted(calls)
    assert not _visible(env, chat, PERSON.password)
    assert password_texts.STRAY_DELETED in shown(calls)


async def test_a_password_typed_after_ajuda_at_the_password_step_is_deleted(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send("/ajuda")
    assert not _deleted(calls)  # commands stay
    assert "Como usar" in shown(calls)

    calls = await chat.send("senha-errada-1")
    assert _deleted(calls)
    assert not _visible(env, chat, "senha-errada-1")
    calls = await chat.send(PERSON.password)
    assert _deleted(calls)
    assert "Você entrou na sua central" in shown(calls)


async def test_a_password_typed_after_cancelar_at_the_password_step_is_deleted(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send("/cancelar")
    assert "cancelei" in shown(calls)

    calls = await chat.send(PERSON.password)
    assert _deleted(calls)
    assert not _visible(env, chat, PERSON.password)
    said = shown(calls)
    assert password_texts.STRAY_DELETED in said and "envie o CPF ou CNPJ" in said


async def test_a_password_sent_where_the_cpf_is_expected_is_deleted(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    calls = await chat.send(PERSON.password)
    assert _deleted(calls)
    assert not _visible(env, chat, PERSON.password)
    said = shown(calls)
    assert "não é válido" in said and password_texts.STRAY_DELETED in said

    # A valid CPF/CNPJ is not deleted (it is not a secret, and the user sees what was read).
    calls = await chat.send(COMPANY.document)
    assert not _deleted(calls)
    assert _visible(env, chat, COMPANY.document)
    calls = await chat.send("/start")
    assert not _deleted(calls)


async def test_stray_texts_are_kept_after_a_login_and_once_the_window_has_passed(
    env: BotEnv, chat: ChatDriver, clock: Clock
) -> None:
    await login(chat)
    calls = await chat.send("quero meu boleto")
    assert not _deleted(calls)

    other = env.chat(user_id=777003)
    await other.send("/start")
    await other.send(PERSON.document)
    await other.send("/cancelar")
    window = env.settings.flow_idle_timeout + stray_passwords.WINDOW
    # Longer than the login waits for the password (it has timed out by then): still deleted.
    clock.advance(seconds=env.settings.flow_idle_timeout.total_seconds() + 60)
    calls = await other.send(PERSON.password)
    assert _deleted(calls)
    clock.advance(seconds=window.total_seconds())
    calls = await other.send("oi")
    assert not _deleted(calls)


async def test_another_flow_reads_its_own_input(env: BotEnv, chat: ChatDriver) -> None:
    """Alterar Senha left for Contatos: the name typed for a new contact is not deleted."""
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send("/cancelar")
    await chat.tap("Contatos")
    calls = await chat.tap("Novo contato")
    assert "nome" in shown(calls).lower()
    calls = await chat.send("José da Silva")
    assert not _deleted(calls)


@pytest.mark.parametrize("way_out", ["/cancelar", "/menu"])
async def test_a_password_typed_after_leaving_alterar_senha_is_deleted(
    env: BotEnv, chat: ChatDriver, way_out: str
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(way_out)
    calls = await chat.send(NEW_PASSWORD)
    assert _deleted(calls)
    assert not _visible(env, chat, NEW_PASSWORD)


async def test_alterar_senha_checks_the_current_password_before_asking_the_new_one(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")

    calls = await chat.send("wrong-password1")
    assert methods(calls)[0] == "deleteMessage"
    said = shown(calls)
    assert "A senha atual não confere" in said
    assert "nova senha" not in said.lower()  # refused at once, the new one is not asked
    assert "continua guardada" not in said
    assert chat.user_id not in env.app.bot_data.get(PENDING_KEY, {})
    scope = f"chat:{chat.user_id}"
    guard = env.app.bot_data["services"].login_guard
    failures = await guard._repository.since([scope], env.clock.now.replace(year=2000))
    assert len(failures[scope]) == 1  # counts toward the lockout

    calls = await chat.send(PERSON.password)
    assert methods(calls)[0] == "deleteMessage"
    assert "nova senha" in shown(calls)
    # Only the checked current password is held (in memory) while the new one is awaited.
    assert set(env.app.bot_data[PENDING_KEY][chat.user_id]) == {"current"}
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    assert "Sua senha foi alterada" in shown(calls)
    assert await _backend_accepts(env, NEW_PASSWORD)
    # The login made to check the current password left no session open besides this chat's.
    calls = await chat.send("/menu")
    assert "Menu" in shown(calls)
