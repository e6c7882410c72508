"""Alterar Senha: every password message deleted, rules, lockout, other chats logged out."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from backend_client.errors import InvalidCredentials, Rejected
from backend_client.sandbox import DEMO_ACCOUNTS
from bot.conversations.password import FORGET_JOB, PENDING_KEY, password_problems
from bot.ui import texts
from bot.ui.texts import password as password_texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call, TelegramRejection

NEW_PASSWORD = "NovaSenha2027"
ALPHANUMERIC = DEMO_ACCOUNTS[3]  # CNPJ 12ABC34501DE35


def _pending(env: BotEnv) -> dict[int, dict[str, str]]:
    pending: dict[int, dict[str, str]] = env.app.bot_data.get(PENDING_KEY, {})
    return pending


def _deleted_first(calls: list[Call]) -> None:
    """The typed message was deleted before the bot said anything else."""
    assert methods(calls)[0] == "deleteMessage", methods(calls)
    assert methods(calls).count("deleteMessage") == 1


async def _persisted(env: BotEnv) -> str:
    await env.app.update_persistence()
    async with env.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT kind, key, data FROM ptb_persistence"))).all()
    return "\n".join(str(row) for row in rows)


async def _backend_accepts(env: BotEnv, password: str, account: Any = PERSON) -> bool:
    try:
        await env.backend.login(account.document, password)  # type: ignore[union-attr]
    except InvalidCredentials:
        return False
    return True


def test_rules() -> None:
    document = PERSON.document
    assert password_problems("demo1234", NEW_PASSWORD, document) == []
    assert password_problems("demo1234", "abc1", document) == [password_texts.TOO_SHORT]
    assert password_problems("demo1234", "abcdefghij", document) == [
        password_texts.NEEDS_LETTERS_AND_DIGITS
    ]
    assert password_problems("demo1234", "12345678", document) == [
        password_texts.NEEDS_LETTERS_AND_DIGITS
    ]
    assert password_problems("demo1234", "demo1234", document) == [password_texts.SAME_AS_CURRENT]
    assert password_problems("demo1234", "cpf318.456.720-62", document) == [
        password_texts.HAS_DOCUMENT
    ]
    assert password_problems("x", "12.abc.345/01de-35", "12ABC34501DE35") == [
        password_texts.HAS_DOCUMENT
    ]


async def test_change_deletes_each_password_message_and_stores_none(
    env: BotEnv, chat: ChatDriver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await login(chat)
    calls = await chat.tap("Alterar Senha")
    said = shown(calls)
    assert "senha atual" in said and "apagar" in said
    assert [data for _, data in calls[-1].buttons] == ["password:cancel", "menu:home"]

    calls = await chat.send(PERSON.password)
    _deleted_first(calls)
    assert "nova senha" in shown(calls) and "letras e números" in shown(calls)
    assert PERSON.password in _pending(env)[chat.user_id].values()  # in memory only

    calls = await chat.send(NEW_PASSWORD)
    _deleted_first(calls)
    assert "mais uma vez" in shown(calls)

    calls = await chat.send(NEW_PASSWORD)
    _deleted_first(calls)
    said = shown(calls)
    assert "Sua senha foi alterada" in said
    assert "menu:home" in [data for _, data in calls[-1].buttons]

    user_messages = [
        key
        for key, stored in env.api.messages.items()
        if not stored.from_bot and key[0] == chat.user_id
    ]
    assert all(PERSON.password not in env.api.messages[key].text for key in user_messages)
    assert all(NEW_PASSWORD not in env.api.messages[key].text for key in user_messages)
    deleted = [c.params["message_id"] for c in env.api.calls if c.method == "deleteMessage"]
    assert len(deleted) == 4  # the login password, then the three of this flow

    bot_side = str([call.params for call in env.api.calls])
    assert PERSON.password not in bot_side
    assert NEW_PASSWORD not in bot_side
    persisted = await _persisted(env)
    assert PERSON.password not in persisted and NEW_PASSWORD not in persisted
    assert NEW_PASSWORD not in caplog.text and PERSON.password not in caplog.text
    assert chat.user_id not in _pending(env)
    assert not env.app.job_queue.get_jobs_by_name(f"{FORGET_JOB}{chat.user_id}")

    assert await _backend_accepts(env, NEW_PASSWORD)
    assert not await _backend_accepts(env, PERSON.password)
    calls = await chat.send("/menu")
    assert "olá, Maria" in shown(calls)  # this chat stays logged in


async def test_every_rule_is_explained_and_the_new_password_asked_again(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    for weak, reason in (
        ("abc12", "tem menos de 8 caracteres"),
        ("somenteletras", "precisa ter letras e números"),
        (PERSON.password, "é igual à senha atual"),
        ("cpf31845672062", "contém o seu CPF/CNPJ"),
    ):
        calls = await chat.send(weak)
        _deleted_first(calls)
        said = shown(calls)
        assert reason in said, said
        assert "Envie outra nova senha" in said
        assert weak not in str([c.params for c in calls])
    calls = await chat.send(NEW_PASSWORD)
    assert "mais uma vez" in shown(calls)
    calls = await chat.send("OutraSenha99")
    _deleted_first(calls)
    assert "não conferem" in shown(calls)
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    assert "Sua senha foi alterada" in shown(calls)
    assert await _backend_accepts(env, NEW_PASSWORD)


async def test_the_cnpj_cannot_be_the_password(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, ALPHANUMERIC)
    await chat.tap("Alterar Senha")
    await chat.send(ALPHANUMERIC.password)
    calls = await chat.send("12.abc.345/01de-35")
    assert "contém o seu CPF/CNPJ" in shown(calls)


async def test_a_wrong_current_password_is_refused_at_once_and_counts_toward_lockout(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    calls = await chat.send("wrong-password1")
    _deleted_first(calls)
    assert "A senha atual não confere" in shown(calls)
    assert chat.user_id not in _pending(env)  # nothing held, no new password asked
    scope = f"chat:{chat.user_id}"
    failures = await env.app.bot_data["services"].login_guard._repository.since(
        [scope], env.clock.now.replace(year=2000)
    )
    assert len(failures[scope]) == 1
    calls = await chat.send(PERSON.password)
    _deleted_first(calls)
    assert "nova senha" in shown(calls)
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    assert "Sua senha foi alterada" in shown(calls)
    assert await _backend_accepts(env, NEW_PASSWORD)


async def test_five_wrong_current_passwords_lock_and_log_this_chat_out(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    for attempt in range(1, 5):
        calls = await chat.send(f"wrong-password{attempt}")
        assert "não confere" in shown(calls)
    calls = await chat.send("wrong-password5")
    _deleted_first(calls)
    said = shown(calls)
    assert "bloqueado até 10:15 de 28/11/2026" in said
    assert [data for _, data in calls[-1].buttons] == ["login:start"]
    assert chat.user_id not in _pending(env)
    calls = await chat.send("/menu")
    assert "não está conectado" in shown(calls)
    await chat.send("/start")
    calls = await chat.send(PERSON.document)
    assert "bloqueado até 10:15" in shown(calls)
    assert await _backend_accepts(env, PERSON.password)  # nothing changed


async def test_other_chats_of_the_subscriber_are_logged_out_and_told(
    env: BotEnv, chat: ChatDriver
) -> None:
    other = env.chat(user_id=777002)
    company = env.chat(user_id=777003)
    await login(other, PERSON)
    await login(company, COMPANY)
    await login(chat, PERSON)
    await other.tap("Faturas")  # the other chat is in the middle of something

    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    said = shown([c for c in calls if c.params.get("chat_id") == chat.user_id])
    assert "Sua senha foi alterada" in said
    assert "1 outra conversa" in said
    told = [c for c in calls if c.method == "sendMessage" and c.params["chat_id"] == other.user_id]
    assert len(told) == 1
    assert "entre de novo com a nova senha" in told[0].text
    assert not [c for c in calls if c.params.get("chat_id") == company.user_id]

    calls = await other.send("/menu")
    assert "não está conectado" in shown(calls)
    calls = await company.send("/menu")
    assert "Silva" in shown(calls)
    persisted = await _persisted(env)
    rows = [line for line in persisted.splitlines() if f"'{other.user_id}'" in line]
    assert rows and all("token" not in row for row in rows)
    await other.send("/start")
    await other.send(PERSON.document)
    calls = await other.send(NEW_PASSWORD)
    assert "Menu" in shown(calls)


async def test_a_chat_that_cannot_be_told_is_still_logged_out(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = env.chat(user_id=777002)
    await login(other, PERSON)
    await login(chat, PERSON)
    original = env.api._api_sendMessage

    def blocked(params: dict[str, Any]) -> dict[str, Any]:
        if int(params["chat_id"]) == other.user_id:
            raise TelegramRejection("Forbidden: bot was blocked by the user", 403)
        return original(params)

    monkeypatch.setattr(env.api, "_api_sendMessage", blocked)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    assert "Sua senha foi alterada" in shown(
        [c for c in calls if c.params.get("chat_id") == chat.user_id]
    )
    monkeypatch.setattr(env.api, "_api_sendMessage", original)
    calls = await other.send("/menu")
    assert "não está conectado" in shown(calls)


async def test_a_message_that_cannot_be_deleted_is_reported(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    env.api.fail_methods["deleteMessage"] = TelegramRejection(
        "Bad Request: message can't be deleted"
    )
    calls = await chat.send(PERSON.password)
    said = shown(calls)
    assert texts.PASSWORD_NOT_DELETED in said
    assert "nova senha" in said  # the flow goes on


async def test_backend_down_keeps_the_passwords_in_memory_for_a_retry(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    await chat.send(NEW_PASSWORD)
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.send(NEW_PASSWORD)
    said = shown(calls)
    assert "não respondeu" in said
    assert "password:retry" in [data for _, data in calls[-1].buttons]
    chat_data = str(chat.application.chat_data[chat.user_id])
    assert PERSON.password not in chat_data and NEW_PASSWORD not in chat_data
    assert {"current", "new"} <= _pending(env)[chat.user_id].keys()
    calls = await chat.send("algo")  # typed while waiting for the button: deleted too
    _deleted_first(calls)
    assert "Tentar de novo" in shown(calls)
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Tentar de novo")
    assert methods(calls)[0] == "answerCallbackQuery"
    assert "Sua senha foi alterada" in shown(calls)
    assert await _backend_accepts(env, NEW_PASSWORD)


async def test_the_providers_refusal_is_explained(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    await chat.send(NEW_PASSWORD)

    async def refuse(*_: object) -> None:
        raise Rejected("Senha muito comum <tente outra> & boa sorte")

    monkeypatch.setattr(env.backend, "change_password", refuse)
    calls = await chat.send(NEW_PASSWORD)
    said = shown(calls)
    assert "Senha muito comum <tente outra> & boa sorte" in said
    assert "Envie outra nova senha" in said


@pytest.mark.parametrize("way_out", ["/menu", "/cancelar", "/sair", "Menu", "Cancelar"])
async def test_every_way_out_forgets_the_password(
    env: BotEnv, chat: ChatDriver, way_out: str
) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    assert chat.user_id in _pending(env)
    calls = await (chat.send(way_out) if way_out.startswith("/") else chat.tap(way_out))
    assert calls
    assert chat.user_id not in _pending(env)
    assert not env.app.job_queue.get_jobs_by_name(f"{FORGET_JOB}{chat.user_id}")
    calls = await chat.send(NEW_PASSWORD)  # no longer read as a password…
    assert "nova senha" not in shown(calls) and chat.user_id not in _pending(env)
    # …but deleted all the same: a password typed just after leaving stays out of the chat.
    assert "Apaguei a sua última mensagem" in shown(calls)
    _deleted_first(calls)


async def test_leaving_for_another_menu_item_forgets_the_password(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    menu_message = chat.message_with_button("menu:password")
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    await chat.send("/ajuda")
    assert chat.user_id in _pending(env)  # help does not leave the flow
    await chat.press("menu:contacts", menu_message)
    assert chat.user_id not in _pending(env)
    calls = await chat.send(NEW_PASSWORD)  # no longer read as a password, yet deleted
    assert "nova senha" not in shown(calls) and chat.user_id not in _pending(env)
    _deleted_first(calls)


async def test_the_idle_timer_forgets_the_password(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    jobs = env.app.job_queue.get_jobs_by_name(f"{FORGET_JOB}{chat.user_id}")
    assert len(jobs) == 1
    await jobs[0].run(env.app)
    assert chat.user_id not in _pending(env)
    calls = await chat.send(NEW_PASSWORD)  # the state survived, the password did not
    _deleted_first(calls)
    assert "senha atual" in shown(calls)


async def test_a_restart_mid_way_asks_for_the_current_password_again(env: BotEnv) -> None:
    chat = env.chat()
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    assert PERSON.password not in await _persisted(env)
    await env.launch()
    chat = env.chat()
    calls = await chat.send(NEW_PASSWORD)
    _deleted_first(calls)
    assert "senha atual" in shown(calls)
    await chat.send(PERSON.password)
    await chat.send(NEW_PASSWORD)
    calls = await chat.send(NEW_PASSWORD)
    assert "Sua senha foi alterada" in shown(calls)


async def test_forged_buttons_are_harmless(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    calls = await chat.press("password:retry")
    assert methods(calls) == ["answerCallbackQuery"]
    assert texts.BUTTON_EXPIRED in shown(calls)
    calls = await chat.press("password:set:hunter2")
    assert texts.BUTTON_EXPIRED in shown(calls)
    calls = await chat.send(PERSON.password)
    assert "nova senha" in shown(calls)


async def test_a_photo_instead_of_a_password_asks_for_text(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.tap("Alterar Senha")
    await chat.send(PERSON.password)
    calls = await chat.send_photo()
    assert "mensagem de texto" in shown(calls)
    calls = await chat.send(NEW_PASSWORD)
    _deleted_first(calls)
    assert "mais uma vez" in shown(calls)
