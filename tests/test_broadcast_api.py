"""The admin API (bearer token, 401/400/404/409), its OpenAPI file, the broadcast settings and
``minha-central broadcast …``."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.broadcasts.audience import Audience
from bot.broadcasts.jobs import service_of
from bot.broadcasts.service import Draft
from bot.settings import Settings, SettingsError
from bot.ui.formatting import TIMEZONE
from bot.web import create_web_app
from tests.support.bot_env import START, TOKEN, BotEnv

ROOT = Path(__file__).resolve().parents[1]
API_TOKEN = "adm-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
LINKED = {101: "s1", 201: "s2", 301: "s3", 401: "s4"}
Client = TestClient  # type: ignore[type-arg]
PHOTO = {"type": "photo", "file_id": "F1"}


@pytest.fixture
async def client(env: BotEnv) -> AsyncIterator[Client]:
    notifications = env.app.bot_data["services"].notifications
    for chat_id, subscriber in LINKED.items():
        await notifications.link(chat_id, subscriber, "ct", "Contato", START)
    app = create_web_app(env.app, admin_token=API_TOKEN, broadcasts=service_of(env.app))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def create(client: Client, **body: Any) -> Any:
    return await client.post("/admin/api/broadcasts", json=body, headers=AUTH)


async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    env: BotEnv, client: Client
) -> None:
    service = service_of(env.app)
    draft = Draft("Oi", Audience(everyone=True), send_at=START + timedelta(days=1))
    scheduled = await service.create(draft, "test")
    body = {"text": "Oi", "audience": {"all": True}}
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": API_TOKEN},
        {"Authorization": f"Bearer {API_TOKEN}x"},
    ):
        for method, path, payload in (
            ("GET", "/admin/api/broadcasts", None),
            ("POST", "/admin/api/broadcasts", body),
            ("GET", f"/admin/api/broadcasts/{scheduled.id}", None),
            ("POST", f"/admin/api/broadcasts/{scheduled.id}/cancel", None),
            ("POST", "/admin/api/broadcasts/1/pause", None),
            ("GET", "/admin/api/audience/options", None),
        ):
            response = await client.request(method, path, json=payload, headers=headers)
            assert response.status == 401, (headers, path)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await response.json())["error"] == "missing or wrong bearer token"
    assert await service.store.count() == 1
    assert (await service.get(scheduled.id)).status == "scheduled"  # type: ignore[union-attr]


MALFORMED: list[tuple[Any, str]] = [
    ("not json", "body"),
    ([1, 2], "body"),
    ({"audience": {"all": True}}, "text"),
    ({"text": "", "audience": {"all": True}}, "text"),
    ({"text": "<b>sem fechar", "audience": {"all": True}}, "text"),
    ({"text": "a <br> b", "audience": {"all": True}}, "text"),
    ({"text": "x" * 4097, "audience": {"all": True}}, "text"),
    ({"text": "Oi"}, "audience"),
    ({"text": "Oi", "audience": {}}, "audience"),
    ({"text": "Oi", "audience": "all"}, "audience"),
    ({"text": "Oi", "audience": {"all": "yes"}}, "audience.all"),
    ({"text": "Oi", "audience": {"all": True, "plans": ["fibra-300"]}}, "audience.all"),
    ({"text": "Oi", "audience": {"everyone": True}}, "audience.everyone"),
    ({"text": "Oi", "audience": {"places": [{"city": "Curitiba"}]}}, "audience.places[0].city"),
    ({"text": "Oi", "audience": {"places": ["Campinas"]}}, "audience.places[0]"),
    (
        {"text": "Oi", "audience": {"places": [{"city": "Sumaré", "neighbourhood": "Cambuí"}]}},
        "audience.places[0].neighbourhood",
    ),
    ({"text": "Oi", "audience": {"plans": ["fibra-9"]}}, "audience.plans[0]"),
    ({"text": "Oi", "audience": {"statuses": ["late"]}}, "audience.statuses[0]"),
    ({"text": "Oi", "audience": {"contract_ids": "c1"}}, "audience.contract_ids"),
    ({"text": "Oi", "audience": {"subscriber_ids": [""]}}, "audience.subscriber_ids[0]"),
    ({"text": "Oi", "audience": {"all": True}, "media": {"type": "video"}}, "media.type"),
    ({"text": "Oi", "audience": {"all": True}, "media": {"type": "photo"}}, "media.file_id"),
    (
        {"text": "y" * 1025, "audience": {"all": True}, "media": PHOTO},
        "text",
    ),
    ({"text": "Oi", "audience": {"all": True}, "send_at": "amanhã"}, "send_at"),
    ({"text": "Oi", "audience": {"all": True}, "send_at": "2026-12-01T10:00:00"}, "send_at"),
    ({"text": "Oi", "audience": {"all": True}, "send_at": "2020-01-01T10:00:00Z"}, "send_at"),
    ({"text": "Oi", "audience": {"all": True}, "dry_run": "yes"}, "dry_run"),
    ({"text": "Oi", "audience": {"all": True}, "colour": "red"}, "colour"),
]


async def test_a_malformed_body_is_400_naming_the_field(env: BotEnv, client: Client) -> None:
    for body, field in MALFORMED:
        data = body if isinstance(body, str) else json.dumps(body)
        response = await client.post("/admin/api/broadcasts", data=data, headers=AUTH)
        assert response.status == 400, body
        answer = await response.json()
        assert answer["field"] == field, body
        assert answer["error"].startswith(f"{field}: "), body
    assert await service_of(env.app).store.count() == 0


async def test_create_now_then_get_the_report(env: BotEnv, client: Client) -> None:
    body = {
        "text": "<b>Queda</b> em Sumaré: equipe a caminho.",
        "audience": {"places": [{"city": "sumare"}]},
    }
    response = await client.post("/admin/api/broadcasts", json=body, headers=AUTH)
    assert response.status == 201
    created = await response.json()
    assert response.headers["Location"] == f"/admin/api/broadcasts/{created['id']}"
    assert created["audience"] == {"places": [{"city": "Sumaré"}]}  # as the system names it
    assert created["created_by"] == "api"
    await service_of(env.app).wait_idle()

    response = await client.get(f"/admin/api/broadcasts/{created['id']}", headers=AUTH)
    report = await response.json()
    assert report["status"] == "done"
    assert report["text_shown"] == "Queda em Sumaré: equipe a caminho."
    assert report["progress"] == {"total": 2, "processed": 2, "percent": 100.0}
    assert report["report"]["sent"] == 2 and report["report"]["pending"] == 0
    sent = [c for c in env.api.calls if c.method == "sendMessage"]
    assert sorted(int(c.params["chat_id"]) for c in sent) == [201, 301]

    response = await client.get("/admin/api/broadcasts?limit=5", headers=AUTH)
    listing = await response.json()
    assert listing["total"] == 1 and listing["broadcasts"][0]["id"] == created["id"]
    response = await client.post(f"/admin/api/broadcasts/{created['id']}/cancel", headers=AUTH)
    assert response.status == 409 and (await response.json())["status"] == "done"


async def test_schedule_cancel_pause_resume_and_unknown_ids(env: BotEnv, client: Client) -> None:
    at = (START + timedelta(days=1)).astimezone(TIMEZONE).isoformat()
    response = await create(client, text="Amanhã", audience={"all": True}, send_at=at)
    created = await response.json()
    assert created["status"] == "scheduled" and created["progress"]["total"] is None
    assert created["send_at"] == (START + timedelta(days=1)).isoformat()
    response = await client.post(f"/admin/api/broadcasts/{created['id']}/pause", headers=AUTH)
    assert response.status == 409  # only a running broadcast pauses
    response = await client.post(f"/admin/api/broadcasts/{created['id']}/cancel", headers=AUTH)
    assert response.status == 200 and (await response.json())["status"] == "cancelled"
    for path in ("/admin/api/broadcasts/999", "/admin/api/broadcasts/999/cancel"):
        method = "GET" if path.endswith("999") else "POST"
        response = await client.request(method, path, headers=AUTH)
        assert response.status == 404
    response = await client.get("/admin/api/broadcasts/abc", headers=AUTH)
    assert response.status == 400 and (await response.json())["field"] == "id"
    response = await client.get("/admin/api/broadcasts?limit=0", headers=AUTH)
    assert response.status == 400 and (await response.json())["field"] == "limit"
    assert not [c for c in env.api.calls if c.method == "sendMessage"]


async def test_dry_run_counts_without_creating(env: BotEnv, client: Client) -> None:
    response = await create(
        client, text="Oi &amp; tchau", audience={"statuses": ["overdue"]}, dry_run=True
    )
    assert response.status == 200
    assert await response.json() == {
        "recipients": 2,
        "audience": {"statuses": ["overdue"]},
        "text_shown": "Oi & tchau",
    }
    assert await service_of(env.app).store.count() == 0


async def test_audience_options(client: Client) -> None:
    response = await client.get("/admin/api/audience/options", headers=AUTH)
    options = await response.json()
    assert {"city": "Sumaré", "neighbourhoods": ["Centro"]} in options["places"]
    assert {"id": "fibra-300", "name": "Fibra 300 Mega"} in options["plans"]
    assert options["statuses"] == ["active", "suspended", "overdue"]


async def test_the_api_is_off_without_a_token(env: BotEnv) -> None:
    app = create_web_app(env.app, broadcasts=service_of(env.app))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/admin/api/broadcasts", headers=AUTH)
        assert response.status == 404
    with pytest.raises(ValueError, match="24"):
        create_web_app(env.app, admin_token="short", broadcasts=service_of(env.app))


def _routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route, sub-applications included (their paths carry the
    prefix they are mounted at)."""
    found = set()
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)
        if isinstance(sub, web.Application):
            found |= _routes(sub)
            continue
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method, resource.canonical))
    return found


async def test_the_openapi_file_documents_every_route(env: BotEnv) -> None:
    spec = yaml.safe_load((ROOT / "docs" / "admin-api.yaml").read_text())
    assert spec["openapi"].startswith("3.")
    base = spec["servers"][0]["url"].split("8080", 1)[1]
    documented = {
        (method.upper(), base + path)
        for path, operations in spec["paths"].items()
        for method in operations
    }
    app = create_web_app(env.app, admin_token=API_TOKEN, broadcasts=service_of(env.app))
    served = {route for route in _routes(app) if route[1].startswith("/admin/api")}
    assert served == documented
    for _path, operations in spec["paths"].items():
        for operation in operations.values():
            assert "401" in operation["responses"]
    # Every $ref resolves.
    text = (ROOT / "docs" / "admin-api.yaml").read_text()
    for ref in set(re.findall(r'\$ref: "#/([^"]+)"', text)):
        node: Any = spec
        for part in ref.split("/"):
            node = node[part]


# --- settings -------------------------------------------------------------------------------------
def _settings(**values: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, **values}, env_file=None)


def test_broadcast_settings() -> None:
    settings = _settings()
    assert settings.admin_telegram_ids == () and settings.admin_api_token is None
    assert settings.broadcast_rate == 25 and settings.paid_broadcast is False
    settings = _settings(
        ADMIN_TELEGRAM_IDS="123, 456,123",
        ADMIN_API_TOKEN=API_TOKEN,
        BROADCAST_RATE="1000",
        PAID_BROADCAST="true",
    )
    assert settings.admin_telegram_ids == (123, 456)
    assert settings.admin_api_token == API_TOKEN and API_TOKEN not in repr(settings)
    assert settings.broadcast_rate == 1000 and settings.paid_broadcast


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"ADMIN_TELEGRAM_IDS": "123,@ana"}, "ADMIN_TELEGRAM_IDS"),
        ({"ADMIN_TELEGRAM_IDS": "-5"}, "ADMIN_TELEGRAM_IDS"),
        ({"ADMIN_API_TOKEN": "short-token"}, "ADMIN_API_TOKEN"),
        ({"ADMIN_API_TOKEN": "has spaces in it but is long enough"}, "ADMIN_API_TOKEN"),
        ({"BROADCAST_RATE": "fast"}, "BROADCAST_RATE"),
        ({"BROADCAST_RATE": "0"}, "BROADCAST_RATE"),
        ({"BROADCAST_RATE": "50"}, "BROADCAST_RATE"),  # above 30 needs PAID_BROADCAST
        ({"BROADCAST_RATE": "1001", "PAID_BROADCAST": "true"}, "BROADCAST_RATE"),
        ({"PAID_BROADCAST": "maybe"}, "PAID_BROADCAST"),
        ({"BROADCAST_RATE": "25", "TELEGRAM_MAX_RATE": "10"}, "BROADCAST_RATE"),
    ],
)
def test_broadcast_settings_name_the_wrong_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        _settings(**values)
    assert any(problem.startswith(variable) for problem in caught.value.problems)


# --- the command line -----------------------------------------------------------------------------
def test_the_command_line(
    tmp_path: Path,
    seeded_sandbox_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.db'}")
    assert main(["db", "upgrade"]) == 0
    when = (datetime.now(TIMEZONE) + timedelta(days=2)).strftime("%d/%m/%Y 19:30")
    capsys.readouterr()

    create = ["broadcast", "create", "--text", "<b>Oi</b>", "--place", "Sumaré/Centro"]
    assert main([*create, "--status", "active", "--at", when, "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["status"] == "scheduled" and created["created_by"] == "cli"
    assert created["audience"] == {
        "places": [{"city": "Sumaré", "neighbourhood": "Centro"}],
        "statuses": ["active"],
    }
    assert main(["broadcast", "list"]) == 0
    assert re.search(r"#1\s+scheduled", capsys.readouterr().out)
    assert main(["broadcast", "cancel", "1"]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["broadcast", "cancel", "1"]) == 4
    assert "cannot cancel" in capsys.readouterr().err
    assert main(["broadcast", "show", "9"]) == 1
    assert main(["broadcast", "create", "--text", "a <br> b", "--all"]) == 2
    assert "text: invalid HTML" in capsys.readouterr().err
    assert main(["broadcast", "create", "--text", "Oi"]) == 2
    assert "audience" in capsys.readouterr().err
    assert main(["broadcast", "create", "--text", "Oi", "--all", "--dry-run"]) == 0
    assert "0 recipient(s)" in capsys.readouterr().out
