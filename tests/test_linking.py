"""Vincular contato (seed 1–1.1.1.1), 🔔 Notificações, /parar, and notices after logout."""

from __future__ import annotations

import pytest

from bot.notifications.jobs import deliver_due, poll_and_plan
from tests.support.bot_env import PERSON, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

pytestmark = pytest.mark.both_databases


async def _log_in_to_the_offer(chat: ChatDriver) -> list:  # type: ignore[type-arg]
    await chat.send("/start")
    await chat.send(PERSON.document)
    return await chat.send(PERSON.password)


async def test_link_to_an_existing_contact(env: BotEnv, chat: ChatDriver) -> None:
    calls = await _log_in_to_the_offer(chat)
    offered = [label for call in calls for label, _ in call.buttons]
    assert "👤 Maria Aparecida dos Santos (Financeiro)" in offered
    assert "👤 Carlos Eduardo Santos (Técnico)" in offered

    calls = await chat.tap("Carlos Eduardo Santos")
    said = shown(calls)
    assert "Cadastro vinculado com sucesso" in said
    assert "O que você precisa?" in said
    link = await env.app.bot_data["services"].notifications.get_link(chat.user_id)
    assert link is not None and link.contact_id == "ct-2" and link.subscriber_id == "s1"
    assert await env.backend.contact_devices("ct-2") == [f"telegram:{chat.user_id}"]

    # Linked: the next login does not offer again.
    await chat.send("/sair")
    calls = await _log_in_to_the_offer(chat)
    assert "Receber avisos" not in shown(calls)
    assert "O que você precisa?" in shown(calls)


async def test_register_a_new_contact_and_link_it(env: BotEnv, chat: ChatDriver) -> None:
    await _log_in_to_the_offer(chat)
    calls = await chat.tap("Cadastrar novo contato")
    assert "Nome completo" in shown(calls) or "nome" in shown(calls).lower()
    await chat.send("Ana Beatriz Souza")
    await chat.tap("Técnico")
    calls = await chat.send("19 98877-6655")
    await chat.tap("Pular")  # landline
    await chat.send("ana.souza@example.com")
    await chat.tap("Sim")
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Cadastro vinculado com sucesso" in said
    link = await env.app.bot_data["services"].notifications.get_link(chat.user_id)
    assert link is not None and link.contact_name == "Ana Beatriz Souza"
    assert await env.backend.contact_devices(link.contact_id) == [f"telegram:{chat.user_id}"]


async def test_not_now_is_not_asked_again(chat: ChatDriver) -> None:
    await _log_in_to_the_offer(chat)
    calls = await chat.tap("Agora não")
    assert "Notificações" in shown(calls)
    await chat.send("/sair")
    calls = await _log_in_to_the_offer(chat)
    assert "Receber avisos" not in shown(calls)


async def test_forged_contact_is_refused_without_linking(env: BotEnv, chat: ChatDriver) -> None:
    await _log_in_to_the_offer(chat)
    calls = await chat.press("link:contact:ct-4")  # another subscriber's contact
    assert methods(calls)[0] == "answerCallbackQuery"
    assert await env.app.bot_data["services"].notifications.get_link(chat.user_id) is None
    assert await env.backend.contact_devices("ct-4") == []


async def test_settings_toggle_and_unlink(env: BotEnv, chat: ChatDriver) -> None:
    await _log_in_to_the_offer(chat)
    await chat.tap("Maria Aparecida dos Santos")
    calls = await chat.send("/notificacoes")
    assert "vinculado ao contato Maria Aparecida dos Santos" in shown(calls)
    calls = await chat.tap("Lembretes de fatura")
    labels = [label for call in calls for label, _ in call.buttons]
    # One emoji per button, the state's (issue 21: not "✅ ✅ Pagamento confirmado").
    assert "🚫 Lembretes de fatura" in labels
    assert "✅ Pagamento confirmado" in labels
    store = env.app.bot_data["services"].notifications
    assert (await store.get_link(chat.user_id)).muted == {"invoices"}

    calls = await chat.tap("Desvincular")
    assert "não recebe mais avisos" in shown(calls)
    assert await store.get_link(chat.user_id) is None
    assert await env.backend.contact_devices("ct-1") == []


async def test_a_linked_chat_keeps_receiving_after_logout_until_parar(
    env: BotEnv, chat: ChatDriver
) -> None:
    await _log_in_to_the_offer(chat)
    await chat.tap("Maria Aparecida dos Santos")
    await chat.send("/sair")

    services = env.app.bot_data["services"]
    await env.backend.simulate_payment("inv-1011")
    await poll_and_plan(services.detector, services.planner, services.clock())
    report = await deliver_due(env.app.bot, services.notifications, services.clock)
    assert report.sent >= 1
    sent = shown([c for c in env.api.calls if c.method == "sendMessage"][-3:])
    assert "Recebemos o pagamento" in sent

    calls = await chat.send("/parar")  # logged out: unlinked through the provider feed
    assert "não recebe mais avisos" in shown(calls)
    assert await env.backend.contact_devices("ct-1") == []
    calls = await chat.send("/parar")
    assert "não está vinculado" in shown(calls)


async def test_notificacoes_on_an_unlinked_chat(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("/notificacoes")
    assert "não está vinculado" in shown(calls)
    calls = await chat.tap("Vincular este chat")
    assert "Escolha o contato" in shown(calls)


async def test_a_provider_without_contact_devices_still_links_on_our_side(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend_client.errors import NotSupported

    async def unsupported(*_: object) -> None:
        raise NotSupported("link_contact_device")

    monkeypatch.setattr(env.backend, "link_contact_device", unsupported)
    await _log_in_to_the_offer(chat)
    calls = await chat.tap("Maria Aparecida dos Santos")
    assert "Cadastro vinculado com sucesso" in shown(calls)
    assert await env.app.bot_data["services"].notifications.get_link(chat.user_id) is not None


async def test_a_provider_without_contacts_offers_the_account_holder(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: a system with no contacts (IXC's webservice) still links the chat, to the
    account holder, on our side; reminders then reach it after logout."""
    from backend_client.errors import NotSupported

    async def unsupported(*_: object) -> None:
        raise NotSupported("list_contacts")

    monkeypatch.setattr(env.backend, "list_contacts", unsupported)
    monkeypatch.setattr(env.backend, "link_contact_device", unsupported)
    calls = await _log_in_to_the_offer(chat)
    assert "Escolha o contato" in shown(calls)
    offered = [label for call in calls for label, _ in call.buttons]
    assert "👤 Maria Aparecida dos Santos (Titular)" in offered
    calls = await chat.tap("Maria Aparecida dos Santos (Titular)")
    assert "Cadastro vinculado com sucesso" in shown(calls)
    store = env.app.bot_data["services"].notifications
    link = await store.get_link(chat.user_id)
    assert link is not None and link.subscriber_id == "s1" and link.has_reference
    assert [w.subscriber_id for w in await store.watched()] == ["s1"]
