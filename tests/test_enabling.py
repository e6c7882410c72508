"""Habilitação Provisória, as a subscriber sees it."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date

import pytest
from sqlalchemy import update

from backend_client.models import BackendSession, ContractStatus, TemporaryEnabling
from backend_client.sandbox.db import ContractRow
from bot.ui import texts
from tests.support.billing import copy_values
from tests.support.bot_env import COMPANY, PERSON, SUSPENDED, TODAY, BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

PROTOCOL = re.compile(r"\d{8}\d{6}")


async def _contract_status(env: BotEnv, account: object, contract_id: str) -> ContractStatus:
    backend = env.backend
    assert backend is not None
    session = await backend.login(account.document, account.password)  # type: ignore[attr-defined]
    subscriber = await backend.get_subscriber(session)
    return next(c.status for c in subscriber.contracts if c.id == contract_id)


async def test_suspended_contract_is_enabled_after_the_rule_is_shown(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, SUSPENDED)
    calls = await chat.press("menu:enabling")
    said = shown(calls)
    assert "Contrato 2024/0412 — Fibra 500 Mega" in said and "🔴 Suspenso" in said
    assert "por 3 dias" in said and "uma vez a cada 30 dias" in said
    assert calls[-1].buttons[0] == ("✅ Confirmar habilitação", "hab:confirm:c2")
    assert await _contract_status(env, SUSPENDED, "c2") is ContractStatus.SUSPENDED

    calls = await chat.tap("Confirmar habilitação")
    said = shown(calls)
    assert "habilitada até 01/12/2026" in said
    # The protocol stands alone in its own monospace message.
    (protocol,) = copy_values(calls)
    assert PROTOCOL.fullmatch(protocol)
    assert calls[-1].params["text"] == f"<code>{protocol}</code>"
    assert await _contract_status(env, SUSPENDED, "c2") is ContractStatus.TEMPORARILY_ENABLED


async def test_an_enabling_without_protocol_announces_none_and_sends_no_empty_message(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert env.backend is not None
    original = env.backend.request_temporary_enabling

    async def without_protocol(session: BackendSession, contract_id: str) -> TemporaryEnabling:
        return dataclasses.replace(await original(session, contract_id), protocol="")

    monkeypatch.setattr(env.backend, "request_temporary_enabling", without_protocol)
    await login(chat, SUSPENDED)
    await chat.press("menu:enabling")
    with caplog.at_level(logging.WARNING):
        calls = await chat.tap("Confirmar habilitação")
    said = shown(calls)
    assert "habilitada até 01/12/2026" in said
    assert "protocolo" not in said.lower()
    assert texts.UNEXPECTED_ERROR not in said
    assert "<code></code>" not in [call.params.get("text") for call in calls]
    assert methods(calls) == ["answerCallbackQuery", "editMessageText"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert await _contract_status(env, SUSPENDED, "c2") is ContractStatus.TEMPORARILY_ENABLED


async def test_asking_again_is_refused_with_the_date(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:enabling")
    confirm_screen = chat.message_with_button("hab:confirm:c2")
    await chat.tap("Confirmar habilitação")
    # While it lasts: the provider says until when.
    calls = await chat.press("menu:enabling")
    assert "já vale até 01/12/2026" in shown(calls)
    assert not any(data.startswith("hab:confirm") for _, data in calls[-1].buttons)
    # After it ended, inside the 30 days: refused with the day it becomes possible again.
    env.backend._today = lambda: date(2026, 12, 5)  # type: ignore[union-attr]
    calls = await chat.press("menu:enabling")
    said = shown(calls)
    assert "foi usada em 28/11/2026" in said
    assert "a partir de 28/12/2026" in said
    # A stale confirmation button changes nothing either.
    calls = await chat.press("hab:confirm:c2", confirm_screen)
    assert methods(calls)[0] == "answerCallbackQuery"
    assert copy_values(calls) == []
    env.backend._today = lambda: TODAY  # type: ignore[union-attr]


async def test_second_device_confirming_too_is_refused(env: BotEnv, chat: ChatDriver) -> None:
    other = env.chat(user_id=555002)  # the same subscriber on another phone
    await login(chat, SUSPENDED)
    await login(other, SUSPENDED)
    # (ChatDriver.message_with_button looks in every chat: say which menu is pressed.)
    await chat.press("menu:enabling", chat.last_bot_message_id())
    await other.press("menu:enabling", other.last_bot_message_id())
    await chat.tap("Confirmar habilitação")
    calls = await other.tap("Confirmar habilitação")
    said = shown(calls)
    assert "já vale até 01/12/2026" in said
    assert copy_values(calls) == []
    assert ("⬅️ Menu", "menu:home") in calls[-1].buttons
    # After it ended, inside the 30 days: the provider's reason with the date.
    env.backend._today = lambda: date(2026, 12, 5)  # type: ignore[union-attr]
    calls = await other.press("menu:enabling", other.last_bot_message_id())
    assert "Você poderá pedir de novo a partir de 28/12/2026" in shown(calls)


async def test_nothing_suspended_gets_the_seed_message(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:enabling")
    said = shown(calls)
    assert "Não há planos suspensos para habilitar" in said
    assert calls[-1].buttons == [("⬅️ Menu", "menu:home")]
    assert copy_values(calls) == []


async def test_company_with_active_contracts_gets_the_seed_message(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:enabling")
    assert "Não há planos suspensos para habilitar" in shown(calls)


async def _suspend(env: BotEnv, *contract_ids: str) -> None:
    backend = env.backend
    assert backend is not None
    async with backend._transaction() as db:
        await db.execute(
            update(ContractRow)
            .where(ContractRow.id.in_(contract_ids))
            .values(status=ContractStatus.SUSPENDED.value)
        )


async def test_several_suspended_contracts_pick_one(env: BotEnv, chat: ChatDriver) -> None:
    await _suspend(env, "c3", "c4")
    await login(chat, COMPANY)
    calls = await chat.press("menu:enabling")
    assert "Qual deles você quer habilitar?" in shown(calls)
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:2] == [
        "2022/0087 · Fibra Empresarial 600 Mega · 🔴 Suspenso",
        "2025/0233 · Fibra Empresarial 1 Giga + IP fixo · 🔴 Suspenso",
    ]
    calls = await chat.tap("2025/0233")
    assert "Contrato 2025/0233" in shown(calls)
    assert ("⬅️ Contratos", "hab:contracts") in calls[-1].buttons
    calls = await chat.tap("Confirmar habilitação")
    assert "Contrato 2025/0233" in shown(calls) and "até 01/12/2026" in shown(calls)
    assert await _contract_status(env, COMPANY, "c4") is ContractStatus.TEMPORARILY_ENABLED
    assert await _contract_status(env, COMPANY, "c3") is ContractStatus.SUSPENDED


async def test_active_contract_among_several_says_it_is_not_suspended(
    env: BotEnv, chat: ChatDriver
) -> None:
    await _suspend(env, "c3")
    await login(chat, COMPANY)
    # One suspended contract among two: no need to pick.
    calls = await chat.press("menu:enabling")
    assert "Contrato 2022/0087" in shown(calls)
    await _suspend(env, "c4")
    await chat.press("menu:enabling")
    async with env.backend._transaction() as db:  # type: ignore[union-attr]
        await db.execute(update(ContractRow).where(ContractRow.id == "c4").values(status="active"))
    calls = await chat.press("hab:contract:c4")
    said = shown(calls)
    assert "Este contrato não está suspenso" in said
    assert copy_values(calls) == []


async def test_forged_contract_is_not_enabled(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:enabling")
    calls = await chat.press("hab:confirm:c1")  # Maria's contract
    assert texts.NOT_FOUND in shown(calls)
    assert copy_values(calls) == []
    calls = await chat.press("hab:contract:c1")
    assert texts.NOT_FOUND in shown(calls)
    assert await _contract_status(env, SUSPENDED, "c2") is ContractStatus.SUSPENDED


async def test_backend_down_gets_an_apology(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, SUSPENDED)
    await chat.press("menu:enabling")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Confirmar habilitação")
    assert "não respondeu" in shown(calls)
    assert copy_values(calls) == []
    env.backend.outage = False  # type: ignore[union-attr]
    # Nothing happened: the same button works once the provider is back.
    calls = await chat.tap("Confirmar habilitação")
    assert "habilitada até 01/12/2026" in shown(calls)
