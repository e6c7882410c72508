"""Free text (issue 21) with a provider file: a person means the provider's own contacts, and a
request for an item the provider does not offer says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from bot.ui import texts
from bot.ui.formatting import plain_text
from bot.ui.texts import free_text as t
from tests.support.bot_env import login, settings_with_provider_file
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

PROVIDER_FILE = """
[provider]
name = "Net Exemplo"
support_phone = "(11) 4000-1234"
support_whatsapp = "+55 11 98888-7777"
password_help = "Para criar ou recuperar a senha, acesse <b>netexemplo.com.br/central</b>."

[menu]
items = ["invoices", "tickets", "account", "notifications"]
"""


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    return settings_with_provider_file(tmp_path, bot_database_url, PROVIDER_FILE)


async def test_asking_for_a_person_shows_the_providers_contacts(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("quero falar com uma pessoa")
    said = shown(calls)
    assert plain_text(t.HUMAN_CONTACTS) in said
    assert "(11) 4000-1234" in said
    assert "+55 11 98888-7777" in said


async def test_a_person_before_the_login_gets_the_contacts_at_once(chat: ChatDriver) -> None:
    calls = await chat.send("atendente")
    said = shown(calls)
    assert "(11) 4000-1234" in said  # no login needed to see them
    assert plain_text(texts.ASK_DOCUMENT) in said


async def test_an_item_the_provider_does_not_offer_is_not_opened(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("extrato de conexão")
    assert plain_text(texts.NOT_SUPPORTED) in shown(calls)
    assert "Extrato de Conexão" not in shown(calls)


async def test_unsure_offers_only_what_the_provider_offers(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("quanto gastei de telefone")  # calls, connections, contacts: none
    assert plain_text(t.NOT_UNDERSTOOD) in shown(calls)
    assert [data for _, data in calls[-1].buttons] == ["menu:home"]


async def test_a_forgotten_password_gets_the_providers_help(chat: ChatDriver) -> None:
    calls = await chat.send("esqueci a senha")
    assert "netexemplo.com.br/central" in shown(calls)
    await login(chat)
    calls = await chat.send("não lembro minha senha")
    assert "netexemplo.com.br/central" in shown(calls)
    # Alterar Senha is not among this provider's items: only the way back to the menu.
    assert [data for _, data in calls[-1].buttons] == ["menu:home"]
