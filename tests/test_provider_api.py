"""``GET``/``PUT /admin/api/config`` (issue 20): the bearer token, validation with every problem,
the atomic write, the next update and a restart reading what was written."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.provider.store import store_of
from bot.settings import Settings
from bot.web import create_web_app
from tests.support.bot_env import TOKEN, BotEnv

API_TOKEN = "adm-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TOML = {**AUTH, "Content-Type": "application/toml"}
Client = TestClient  # type: ignore[type-arg]
FIRST = '# the provider\'s own comment\n[provider]\nname = "Net Exemplo"\n'
SECOND = """# kept as written
[provider]
name = "Fibra Sul"
support_phone = "(51) 3000-1234"

[menu]
items = ["invoices", "tickets", "account"]
"""


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    path = tmp_path / "provider.toml"
    path.write_text(FIRST, encoding="utf-8")
    path.chmod(0o640)
    return Settings(
        telegram_bot_token=TOKEN,
        database_url=bot_database_url,
        sandbox_database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        backend_timeout=2.0,
        provider_config=str(path),
    )


@pytest.fixture
async def client(env: BotEnv) -> AsyncIterator[Client]:
    app = create_web_app(env.app, admin_token=API_TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def _written(env: BotEnv) -> str:
    return Path(env.settings.provider_config or "").read_text(encoding="utf-8")


def _mode(env: BotEnv) -> int:
    return stat.S_IMODE(Path(env.settings.provider_config or "").stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".provider.toml."))


async def test_get_shows_the_configuration_and_the_file(env: BotEnv, client: Client) -> None:
    response = await client.get("/admin/api/config", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["config"]["provider"]["name"] == "Net Exemplo"
    assert body["config"]["provider"]["support_phone"] is None
    assert body["config"]["menu"]["items"][0] == "account"  # today's order: not in the file
    assert body["toml"] == FIRST
    assert body["file"] == env.settings.provider_config


async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    env: BotEnv, client: Client
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789abcdef"}):
        assert (await client.get("/admin/api/config", headers=headers)).status == 401
        response = await client.put(
            "/admin/api/config", data=SECOND, headers={**headers, "Content-Type": "text/plain"}
        )
        assert response.status == 401
    assert _written(env) == FIRST


async def test_put_toml_is_written_atomically_applied_and_survives_a_restart(
    env: BotEnv, client: Client, tmp_path: Path
) -> None:
    response = await client.put("/admin/api/config", data=SECOND.encode(), headers=TOML)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["config"]["menu"]["items"] == ["invoices", "tickets", "account"]
    assert _written(env) == SECOND  # as written, comment included
    assert _mode(env) == 0o640  # the file's permissions are kept
    assert _leftovers(tmp_path) == []
    assert store_of(env.app).current.provider.name == "Fibra Sul"  # the next update reads it

    await env.launch()  # a restart reads the file written
    restarted = store_of(env.app).current
    assert restarted.provider.name == "Fibra Sul"
    assert restarted.menu_items == ("invoices", "tickets", "account")


async def test_put_json_writes_toml(env: BotEnv, client: Client) -> None:
    document = {
        "provider": {"name": 'Net "Aspas" & Cia', "support_whatsapp": "+55 11 98888-7777"},
        "menu": {"items": ["account", "invoices"]},
        "texts": {"welcome": "Olá!\nBem-vindo à <b>Net</b>."},
        "policies": {"due_days": [10, 5], "enabling_days": None, "ticket_subjects": ["12=Outros"]},
        "support": {"chat_id": None},
    }
    response = await client.put("/admin/api/config", json=document, headers=AUTH)
    assert response.status == 200, await response.text()
    current = store_of(env.app).current
    assert current.provider.name == 'Net "Aspas" & Cia'
    assert current.text("welcome", "") == "Olá!\nBem-vindo à <b>Net</b>."
    assert current.policies.due_days == (5, 10)
    assert current.policies.ticket_subjects == (("12", "Outros"),)
    # What GET answers may be sent back as it is.
    shown = (await (await client.get("/admin/api/config", headers=AUTH)).json())["config"]
    again = await client.put("/admin/api/config", json=shown, headers=AUTH)
    assert again.status == 200 and store_of(env.app).current == current


async def test_a_bad_put_names_every_problem_and_changes_nothing(
    env: BotEnv, client: Client, tmp_path: Path
) -> None:
    before = store_of(env.app).current
    bad = '[provider]\nname = ""\n[menu]\nitems = ["boletos"]\n[policies]\ndue_days = [30]\n'
    response = await client.put("/admin/api/config", data=bad, headers=TOML)
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "the configuration has problems"
    assert len(body["problems"]) == 3 and body["problems"][1].startswith("[menu] items:")
    json_bad = {"menu": {"items": ["boletos"]}, "extra": {}}
    response = await client.put("/admin/api/config", json=json_bad, headers=AUTH)
    assert response.status == 400 and len((await response.json())["problems"]) == 2
    for data, content_type in (
        (b"[provider", "application/toml"),
        (b"\xff\xfe", "application/toml"),
        (b"{", "application/json"),
        (b"name=1", "application/x-www-form-urlencoded"),
    ):
        response = await client.put(
            "/admin/api/config", data=data, headers={**AUTH, "Content-Type": content_type}
        )
        assert response.status == 400, content_type
    assert _written(env) == FIRST
    assert store_of(env.app).current is before
    assert _leftovers(tmp_path) == []


async def test_a_failed_write_keeps_the_old_file_and_configuration(
    env: BotEnv, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = store_of(env.app).current

    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    response = await client.put("/admin/api/config", data=SECOND, headers=TOML)
    assert response.status == 500
    assert "No space left on device" in (await response.json())["error"]
    assert _written(env) == FIRST
    assert store_of(env.app).current is before
    assert _leftovers(tmp_path) == []  # the temporary file is removed
