"""A chat link belongs to one subscriber (issue 17, defect 5): another subscriber logged in on
the same chat neither sees nor changes it, and may only replace it with a link of their own after
confirming (then the old contact's notices stop)."""

from __future__ import annotations

from typing import Any

import pytest

from backend_client.models import InvoiceStatus
from bot.notifications.jobs import deliver_due, poll_and_plan
from tests.support.bot_env import COMPANY, PERSON, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

pytestmark = pytest.mark.both_databases

SILVA_CONTACT = "Roberta Silva"  # a contact of Silva & Filhos (s3)


async def _log_in(chat: ChatDriver, account: Any) -> list[Any]:
    await chat.send("/start")
    await chat.send(account.document)
    return await chat.send(account.password)


async def _silva_links_the_chat(env: BotEnv, chat: ChatDriver) -> Any:
    await _log_in(chat, COMPANY)
    calls = await chat.tap(SILVA_CONTACT)
    assert "Cadastro vinculado com sucesso" in shown(calls)
    link = await env.app.bot_data["services"].notifications.get_link(chat.user_id)
    assert link is not None and link.contact_name == SILVA_CONTACT
    assert await env.backend.contact_devices(link.contact_id) == [f"telegram:{chat.user_id}"]
    await chat.send("/sair")
    return link


def _labels(calls: list[Any]) -> list[str]:
    return [label for call in calls for label, _ in call.buttons]


async def _pay_one_open_invoice(env: BotEnv, account: Any) -> str:
    backend = env.backend
    assert backend is not None
    session = await backend.login(account.document, account.password)
    invoices = await backend.list_invoices(session, statuses=frozenset({InvoiceStatus.OPEN}))
    await backend.simulate_payment(invoices[0].id)
    return invoices[0].reference


async def test_another_subscriber_neither_sees_nor_changes_the_link(
    env: BotEnv, chat: ChatDriver
) -> None:
    silva = await _silva_links_the_chat(env, chat)
    store = env.app.bot_data["services"].notifications

    calls = await _log_in(chat, PERSON)  # Maria, on the chat Silva linked
    said = shown(calls)
    assert "outra conta" in said and "Escolha o contato" in said
    assert SILVA_CONTACT not in said and "Silva" not in said
    assert "👤 Maria Aparecida dos Santos (Financeiro)" in _labels(calls)

    calls = await chat.tap("Agora não")
    calls = await chat.send("/notificacoes")
    said = shown(calls)
    assert "vinculado a outra conta" in said and SILVA_CONTACT not in said
    labels = _labels(calls)
    assert not any("Desvincular" in label or "Lembretes" in label for label in labels), labels
    assert "🔗 Vincular este chat à minha conta" in labels

    # Forged buttons and /parar change nothing of Silva's link.
    for data in ("notif:unlink", "notif:toggle:invoices"):
        calls = await chat.press(data)
        assert SILVA_CONTACT not in shown(calls)
    calls = await chat.send("/parar")
    said = shown(calls)
    assert "nada foi alterado" in said and "não recebe mais avisos" not in said
    assert await store.get_link(chat.user_id) == silva
    assert await env.backend.contact_devices(silva.contact_id) == [f"telegram:{chat.user_id}"]


async def test_linking_to_oneself_replaces_the_link_only_after_confirming(
    env: BotEnv, chat: ChatDriver
) -> None:
    silva = await _silva_links_the_chat(env, chat)
    services = env.app.bot_data["services"]
    store = services.notifications
    # A notice of Silva's is waiting for this chat (quiet hours, or the next delivery round).
    reference = await _pay_one_open_invoice(env, COMPANY)
    assert await poll_and_plan(services.detector, services.planner, services.clock()) >= 1

    await _log_in(chat, PERSON)
    calls = await chat.tap("Maria Aparecida dos Santos")
    said = shown(calls)
    assert "Substituir o vínculo deste chat?" in said and "Cadastro vinculado" not in said
    assert SILVA_CONTACT not in said
    assert await store.get_link(chat.user_id) == silva  # nothing replaced yet

    sent_before = len(env.api.calls)
    calls = await chat.tap("Sim, vincular à minha conta")
    assert "Cadastro vinculado com sucesso" in shown(calls)
    link = await store.get_link(chat.user_id)
    assert (link.subscriber_id, link.contact_id) == ("s1", "ct-1")
    assert await env.backend.contact_devices(silva.contact_id) == []
    assert await env.backend.contact_devices("ct-1") == [f"telegram:{chat.user_id}"]

    # Silva's notices no longer reach this chat: neither the one waiting nor new ones.
    services.clock.advance(hours=13)  # past any quiet hours
    await deliver_due(env.app.bot, store, services.clock)
    await _pay_one_open_invoice(env, COMPANY)
    await poll_and_plan(services.detector, services.planner, services.clock())
    await deliver_due(env.app.bot, store, services.clock)
    sent = shown([c for c in env.api.calls[sent_before:] if c.method == "sendMessage"])
    assert "Recebemos o pagamento" not in sent and reference not in sent


async def test_cancelling_the_replacement_keeps_the_other_link(
    env: BotEnv, chat: ChatDriver
) -> None:
    silva = await _silva_links_the_chat(env, chat)
    await _log_in(chat, PERSON)
    await chat.tap("Carlos Eduardo Santos")
    calls = await chat.tap("Cancelar")
    assert "O que você precisa?" in shown(calls)
    assert await env.app.bot_data["services"].notifications.get_link(chat.user_id) == silva
    # A forged confirmation for a contact that is not Maria's replaces nothing either.
    await chat.press(f"link:replace:{silva.contact_id}")
    assert await env.app.bot_data["services"].notifications.get_link(chat.user_id) == silva


async def test_silva_logging_in_is_offered_to_take_the_chat_without_naming_maria(
    env: BotEnv, chat: ChatDriver
) -> None:
    await _log_in(chat, PERSON)
    await chat.tap("Maria Aparecida dos Santos")
    await chat.send("/sair")
    calls = await _log_in(chat, COMPANY)
    assert "outra conta" in shown(calls)
    assert "Maria" not in shown(calls) and "Maria" not in " ".join(_labels(calls))
    assert f"👤 {SILVA_CONTACT} (Financeiro)" in _labels(calls)


async def test_silva_cannot_unlink_marias_link(env: BotEnv, chat: ChatDriver) -> None:
    await _log_in(chat, PERSON)
    await chat.tap("Maria Aparecida dos Santos")
    await chat.send("/sair")
    store = env.app.bot_data["services"].notifications
    maria = await store.get_link(chat.user_id)

    await login(chat, COMPANY)  # "Agora não" to any offer
    calls = await chat.send("/notificacoes")
    assert "Maria" not in shown(calls) and not any("Desvincular" in x for x in _labels(calls))
    calls = await chat.send("/parar")
    assert "nada foi alterado" in shown(calls)
    assert await store.get_link(chat.user_id) == maria
    assert await env.backend.contact_devices("ct-1") == [f"telegram:{chat.user_id}"]
