"""Contatos: the list, and "➕ Novo contato" step by step, as a subscriber sees them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from backend_client.features import Feature
from backend_client.models import Contact, NewContact
from backend_client.sandbox.seed import DemoAccount
from bot.conversations.contacts import NEW_CONTACT, PAGE_SIZE
from bot.ui import texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, launch_lacking, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call


async def _contacts_of(env: BotEnv, account: DemoAccount = PERSON) -> list[Contact]:
    assert env.backend is not None
    session = await env.backend.login(account.document, account.password)
    return await env.backend.list_contacts(session)


async def _fill(chat: ChatDriver, *, landline: str | None, email: str | None) -> list[Call]:
    """Answer every step correctly; returns the calls of the last answer (the summary)."""
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    await chat.send("Ana Paula Souza")
    await chat.tap("Técnico")
    await chat.send("(19) 98765-4321")
    await (chat.send(landline) if landline else chat.tap("Pular"))
    await (chat.send(email) if email else chat.tap("Pular"))
    return await chat.tap("Sim")


async def test_the_list_shows_every_contact_with_formatted_phones(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.press("menu:contacts")
    said = shown(calls)
    assert "2 contatos cadastrados" in said
    assert "Maria Aparecida dos Santos — Financeiro" in said
    assert "Celular: (19) 99123-4567" in said
    assert "E-mail: maria.santos@example.com" in said
    assert "Aviso por SMS: Sim" in said
    assert "Carlos Eduardo Santos — Técnico" in said
    assert "Fixo: (19) 3254-1234" in said
    assert "Aviso por SMS: Não" in said
    buttons = [data for _, data in calls[-1].buttons]
    assert buttons == ["contacts:new", "menu:home"]
    assert "editMessageText" in methods(calls)


async def test_a_system_that_takes_no_new_contacts_is_never_offered_one(env: BotEnv) -> None:
    await launch_lacking(env, lacking={Feature.NEW_CONTACT})
    chat = env.chat()
    await chat.send("/start")
    await chat.send(PERSON.document)
    calls = await chat.send(PERSON.password)  # the offer to link this chat: its contacts only
    offered = [data for call in calls for _, data in call.buttons]
    assert any(data.startswith("link:contact:") for data in offered)
    assert "link:new" not in offered
    assert "novo contato" not in shown(calls).lower()
    await chat.press("link:later")

    calls = await chat.press("menu:contacts")
    assert "2 contatos cadastrados" in shown(calls)
    assert [data for _, data in calls[-1].buttons] == ["menu:home"]
    assert "Novo contato" not in shown(calls)


async def test_an_empty_list_on_such_a_system_does_not_point_to_a_new_contact(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    await launch_lacking(env, lacking={Feature.NEW_CONTACT})
    chat = env.chat()
    await login(chat)

    async def none(*args: object) -> list[Contact]:
        return []

    monkeypatch.setattr(env.backend, "list_contacts", none)
    calls = await chat.press("menu:contacts")
    said = shown(calls)
    assert "ainda não tem contatos" in said and "atendimento do provedor" in said
    assert "Novo contato" not in said
    assert [data for _, data in calls[-1].buttons] == ["menu:home"]


async def test_a_new_contact_step_by_step_is_saved_in_the_backend(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    calls = await chat.tap("Novo contato")
    assert "nome completo" in shown(calls)
    assert [data for _, data in calls[-1].buttons] == ["contacts:cancel", "menu:home"]
    calls = await chat.send("ana paula souza")
    assert "tipo de contato" in shown(calls)
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:5] == ["Administrativo", "Financeiro", "Técnico", "Comercial", "Outro"]
    calls = await chat.tap("Financeiro")
    assert "celular com DDD" in shown(calls)
    calls = await chat.send("+55 19 98765 4321")
    assert "telefone fixo com DDD" in shown(calls)
    calls = await chat.send("(19) 3234-5678")
    assert "e-mail" in shown(calls)
    calls = await chat.send("Ana.Souza@Gmail.com")
    assert "avisos por SMS" in shown(calls)
    calls = await chat.tap("Não")
    said = shown(calls)
    assert "Confira o novo contato" in said
    assert "Nome: Ana Paula Souza" in said
    assert "Tipo: Financeiro" in said
    assert "Celular: (19) 98765-4321" in said
    assert "Telefone fixo: (19) 3234-5678" in said
    assert "E-mail: Ana.Souza@gmail.com" in said
    assert "Aviso por SMS: Não" in said

    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Contato Ana Paula Souza cadastrado com sucesso" in said
    assert "3 contatos cadastrados" in said
    saved = (await _contacts_of(env))[-1]
    assert saved.name == "Ana Paula Souza"
    assert saved.type.id == "financeiro"
    assert saved.mobile == "5519987654321"
    assert saved.landline == "551932345678"
    assert saved.email == "Ana.Souza@gmail.com"
    assert saved.sms_opt_in is False
    assert chat.application.chat_data[chat.user_id].get("contacts") is None  # draft cleared


async def test_landline_and_email_can_be_skipped(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    calls = await _fill(chat, landline=None, email=None)
    said = shown(calls)
    assert "Telefone fixo: não informado" in said
    assert "E-mail: não informado" in said
    await chat.tap("Confirmar")
    saved = (await _contacts_of(env))[-1]
    assert (saved.landline, saved.email, saved.sms_opt_in) == (None, None, True)


async def test_bad_input_at_every_step_is_asked_again_with_an_example_keeping_the_rest(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")

    calls = await chat.send("Ana")
    said = shown(calls)
    assert "nome completo" in said and "Exemplo: Ana Paula Souza" in said
    calls = await chat.send("Ana 2 Souza")
    assert "só letras" in shown(calls)
    await chat.send("Ana Souza")

    calls = await chat.send("qualquer coisa")  # typed where a type button is expected
    assert "não está disponível" in shown(calls)
    assert "Técnico" in [label for label, _ in calls[-1].buttons]
    calls = await chat.send("técnico")  # a type typed by its name is understood
    assert "celular com DDD" in shown(calls)

    calls = await chat.send("98765-4321")
    said = shown(calls)
    assert "Faltou o DDD" in said and "Exemplo: (19) 98765-4321" in said
    calls = await chat.send("(20) 98765-4321")
    assert "Esse DDD não existe" in shown(calls)
    calls = await chat.send("(19) 3234-5678")
    assert "Aqui preciso do celular" in shown(calls)
    calls = await chat.send("(19) 8765-4321")
    assert "9 dígitos começando com 9" in shown(calls)
    await chat.send("19 99876-5432")

    calls = await chat.send("(19) 98765-4321")
    said = shown(calls)
    assert "Esse número é de celular" in said and "Exemplo: (19) 3234-5678" in said
    calls = await chat.send("(19) 6234-5678")
    assert "começando com 2, 3, 4 ou 5" in shown(calls)
    assert "contacts:skip:landline" in [data for _, data in calls[-1].buttons]
    await chat.send("(19) 3234-5678")

    calls = await chat.send("ana@gmail")
    said = shown(calls)
    assert "domínio completo" in said and "Exemplo: ana.souza@gmail.com" in said
    calls = await chat.send("ana souza@gmail.com")
    assert "não parece válido" in shown(calls)
    await chat.send("ana@gmail.com")

    calls = await chat.send("talvez")
    assert "toque em um dos botões" in shown(calls)
    calls = await chat.send("sim")
    said = shown(calls)
    assert "Nome: Ana Souza" in said
    assert "Tipo: Técnico" in said
    assert "Celular: (19) 99876-5432" in said
    assert "Telefone fixo: (19) 3234-5678" in said
    assert "E-mail: ana@gmail.com" in said
    assert "Aviso por SMS: Sim" in said

    calls = await chat.send("ok")  # typed on the summary
    assert "toque em um dos botões" in shown(calls)
    assert "Confira o novo contato" in shown(calls)
    await chat.tap("Confirmar")
    assert (await _contacts_of(env))[-1].mobile == "5519998765432"


async def test_a_photo_instead_of_a_name_asks_for_text(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    calls = await chat.send_photo()
    assert "mensagem de texto" in shown(calls)
    calls = await chat.send("Ana Souza")
    assert "tipo de contato" in shown(calls)


async def test_corrigir_changes_only_the_chosen_field(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await _fill(chat, landline="(19) 3234-5678", email="ana@gmail.com")
    calls = await chat.tap("Corrigir")
    assert "Qual dado você quer corrigir?" in shown(calls)
    labels = [label for label, _ in calls[-1].buttons]
    for field in ("Nome", "Tipo", "Celular", "Telefone fixo", "E-mail", "Aviso por SMS"):
        assert any(field in label for label in labels)

    calls = await chat.tap("E-mail")
    said = shown(calls)
    assert "Atual: ana@gmail.com" in said
    assert "contacts:summary" in [data for _, data in calls[-1].buttons]
    calls = await chat.send("errado@")
    assert "Atual: ana@gmail.com" in shown(calls)  # still correcting, value still there
    calls = await chat.send("ana.souza@uol.com.br")
    said = shown(calls)
    assert "Confira o novo contato" in said
    assert "E-mail: ana.souza@uol.com.br" in said
    assert "Nome: Ana Paula Souza" in said
    assert "Telefone fixo: (19) 3234-5678" in said

    await chat.tap("Corrigir")
    calls = await chat.tap("Tipo")
    assert "Atual: Técnico" in shown(calls)
    calls = await chat.tap("Comercial")
    assert "Tipo: Comercial" in shown(calls)

    await chat.tap("Corrigir")
    await chat.tap("Aviso por SMS")
    calls = await chat.tap("Não")
    assert "Aviso por SMS: Não" in shown(calls)

    await chat.tap("Corrigir")
    await chat.tap("Telefone fixo")
    calls = await chat.tap("Pular")
    assert "Telefone fixo: não informado" in shown(calls)

    await chat.tap("Corrigir")
    calls = await chat.tap("Voltar ao resumo")
    assert "Confira o novo contato" in shown(calls)

    await chat.tap("Confirmar")
    saved = (await _contacts_of(env))[-1]
    assert saved.name == "Ana Paula Souza"
    assert saved.type.id == "comercial"
    assert saved.mobile == "5519987654321"
    assert saved.landline is None
    assert saved.email == "ana.souza@uol.com.br"
    assert saved.sms_opt_in is False


async def test_cancel_goes_back_to_the_list_without_saving(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    await chat.send("Ana Souza")
    calls = await chat.tap("Cancelar cadastro")
    said = shown(calls)
    assert "não cadastrei" in said
    assert "2 contatos cadastrados" in said
    assert len(await _contacts_of(env)) == 2
    assert "contacts" not in chat.application.chat_data[chat.user_id]


async def test_menu_mid_way_leaves_and_later_text_is_not_a_name(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    await chat.send("Ana Souza")
    calls = await chat.send("/menu")
    assert "O que você precisa?" in shown(calls)
    assert "contacts" not in chat.application.chat_data[chat.user_id]
    calls = await chat.send("(19) 98765-4321")
    assert "Não entendi" in shown(calls)
    assert len(await _contacts_of(env)) == 2


async def test_the_draft_survives_a_restart_and_is_plain_json(env: BotEnv) -> None:
    chat = env.chat()
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    await chat.send("Ana Souza")
    await chat.tap("Outro")
    await env.app.update_persistence()
    async with env.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT data FROM ptb_persistence"))).all()
    stored = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    drafts = [data["contacts"]["new_contact"] for data in stored if "contacts" in data]
    assert drafts == [{"name": "Ana Souza", "type": "outro", "type_name": "Outro"}]

    await env.launch()
    chat = env.chat()
    calls = await chat.send("(19) 98765-4321")
    assert "telefone fixo" in shown(calls)
    await chat.tap("Pular")
    await chat.tap("Pular")
    calls = await chat.tap("Sim")
    said = shown(calls)
    assert "Nome: Ana Souza" in said and "Tipo: Outro" in said


async def test_backend_down_on_confirm_keeps_everything_for_a_retry(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await _fill(chat, landline=None, email="ana@gmail.com")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "não respondeu" in said
    assert "Nome: Ana Paula Souza" in said
    assert "contacts:confirm" in [data for _, data in calls[-1].buttons]
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Confirmar")
    assert "cadastrado com sucesso" in shown(calls)
    contacts = await _contacts_of(env)
    assert [c.name for c in contacts].count("Ana Paula Souza") == 1


async def test_backend_down_while_listing_types_offers_a_retry(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.send("Ana Souza")
    assert "não respondeu" in shown(calls)
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Tentar de novo")
    assert "tipo de contato" in shown(calls)
    await chat.tap("Financeiro")
    await chat.send("19987654321")
    await chat.tap("Pular")
    await chat.tap("Pular")
    calls = await chat.tap("Não")
    assert "Nome: Ana Souza" in shown(calls)


async def test_backend_down_on_the_list_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.press("menu:contacts")
    assert "não respondeu" in shown(calls)
    assert methods(calls).count("answerCallbackQuery") == 1


async def test_the_provider_refusing_shows_its_reason_and_keeps_the_draft(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend_client.errors import Rejected

    await login(chat)
    await _fill(chat, landline=None, email=None)

    async def refuse(*_: object) -> None:
        raise Rejected("Limite de 10 contatos <atingido> & fim")

    monkeypatch.setattr(env.backend, "add_contact", refuse)
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Limite de 10 contatos <atingido> & fim" in said
    assert "Nome: Ana Paula Souza" in said


async def test_forged_buttons_are_harmless(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:contacts")
    await chat.tap("Novo contato")
    calls = await chat.press("contacts:confirm")  # the summary is not reached yet
    assert texts.BUTTON_EXPIRED in shown(calls)
    assert methods(calls) == ["answerCallbackQuery"]
    await chat.send("Ana Souza")
    calls = await chat.press("contacts:type:../../etc/passwd")
    assert "não está disponível" in shown(calls)
    await chat.tap("Técnico")
    await chat.send("19987654321")
    await chat.tap("Pular")
    await chat.tap("Pular")
    calls = await chat.press("contacts:sms:maybe")
    assert methods(calls)[0] == "answerCallbackQuery"
    assert "avisos por SMS" in chat.screen()
    await chat.tap("Sim")
    calls = await chat.press("contacts:fix:password")
    assert "Qual dado você quer corrigir?" in shown(calls)
    calls = await chat.press("contacts:skip:name")
    assert texts.BUTTON_EXPIRED in shown(calls)
    assert len(await _contacts_of(env)) == 2
    calls = await chat.press("contacts:page:abc")
    assert "2 contatos cadastrados" in shown(calls)


async def test_a_double_tap_on_confirmar_saves_once(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat)
    await _fill(chat, landline=None, email=None)
    summary = chat.message_with_button("contacts:confirm")
    await chat.press("contacts:confirm", summary)
    calls = await chat.press("contacts:confirm", summary)
    assert methods(calls)[0] == "answerCallbackQuery"
    assert [c.name for c in await _contacts_of(env)].count("Ana Paula Souza") == 1


async def test_a_long_list_is_paged_and_a_new_contact_is_shown_on_its_page(
    env: BotEnv, chat: ChatDriver
) -> None:
    session = await env.backend.login(COMPANY.document, COMPANY.password)  # type: ignore[union-attr]
    for number in range(10):
        await env.backend.add_contact(  # type: ignore[union-attr]
            session,
            NewContact(
                name=f"Pessoa & Filhos <{number:02d}>",
                type_id="outro",
                mobile=f"55199876543{number:02d}",
                landline=None,
                email=None,
                sms_opt_in=False,
            ),
        )
    await login(chat, COMPANY)
    calls = await chat.press("menu:contacts")
    said = shown(calls)
    assert "12 contatos cadastrados · página 1 de 3" in said
    assert said.count("👤") == PAGE_SIZE
    assert ("▶️", "contacts:page:1") in calls[-1].buttons
    calls = await chat.tap("▶️")
    said = shown(calls)
    assert "página 2 de 3" in said
    assert "Pessoa & Filhos <03>" in said  # escaped properly, shown as typed
    calls = await chat.press("contacts:page:999")  # a forged page is clamped
    assert "página 3 de 3" in shown(calls)
    assert all(len(c.text) <= 4096 for c in calls)

    await chat.press("contacts:page:0")
    await chat.tap("Novo contato")
    await chat.send("Zélia Gattai")
    await chat.tap("Comercial")
    await chat.send("19 98888-7777")
    await chat.tap("Pular")
    await chat.tap("Pular")
    await chat.tap("Não")
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "13 contatos cadastrados · página 3 de 3" in said
    assert "Zélia Gattai — Comercial" in said


async def test_reusable_steps_namespace_their_draft() -> None:
    assert NEW_CONTACT.ASK_NAME == "new_contact:name"
    assert set(NEW_CONTACT.STATES) == {"name", "type", "mobile", "landline", "email", "sms"}
