from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backend_client.sandbox import SandboxBackend
from bot.localapi.core import LocalBotApi
from bot.settings import Settings
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from tests.support.bot_env import (
    COMPANY,
    PERSON,
    START,
    SUSPENDED,
    TODAY,
    TOKEN,
    BotEnv,
    Clock,
    launch_lacking,
    login,
    set_backend_timeout,
)
from tests.support.driver import ChatDriver
from tests.support.fake_telegram import FakeTelegram
from tests.support.local_api import serving
from tests.support.postgres import ThrowawayDatabase, create_throwaway

# Imported from here by tests written before tests/support/bot_env.py: import them from there.
__all__ = [
    "COMPANY",
    "PERSON",
    "START",
    "SUSPENDED",
    "TODAY",
    "TOKEN",
    "BotEnv",
    "Clock",
    "launch_lacking",
    "login",
    "set_backend_timeout",
]


@pytest.fixture(scope="session")
def seeded_sandbox_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed the sandbox once; each test gets its own copy of the file."""
    import asyncio

    path = tmp_path_factory.mktemp("sandbox") / "template.db"

    async def seed() -> None:
        backend = SandboxBackend(f"sqlite+aiosqlite:///{path}", today=lambda: TODAY)
        await backend.start()
        await backend.close()

    asyncio.run(seed())
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: also run the test with the bot's database on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bot_database_url" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        kinds = ["sqlite", "postgresql"] if both else ["sqlite"]
        metafunc.parametrize("bot_database_url", kinds, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayDatabase | str]:
    """One throwaway PostgreSQL database per test run (or the reason there is none)."""
    import asyncio

    found = asyncio.run(create_throwaway())
    yield found
    if isinstance(found, ThrowawayDatabase):
        asyncio.run(found.drop())


@pytest.fixture
async def bot_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: ThrowawayDatabase | str
) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    if isinstance(postgres, str):
        pytest.skip(postgres)
    await postgres.reset()
    return postgres.url


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN,
        database_url=bot_database_url,
        sandbox_database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        backend_timeout=2.0,
    )


@pytest.fixture
async def env(
    settings: Settings, seeded_sandbox_file: Path, tmp_path: Path, clock: Clock
) -> AsyncIterator[BotEnv]:
    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    bot_env = BotEnv(settings, engine, FakeTelegram(), clock, settings.sandbox_database_url)
    await bot_env.launch()
    yield bot_env
    await bot_env.stop()
    await engine.dispose()


@pytest.fixture
def chat(env: BotEnv) -> ChatDriver:
    return env.chat()


@pytest.fixture
async def served() -> AsyncIterator[tuple[LocalBotApi, str]]:
    """A local Bot API for ``TOKEN`` served over HTTP: (the API, its base URL)."""
    api = LocalBotApi(TOKEN)
    async with serving(api) as url:
        yield api, url
