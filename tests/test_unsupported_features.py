"""A menu item the provider's system cannot do says so at once, before asking anything."""

from __future__ import annotations

import logging

import pytest

from backend_client.errors import NotPermitted
from backend_client.features import Feature
from bot.ui import texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, launch_lacking, login
from tests.support.driver import methods
from tests.support.driver import texts as shown
from tests.support.lacking import LackingSandbox

NOT_SUPPORTED = "Esta opção não está disponível no sistema do seu provedor."


def _our_logs(caplog: pytest.LogCaptureFixture) -> str:
    ours = ("bot", "backend_client")
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))


def _refused(env: BotEnv) -> list[str]:
    assert isinstance(env.backend, LackingSandbox)
    return env.backend.refused_calls


async def test_password_on_a_system_without_it_asks_no_password(env: BotEnv) -> None:
    await launch_lacking(env, lacking={Feature.PASSWORD})
    chat = env.chat()
    await login(chat)
    menu_id = chat.last_bot_message_id()

    calls = await chat.tap("Alterar Senha")
    said = shown(calls)
    assert NOT_SUPPORTED in said
    assert "senha" not in said.lower()
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert calls[-1].params["message_id"] == menu_id  # the menu became the answer
    assert calls[-1].buttons == [(texts.BUTTON_MENU, "menu:home")]
    assert _refused(env) == []  # nothing was even tried

    # What is typed next is no password step's: it is not taken (nor deleted) as one.
    calls = await chat.send(PERSON.password)
    assert "deleteMessage" not in methods(calls)
    assert "Não entendi" in shown(calls)


@pytest.mark.parametrize(
    ("feature", "account"),
    [
        (Feature.CALLS, COMPANY),
        (Feature.DUE_DAY, PERSON),
        (Feature.CONTACTS, PERSON),
        (Feature.TICKETS, PERSON),
    ],
)
async def test_every_lacking_menu_item_says_so_at_once(
    env: BotEnv, feature: Feature, account: object
) -> None:
    await launch_lacking(env, lacking={feature})
    chat = env.chat()
    await login(chat, account)
    before = list(_refused(env))  # e.g. the contacts of the offer to link the chat
    calls = await chat.press(f"menu:{feature.value}")
    assert NOT_SUPPORTED in shown(calls)
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert _refused(env) == before


async def test_an_old_new_contact_button_says_so_and_asks_no_name(env: BotEnv) -> None:
    await launch_lacking(env, lacking={Feature.NEW_CONTACT})
    chat = env.chat()
    await login(chat)
    calls = await chat.press("contacts:new")  # e.g. on a list shown before an upgrade
    said = shown(calls)
    assert NOT_SUPPORTED in said
    assert "nome" not in said
    assert methods(calls) == ["answerCallbackQuery", "sendMessage"]


async def test_an_item_refused_once_is_refused_at_once_afterwards(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await launch_lacking(env, refusing={Feature.STATEMENT})  # not declared: found out
    chat = env.chat()
    await login(chat, COMPANY)
    await chat.tap("Extrato Financeiro")
    calls = await chat.tap("Este mês")
    assert NOT_SUPPORTED in shown(calls)
    assert _refused(env) == ["list_financial_entries"]

    await chat.send("/menu")
    calls = await chat.tap("Extrato Financeiro")
    assert NOT_SUPPORTED in shown(calls)
    assert "Este mês" not in str([call.buttons for call in calls])
    assert _refused(env) == ["list_financial_entries"]  # not asked again
    logged = _our_logs(caplog)
    assert COMPANY.password not in logged


async def test_a_not_permitted_item_is_shown_as_unavailable_and_logs_no_value(
    env: BotEnv, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = env.chat()
    await login(chat)

    asked: list[str] = []

    async def refuse(*args: object, **kwargs: object) -> None:
        asked.append("list_contacts")
        raise NotPermitted("list_contacts", "cliente_contato")

    monkeypatch.setattr(env.backend, "list_contacts", refuse)
    calls = await chat.tap("Contatos")
    assert NOT_SUPPORTED in shown(calls)
    calls = await chat.press("menu:contacts")
    assert NOT_SUPPORTED in shown(calls)
    assert asked == ["list_contacts"]  # the refusal was remembered
    logged = _our_logs(caplog)
    assert "cliente_contato" in logged  # the admin learns which table to grant
    for secret in (PERSON.password, PERSON.document, "318.456.720-62", PERSON.name):
        assert secret not in logged


async def test_tickets_without_new_ones_are_listed_and_read_but_none_is_offered(
    env: BotEnv,
) -> None:
    """IXC without su_oss_assunto and no configured subjects: the subscriber still follows the
    tickets, but is never offered to open one (an old button says it is unavailable)."""
    await launch_lacking(env, lacking={Feature.NEW_TICKET})
    chat = env.chat()
    await login(chat)
    calls = await chat.press("menu:tickets")
    said = shown(calls)
    assert NOT_SUPPORTED not in said and "Protocolo" in said
    buttons = [data for call in calls for _, data in call.buttons]
    assert "tk:new" not in buttons
    calls = await chat.tap("Fechados")
    closed = next(d for _, d in calls[-1].buttons if d.startswith("tk:view:"))
    calls = await chat.press(closed)
    assert not any(d.startswith("tk:new") for _, d in calls[-1].buttons)
    calls = await chat.press("tk:new")
    assert NOT_SUPPORTED in shown(calls) and "assunto" not in shown(calls).lower()
    assert _refused(env) == []
