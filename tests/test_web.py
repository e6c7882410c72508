"""The bot's HTTP server: webhook secret, health and readiness, metrics, pushed backend events."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from backend_client.errors import CredentialsRefused, Unavailable
from bot.web import SIGNATURE_HEADER, TELEGRAM_SECRET_HEADER, TIMESTAMP_HEADER, create_web_app, sign
from tests.support.bot_env import PERSON, BotEnv
from tests.support.driver import texts as shown

WEBHOOK_SECRET = "s3cret-token_for-tests"
EVENTS_SECRET = "events-shared-secret-0123456789"


@pytest.fixture
async def client(env: BotEnv) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    services = env.app.bot_data["services"]
    app = create_web_app(
        env.app,
        webhook_path="/telegram/webhook",
        webhook_secret=WEBHOOK_SECRET,
        events_secret=EVENTS_SECRET,
        on_events=services.accept_pushed_notices,
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def _update(update_id: int, text: str, user_id: int = 700001) -> dict[str, object]:
    chat = {"id": user_id, "type": "private", "first_name": "Ana"}
    message: dict[str, object] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": user_id, "is_bot": False, "first_name": "Ana"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


async def _wait_for_processing(env: BotEnv, before: int) -> list:  # type: ignore[type-arg]
    import asyncio

    for _ in range(100):
        if len(env.api.calls) > before:
            await asyncio.sleep(0.05)
            return env.api.calls[before:]
        await asyncio.sleep(0.02)
    return []


async def test_webhook_takes_updates_only_with_the_secret(
    env: BotEnv,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    before = len(env.api.calls)
    for headers in ({}, {TELEGRAM_SECRET_HEADER: "wrong"}):
        response = await client.post(
            "/telegram/webhook", json=_update(90001, "/start"), headers=headers
        )
        assert response.status == 403
    assert await _wait_for_processing(env, before) == []

    response = await client.post(
        "/telegram/webhook",
        json=_update(90002, "/start"),
        headers={TELEGRAM_SECRET_HEADER: WEBHOOK_SECRET},
    )
    assert response.status == 200
    calls = await _wait_for_processing(env, before)
    assert "CPF ou CNPJ" in shown(calls)


async def test_health_readiness_and_metrics(
    env: BotEnv,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"database": "ok", "backend": "ok"}

    env.backend.outage = True  # type: ignore[union-attr]
    not_ready = await client.get("/readyz")
    assert not_ready.status == 503
    assert (await not_ready.json())["checks"]["backend"] == "unreachable"
    env.backend.outage = False  # type: ignore[union-attr]

    chat = env.chat()
    await chat.send("/start")
    await chat.send(PERSON.document)
    metrics = await (await client.get("/metrics")).text()
    assert 'minha_central_updates_total{kind="command"}' in metrics
    assert "minha_central_backend_calls_total" in metrics


async def test_readiness_says_why_it_is_not_ready(
    env: BotEnv,
    client: TestClient,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/readyz asks the system with ping() (what every installation answers) and says which
    part is not ready: the system out of reach, its refusal of our credentials, the database."""
    asked: list[str] = []

    async def ping() -> None:
        asked.append("ping")

    monkeypatch.setattr(env.backend, "ping", ping)
    monkeypatch.setattr(env.backend, "check_features", None)  # never the (slow) full check
    ready = await client.get("/readyz")
    assert ready.status == 200 and asked == ["ping"]
    assert await ready.json() == {"status": "ready", "checks": {"database": "ok", "backend": "ok"}}

    async def refused() -> None:
        raise CredentialsRefused("401")

    monkeypatch.setattr(env.backend, "ping", refused)
    answer = await client.get("/readyz")
    assert answer.status == 503
    assert (await answer.json())["reason"] == "backend credentials refused"

    async def down() -> None:
        raise Unavailable("sgp: GET /api/ura/pops/ failed (ClientConnectorError)")

    monkeypatch.setattr(env.backend, "ping", down)
    answer = await client.get("/readyz")
    assert answer.status == 503
    assert (await answer.json())["reason"] == "backend unreachable"

    class NoDatabase:
        def connect(self) -> None:
            raise OSError("connection refused")

    monkeypatch.setattr(env.backend, "ping", ping)
    monkeypatch.setitem(env.app.bot_data, "engine", NoDatabase())
    answer = await client.get("/readyz")
    assert answer.status == 503
    assert await answer.json() == {
        "status": "not ready",
        "reason": "database unreachable",
        "checks": {"database": "unreachable", "backend": "ok"},
    }


def _signed(body: bytes, secret: str = EVENTS_SECRET) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
        "Content-Type": "application/json",
    }


PAID = {
    "events": [
        {
            "type": "invoice_paid",
            "subscriber_id": "s1",
            "contract_number": "2023/0153",
            "invoice": {
                "id": "inv-1011",
                "reference": "11/2026",
                "due_date": "2026-11-10",
                "amount": "99.90",
                "paid_on": "2026-11-28",
                "paid_amount": "101.40",
            },
        }
    ]
}


async def test_pushed_events_need_a_valid_signature(
    env: BotEnv,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    store = env.app.bot_data["services"].notifications
    await store.link(555001, "s1", "ct-1", "Maria", env.clock())
    body = json.dumps(PAID).encode()

    for headers in ({}, _signed(body, secret="another-secret-0123456789"), _signed(b"{}")):
        response = await client.post("/events/backend", data=body, headers=headers)
        assert response.status == 401
    assert await store.count_by_status() == {}

    response = await client.post("/events/backend", data=body, headers=_signed(body))
    assert response.status == 202
    assert await response.json() == {"accepted": 1, "enqueued": 1}
    # The same event again (a retry by the backend) is not enqueued twice.
    response = await client.post("/events/backend", data=body, headers=_signed(body))
    assert await response.json() == {"accepted": 1, "enqueued": 0}
    assert await store.count_by_status() == {"pending": 1}


async def test_malformed_events_name_the_field(
    env: BotEnv,
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    broken = {"events": [{"type": "invoice_paid", "subscriber_id": "s1", "invoice": {"id": 1}}]}
    body = json.dumps(broken).encode()
    response = await client.post("/events/backend", data=body, headers=_signed(body))
    assert response.status == 400
    assert "events[0].invoice.reference" in (await response.json())["error"]
    body = b"not json"
    response = await client.post("/events/backend", data=body, headers=_signed(body))
    assert response.status == 400
