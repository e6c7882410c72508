""" "Sem internet" with the team in Telegram (issue 22): still down after the steps, within
``[support] hours`` the subscriber may talk to a person (the hand-off starts), and outside them
only the ticket is offered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from backend_client.sandbox.db import ConnectionSessionRow
from bot.settings import Settings
from bot.support.handoff import store_of
from tests.support.bot_env import PERSON, START, BotEnv, login, settings_with_provider_file
from tests.support.driver import ChatDriver

GROUP = -1009876543210

# START is Saturday 28/11/2026, 10:00 in São Paulo.
OPEN = '["sáb 08:00-12:00"]'
CLOSED = '["seg-sex 08:00-18:00"]'


def _settings(tmp_path: Path, database_url: str, hours: str) -> Settings:
    provider = (
        f'[provider]\nname = "Net Exemplo"\n\n[support]\nchat_id = {GROUP}\nhours = {hours}\n'
    )
    return settings_with_provider_file(tmp_path, database_url, provider)


@pytest.fixture(params=[OPEN, CLOSED], ids=["open", "closed"])
def hours(request: Any) -> str:
    return str(request.param)


@pytest.fixture
def settings(hours: str, tmp_path: Path, bot_database_url: str) -> Settings:
    return _settings(tmp_path, bot_database_url, hours)


def _buttons(calls: list[Any]) -> list[str]:
    return [data for call in calls for _, data in call.buttons]


async def test_still_down_offers_a_person_only_within_support_hours(
    env: BotEnv, chat: ChatDriver, hours: str
) -> None:
    env.api.api.open_forum(GROUP, "Atendimento", admins={91001: "Ana"})
    assert env.backend is not None
    async with env.backend._transaction() as db:
        await db.execute(
            update(ConnectionSessionRow)
            .where(ConnectionSessionRow.login_id == "l1", ConnectionSessionRow.ended_at.is_(None))
            .values(ended_at=START - timedelta(hours=1))
        )
    await login(chat, PERSON)
    await chat.press("menu:no_internet")
    await chat.tap("Continua sem internet")
    calls = await chat.tap("Continua sem internet")
    within = hours == OPEN
    assert "net:ticket" in _buttons(calls)
    assert ("net:human" in _buttons(calls)) is within
    if within:
        await chat.press("net:human")
        handoff = await store_of(env.app).current(chat.user_id)
        assert handoff is not None and handoff.status == "queued"
