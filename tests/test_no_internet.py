"""📶 Estou sem internet (issue 22), as a subscriber sees it over the local Bot API: the
diagnosis first (suspended, an outage in the area — declared through the admin API or known to
the sandbox — the access offline with its last session), the guided steps, "Voltou!", and still
down → a ticket "Sem conexão" with the diagnosis written, sent after confirmation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from backend_client.sandbox.db import AreaOutageRow, ConnectionSessionRow
from bot.outages.service import ForecastError, parse_forecast
from bot.services import sessions
from bot.ui.formatting import plain_text
from bot.ui.texts import no_internet as t
from tests.support.bot_env import COMPANY, PERSON, START, SUSPENDED, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.support.tickets import all_tickets, backend_session, protocol_messages

API_TOKEN = "b" * 32
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def _buttons(calls: list[Any]) -> list[str]:
    return [data for call in calls for _, data in call.buttons]


async def _go_offline(env: BotEnv, login_id: str = "l1") -> None:
    """The access login's running session ends (the line went down 2 hours ago)."""
    assert env.backend is not None
    async with env.backend._transaction() as db:
        await db.execute(
            update(ConnectionSessionRow)
            .where(
                ConnectionSessionRow.login_id == login_id, ConnectionSessionRow.ended_at.is_(None)
            )
            .values(ended_at=START - timedelta(hours=2), termination_cause="Lost-Carrier")
        )


def _admin_client(env: BotEnv) -> Any:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web import create_web_app

    return TestClient(TestServer(create_web_app(env.app, admin_token=API_TOKEN), host="127.0.0.1"))


# --- suspended -------------------------------------------------------------------------------
async def test_a_suspended_subscriber_is_told_why_and_offered_invoices_and_enabling(
    chat: ChatDriver,
) -> None:
    await login(chat, SUSPENDED)
    calls = await chat.press("menu:no_internet")
    said = shown(calls)
    assert "suspenso por falta de pagamento" in said
    assert "menu:invoices" in _buttons(calls) and "menu:enabling" in _buttons(calls)
    assert plain_text(t.STEPS[0]) not in said  # no router steps for a blocked line
    calls = await chat.press("menu:enabling")
    assert "Habilitação Provisória" in shown(calls)


# --- offline: steps, then a ticket -----------------------------------------------------------
async def test_offline_subscriber_sees_the_last_session_steps_and_opens_a_ticket(
    env: BotEnv, chat: ChatDriver
) -> None:
    await _go_offline(env)
    await login(chat, PERSON)
    calls = await chat.send("estou sem internet")  # the intent typed enters the flow
    said = shown(calls)
    assert "maria.santos: 🔴 desconectado" in said
    assert "até 28/11/2026 08:00 (motivo: Lost-Carrier)" in said  # 11:00 UTC in São Paulo
    assert plain_text(t.STEPS[0]) in said
    calls = await chat.tap("Continua sem internet")
    assert plain_text(t.STEPS[1]) in shown(calls)
    assert "LOS" in shown(calls)
    calls = await chat.tap("Continua sem internet")
    assert "continua fora" in shown(calls)
    assert "net:ticket" in _buttons(calls)
    assert "net:human" not in _buttons(calls)  # no [support] chat configured
    calls = await chat.tap("Abrir atendimento")
    said = shown(calls)  # the summary, to confirm: subject and description already there
    assert "Sem conexão" in said
    assert "Acesso maria.santos: desconectado" in said
    assert "Reiniciou o roteador" in said and "Conferiu cabos e luzes" in said
    before = len(await all_tickets(env, PERSON))
    assert len(await all_tickets(env, PERSON)) == before  # nothing sent before the confirmation
    calls = await chat.tap("Confirmar")
    [protocol] = protocol_messages(calls)
    created = next(x for x in await all_tickets(env, PERSON) if x.protocol == protocol)
    assert created.subject == "Sem conexão" and created.contract_id == "c1"
    assert env.backend is not None
    full = await env.backend.get_ticket(await backend_session(env, PERSON), created.id)
    assert "última conexão terminou em 28/11/2026 08:00 (Lost-Carrier)" in full.messages[0].text
    assert "Reiniciou o roteador" in full.messages[0].text


async def test_voltou_ends_kindly(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    calls = await chat.press("menu:no_internet")
    said = shown(calls)
    assert "maria.santos: 🟢 conectado" in said and "Conectado desde" in said
    calls = await chat.tap("Voltou!")
    assert plain_text(t.BACK_ONLINE) in shown(calls)
    assert sessions.active_flow(env.app.chat_data[chat.user_id]) is None


# --- area outages ----------------------------------------------------------------------------
async def test_a_declared_outage_is_told_at_once_and_no_longer_once_ended(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, PERSON)  # Cambuí, Campinas
    async with _admin_client(env) as client:
        assert (await client.get("/admin/api/outages")).status == 401
        bad = await client.post("/admin/api/outages", json={"description": "x"}, headers=AUTH)
        assert bad.status == 400 and (await bad.json())["field"] == "city"
        created = await client.post(
            "/admin/api/outages",
            json={
                "city": "campinas",  # case and accents aside
                "neighbourhood": "CAMBUI",
                "description": "Manutenção na rede de fibra",
                "forecast": "2026-11-28T18:00:00-03:00",
                "created_by": "NOC",
            },
            headers=AUTH,
        )
        assert created.status == 201
        outage = await created.json()
        listing = await (await client.get("/admin/api/outages", headers=AUTH)).json()
        assert [o["id"] for o in listing["outages"]] == [outage["id"]]
        calls = await chat.press("menu:no_internet")
        said = shown(calls)
        assert "falha na sua região" in said and "Manutenção na rede de fibra" in said
        assert "hoje às 18:00" in said and "(Cambuí, Campinas)" in said  # the address's names
        assert plain_text(t.STEPS[0]) not in said
        calls = await chat.tap("Avise-me quando voltar")
        assert plain_text(t.WATCHING) in shown(calls)
        before = len(env.api.calls)
        ended = await client.post(f"/admin/api/outages/{outage['id']}/end", headers=AUTH)
        assert ended.status == 200 and (await ended.json())["active"] is False
        told = [
            c.params["text"]
            for c in env.api.calls[before:]
            if c.method == "sendMessage" and int(c.params["chat_id"]) == chat.user_id
        ]
        assert len(told) == 1 and "foi resolvida" in told[0] and "CAMBUI, campinas" in told[0]
        again = await client.post(f"/admin/api/outages/{outage['id']}/end", headers=AUTH)
        assert again.status == 404
        for forged in ("abc", "9" * 30):
            assert (await client.delete(f"/admin/api/outages/{forged}", headers=AUTH)).status == 404
        assert (await (await client.get("/admin/api/outages", headers=AUTH)).json()) == {
            "outages": []
        }
    calls = await chat.press("menu:no_internet")
    said = shown(calls)
    assert "falha na sua região" not in said
    assert plain_text(t.STEPS[0]) in said


async def test_an_outage_in_another_neighbourhood_is_not_shown(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, PERSON)
    async with _admin_client(env) as client:
        await client.post(
            "/admin/api/outages",
            json={"city": "Campinas", "neighbourhood": "Taquaral", "description": "Poste caído"},
            headers=AUTH,
        )
        await client.post(
            "/admin/api/outages",
            json={"city": "Sumaré", "description": "Queda geral"},
            headers=AUTH,
        )
    calls = await chat.press("menu:no_internet")
    assert "falha na sua região" not in shown(calls)


async def test_the_sandbox_outage_shows_for_the_contract_in_its_area(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, COMPANY)  # head office in Centro, Campinas; branch in Centro, Sumaré
    calls = await chat.press("menu:no_internet")
    assert plain_text(t.CHOOSE_CONTRACT) in shown(calls)
    assert {"net:contract:c3", "net:contract:c4"} <= set(_buttons(calls))
    calls = await chat.press("net:contract:c4")
    said = shown(calls)
    assert "Rompimento de fibra" in said and "hoje às 18:00" in said
    calls = await chat.tap("Testar mesmo assim")
    assert plain_text(t.STEPS[0]) in shown(calls)
    await chat.tap("Continua sem internet")
    await chat.tap("Continua sem internet")
    calls = await chat.tap("Abrir atendimento")  # the ticket says there is an outage there
    assert "Há ocorrência ativa na região: Rompimento de fibra" in shown(calls)
    assert "Contrato: 2025/0233" in shown(calls)
    calls = await chat.press("menu:no_internet")
    calls = await chat.press("net:contract:c3")  # same neighbourhood name, another city
    assert "Rompimento de fibra" not in shown(calls)
    # Ended in the system: no longer shown.
    assert env.backend is not None
    async with env.backend._transaction() as db:
        await db.execute(update(AreaOutageRow).values(ended_at=datetime.now(UTC)))
    await chat.press("menu:no_internet")
    calls = await chat.press("net:contract:c4")
    assert "Rompimento de fibra" not in shown(calls)


# --- forecasts as staff type them --------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hoje 18h", "2026-11-28T18:00:00-03:00"),
        ("18:30", "2026-11-28T18:30:00-03:00"),
        ("9h", "2026-11-29T09:00:00-03:00"),  # already past today (10:00): tomorrow
        ("amanhã 10h", "2026-11-29T10:00:00-03:00"),
        ("Amanha às 7:15", "2026-11-29T07:15:00-03:00"),
        ("05/12 9h", "2026-12-05T09:00:00-03:00"),
    ],
)
def test_forecasts_typed_by_staff(typed: str, expected: str) -> None:
    found = parse_forecast(typed, START)
    assert found is not None and found == datetime.fromisoformat(expected)


def test_no_forecast_and_nonsense() -> None:
    assert parse_forecast("sem previsão", START) is None
    for typed in ("logo mais", "25h", "hoje"):
        with pytest.raises(ForecastError):
            parse_forecast(typed, START)
