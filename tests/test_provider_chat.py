"""The provider file as a subscriber meets it (issue 20): the greeting, the menu's items and order,
📞 Fale com a gente, /ajuda, Esqueci minha senha, the apology's phone, the due days and ticket
subjects offered, the bot's descriptions; and a PUT through the admin API changing the menu for
the next update and after a restart."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram.error import BadRequest

from backend_client.features import Feature
from backend_client.models import BackendSession, DueDayOptions
from backend_client.sandbox import SandboxBackend
from bot.settings import Settings
from bot.ui import texts
from bot.web import create_web_app
from tests.support.bot_env import (
    PERSON,
    TODAY,
    BotEnv,
    launch_lacking,
    login,
    set_backend_timeout,
    settings_with_provider_file,
)
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.test_due_day import SmtpServer, free_port, use_smtp

ROOT = Path(__file__).resolve().parents[1]
API_TOKEN = "adm-0123456789abcdef0123456789"
PROVIDER_FILE = """
[provider]
name = "Net Exemplo"
support_phone = "(11) 4000-1234"
support_whatsapp = "+55 11 98888-7777"
support_email = "suporte@netexemplo.com.br"
support_hours = "seg a sex, 8h às 18h"
website = "https://netexemplo.com.br"
password_help = "Para criar ou recuperar a senha, acesse <b>netexemplo.com.br/central</b>."

[menu]
items = ["invoices", "tickets", "account", "due_day", "notifications"]

[policies]
due_days = [7, 14, 21]
ticket_subjects = ["Financeiro", "Sem conexão", "Não existe no sistema"]
"""
MENU = ["menu:invoices", "menu:tickets", "menu:account", "menu:due_day", "menu:notifications"]


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    return settings_with_provider_file(tmp_path, bot_database_url, PROVIDER_FILE)


def _menu(chat: ChatDriver) -> list[str]:
    """The callback data of the main menu on screen, in order (Sair left out)."""
    message = chat.message_with_button("menu:logout")
    assert message is not None
    markup = chat.api.messages[(chat.user_id, message)].reply_markup or {}
    data = [button["callback_data"] for row in markup["inline_keyboard"] for button in row]
    return [item for item in data if item != "menu:logout"]


async def test_the_welcome_and_the_menu_carry_the_name_items_and_order(chat: ChatDriver) -> None:
    calls = await chat.send("/start")
    assert "Central do Assinante Net Exemplo" in shown(calls)
    await login(chat)
    assert chat.screen().startswith("📋 Menu Net Exemplo — olá, Maria!")
    assert _menu(chat) == [*MENU, "menu:contact"]  # the file's order, then Fale com a gente


async def test_fale_com_a_gente_and_ajuda_give_every_channel(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.tap("Fale com a gente")
    card = shown(calls)
    for expected in (
        "Fale com a gente — Net Exemplo",
        "Telefone: (11) 4000-1234",
        "WhatsApp: +55 11 98888-7777",
        "E-mail: suporte@netexemplo.com.br",
        "Site: https://netexemplo.com.br",
        "Horário de atendimento: seg a sex, 8h às 18h",
    ):
        assert expected in card
    assert 'href="https://wa.me/5511988887777"' in calls[-1].text  # opens the WhatsApp chat
    assert calls[-1].buttons == [("⬅️ Menu", "menu:home")]

    said = shown(await chat.send("/ajuda"))
    assert said.startswith("ℹ️ Como usar")  # the catalogue's help, then the contacts
    assert "Telefone: (11) 4000-1234" in said and "Horário de atendimento" in said


async def test_esqueci_minha_senha_shows_password_help_and_the_login_goes_on(
    chat: ChatDriver,
) -> None:
    await chat.send("/start")
    calls = await chat.send(PERSON.document)
    assert calls[-1].buttons == [("🤔 Esqueci minha senha", "login:forgot_password")]
    calls = await chat.press("login:forgot_password")
    assert "Para criar ou recuperar a senha, acesse netexemplo.com.br/central." in shown(calls)
    calls = await chat.send(PERSON.password)  # still the password step
    assert "Você entrou na sua central" in shown(calls)


async def test_a_wrong_password_offers_another_document_and_the_help(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send("senha-errada")
    assert calls[-1].buttons == [
        ("🔁 Usar outro CPF/CNPJ", "login:other_document"),
        ("🤔 Esqueci minha senha", "login:forgot_password"),
    ]


async def test_items_the_system_lacks_stay_hidden_whatever_the_file_says(env: BotEnv) -> None:
    await launch_lacking(env, lacking={Feature.DUE_DAY})
    chat = env.chat()
    await login(chat)
    assert _menu(chat) == [item for item in MENU if item != "menu:due_day"] + ["menu:contact"]


async def test_an_unavailable_system_gets_an_apology_with_the_support_phone(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    set_backend_timeout(env, 0.2)
    env.backend.latency = 1.0  # type: ignore[union-attr]
    said = shown(await chat.press("menu:account"))
    assert "não respondeu" in said and "Se for urgente, ligue para (11) 4000-1234." in said


class WithoutDueDayList(SandboxBackend):
    """A system that says the current due day but gives no list of days to move it to."""

    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        options = await super().get_due_day_options(session, contract_id)
        return dataclasses.replace(options, available_days=())


async def test_the_files_due_days_are_offered_when_the_system_has_no_list(env: BotEnv) -> None:
    env.make_backend = lambda url: WithoutDueDayList(url, today=lambda: TODAY)
    await env.launch()
    chat = env.chat()
    await login(chat)
    calls = await chat.press("menu:due_day")
    days = [data for _, data in calls[-1].buttons if data.startswith("venc:day:")]
    assert days == ["venc:day:7", "venc:day:14", "venc:day:21"]


async def test_the_files_ticket_subjects_are_offered_in_its_order(
    chat: ChatDriver, caplog: pytest.LogCaptureFixture
) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    calls = await chat.tap("Novo atendimento")
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:2] == ["Financeiro", "Sem conexão"]
    assert not any(label in labels for label in ("Lentidão", "Cancelamento", "Outro"))
    assert "no subject named 'Não existe no sistema'" in caplog.text


async def test_the_bots_descriptions_carry_the_providers_name(env: BotEnv) -> None:
    descriptions = env.api.api.descriptions
    for language in ("", "pt"):
        assert descriptions[("description", language)].startswith(
            "Central do Assinante Net Exemplo no Telegram"
        )
        assert descriptions[("short_description", language)] == (
            "Central do Assinante Net Exemplo: faturas, 2ª via, PIX e atendimentos."
        )


@pytest.fixture
async def admin(env: BotEnv) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_web_app(env.app, admin_token=API_TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def test_a_put_changes_the_menu_for_the_next_update_and_after_a_restart(
    env: BotEnv,
    chat: ChatDriver,
    admin: TestClient,  # type: ignore[type-arg]
) -> None:
    await login(chat)
    new_file = '[provider]\nname = "Fibra Sul"\n\n[menu]\nitems = ["tickets", "invoices"]\n'
    response = await admin.put(
        "/admin/api/config",
        data=new_file,
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/toml"},
    )
    assert response.status == 200
    await chat.send("/menu")  # the next update
    assert chat.screen().startswith("📋 Menu Fibra Sul — olá, Maria!")
    assert _menu(chat) == ["menu:tickets", "menu:invoices"]  # no contacts: no Fale com a gente

    await env.launch()  # a restart reads the file the PUT wrote
    chat = env.chat()
    await chat.send("/menu")
    assert chat.screen().startswith("📋 Menu Fibra Sul")
    assert _menu(chat) == ["menu:tickets", "menu:invoices"]


async def test_without_a_file_the_bot_is_as_before(env: BotEnv) -> None:
    env.api.api.descriptions.clear()
    env.settings = dataclasses.replace(env.settings, provider_config=None)
    await env.launch()
    assert env.api.api.descriptions == {}  # BotFather's description stays
    chat = env.chat()
    calls = await chat.send("/start")
    assert shown(calls).startswith("👋 Olá! Eu sou a Minha Central, o atendimento automático")
    calls = await chat.send(PERSON.document)
    assert calls[-1].buttons == []  # no Esqueci minha senha
    await chat.send(PERSON.password)
    await chat.press("link:later")  # the offer to link this chat: not now
    assert chat.screen().startswith("📋 Menu — olá, Maria!")
    assert _menu(chat) == [f"menu:{item}" for item, _ in texts.MENU_ITEMS]
    assert "Fale com a gente" not in shown(await chat.send("/ajuda"))


@pytest.fixture
def mail_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


async def test_the_subscribers_e_mail_is_signed_with_the_providers_name(
    env: BotEnv, chat: ChatDriver, mail_server: SmtpServer
) -> None:
    use_smtp(env, mail_server.port)
    await login(chat)
    await chat.press("menu:due_day")
    await chat.tap("Dia 15")  # the system's own list: the file's days are not needed
    await chat.tap("Concordo")
    _, subscriber = mail_server.received
    assert "mensagem automática da Central do Assinante Net Exemplo." in subscriber.body


async def test_the_local_bot_api_keeps_telegrams_description_limits(env: BotEnv) -> None:
    bot = env.app.bot
    with pytest.raises(BadRequest):
        await bot.set_my_description("x" * 513)
    with pytest.raises(BadRequest):
        await bot.set_my_short_description("x" * 121)
    assert await bot.set_my_short_description("y" * 120, language_code="en")
    assert (await bot.get_my_short_description("en")).short_description == "y" * 120
    assert (await bot.get_my_description()).description.startswith("Central do Assinante Net")
