"""Alterar Vencimento with a request awaiting the provider (issue 17, defect 10): the flow shows
it when it opens and no second request is made, for the same day or another."""

from __future__ import annotations

import re

from backend_client.models import DueDayChangeRequest
from tests.support.billing import copy_values
from tests.support.bot_env import COMPANY, PERSON, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

PROTOCOL = re.compile(r"\d{14}")


async def _request_day(chat: ChatDriver, label: str) -> str:
    await chat.press("menu:due_day")
    await chat.tap(label)
    calls = await chat.tap("Concordo")
    (protocol,) = copy_values(calls)
    assert PROTOCOL.fullmatch(protocol)
    return protocol


async def test_reopened_flow_shows_the_pending_request_and_offers_no_day(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, PERSON)
    protocol = await _request_day(chat, "Dia 20")

    calls = await chat.press("menu:due_day")
    said = shown(calls)
    assert "Vencimento atual: dia 10" in said
    assert "Pedido em análise: novo vencimento para o dia 20" in said
    assert f"Protocolo: {protocol}" in said
    assert f"<code>{protocol}</code>" in calls[-1].params["text"]
    assert re.search(r"Pedido em: \d\d/\d\d/\d{4}\n", said)
    assert "não é possível pedir outro dia" in said
    labels = [label for label, _ in calls[-1].buttons]
    assert not [label for label in labels if label.startswith("Dia ")], labels
    # Stale or forged buttons of the flow make no request either.
    for data in ("venc:day:20", "venc:agree"):
        calls = await chat.press(data)
        assert copy_values(calls) == [] and "Pedido registrado" not in shown(calls)
    calls = await chat.press("menu:due_day")
    assert f"Protocolo: {protocol}" in shown(calls)


async def test_the_same_day_twice_gets_one_protocol(env: BotEnv) -> None:
    """Two chats of Maria reach the terms of "dia 20"; the second Concordo is refused."""
    first, second = env.chat(555001), env.chat(555002)
    await login(first, PERSON)
    await login(second, PERSON)
    for chat in (first, second):
        await chat.press("menu:due_day")
        await chat.tap("Dia 20")
    protocol = (copy_values(await first.tap("Concordo")))[0]

    calls = await second.tap("Concordo")
    said = shown(calls)
    assert copy_values(calls) == []
    assert "Você já pediu o dia 20 para este contrato" in said
    assert "não é preciso pedir de novo" in said
    assert f"Protocolo: {protocol}" in said
    assert "Pedido registrado" not in said


async def test_another_day_while_one_is_pending_is_refused(env: BotEnv) -> None:
    first, second = env.chat(555001), env.chat(555002)
    await login(first, PERSON)
    await login(second, PERSON)
    for chat, day in ((first, "Dia 20"), (second, "Dia 25")):
        await chat.press("menu:due_day")
        await chat.tap(day)
    protocol = (copy_values(await first.tap("Concordo")))[0]

    calls = await second.tap("Concordo")
    said = shown(calls)
    assert copy_values(calls) == []
    assert "O pedido para o dia 25 não foi registrado" in said
    assert "Pedido em análise: novo vencimento para o dia 20" in said
    assert f"Protocolo: {protocol}" in said


async def test_a_pending_request_is_per_contract(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    await chat.press("menu:due_day")
    await chat.tap("2025/0233")
    await chat.tap("Dia 5")
    await chat.tap("Concordo")
    await chat.press("menu:due_day")
    calls = await chat.tap("2025/0233")
    assert "Pedido em análise: novo vencimento para o dia 5" in shown(calls)
    assert ("⬅️ Contratos", "venc:contracts") in calls[-1].buttons
    await chat.tap("Contratos")
    calls = await chat.tap("2022/0087")
    assert "Pedido em análise" not in shown(calls)
    assert "Escolha o novo dia de vencimento" in shown(calls)


async def test_the_sandbox_records_one_pending_request(env: BotEnv) -> None:
    backend = env.backend
    assert backend is not None
    session = await backend.login(PERSON.document, PERSON.password)
    contract = (await backend.get_subscriber(session)).contracts[0].id
    assert (await backend.get_due_day_options(session, contract)).pending is None
    request = await backend.request_due_day_change(session, contract, 20)
    assert isinstance(request, DueDayChangeRequest)
    assert (await backend.get_due_day_options(session, contract)).pending == request
