"""What the tests share besides fixtures: the demo accounts and the fixed day, a settable
clock, the bot over the sandbox and the recording Telegram (:class:`BotEnv`), logging in.

``tests/conftest.py`` builds the fixtures from these and re-exports the names."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from backend_client.features import Feature
from backend_client.sandbox import DEMO_ACCOUNTS, SandboxBackend
from bot.application import build_application
from bot.settings import Settings
from tests.support.driver import ChatDriver
from tests.support.fake_telegram import FakeTelegram
from tests.support.lacking import LackingSandbox

# The bot token of every offline test (the local Bot API and the recorder accept it).
TOKEN = "123456789:AAFakeTokenForOfflineTestsOnly_0123456789"
TODAY = date(2026, 11, 28)
# 10:00 in São Paulo.
START = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)

PERSON = DEMO_ACCOUNTS[0]
SUSPENDED = DEMO_ACCOUNTS[1]
COMPANY = DEMO_ACCOUNTS[2]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class BotEnv:
    settings: Settings
    engine: AsyncEngine
    api: FakeTelegram
    clock: Clock
    sandbox_url: str
    applications: list[Any] = field(default_factory=list)
    backend: SandboxBackend | None = None
    # Makes the backend of the next launch from the sandbox's URL (default: a plain sandbox).
    make_backend: Callable[[str], SandboxBackend] | None = None

    @property
    def app(self) -> Any:
        return self.applications[-1]

    async def launch(self) -> Any:
        """Start the bot (again): new Application and backend objects over the same storage."""
        if self.applications:
            await self.stop()
        if self.make_backend is not None:
            self.backend = self.make_backend(self.sandbox_url)
        else:
            self.backend = SandboxBackend(self.sandbox_url, today=lambda: TODAY)
        application = build_application(
            self.settings,
            engine=self.engine,
            backend=self.backend,
            request=self.api,
            clock=self.clock,
            rate_limiter=False,
        )
        await application.initialize()
        await application.post_init(application)
        await application.start()  # the job queue, for flow timeouts; updates come from tests
        self.applications.append(application)
        return application

    async def stop(self) -> None:
        application = self.app
        if application.running:
            await application.stop()
        await application.update_persistence()
        await application.shutdown()
        await self.backend.close()  # type: ignore[union-attr]

    def chat(self, user_id: int = 555001) -> ChatDriver:
        return ChatDriver(self.app, self.api, user_id)


async def login(chat: ChatDriver, account: Any = PERSON) -> None:
    await chat.send("/start")
    await chat.send(account.document)
    calls = await chat.send(account.password)
    if any(data == "link:later" for call in calls for _, data in call.buttons):
        calls = await chat.press("link:later")  # the offer to link this chat: not now
    assert any("Menu" in call.text for call in calls), [c.text for c in calls]


async def launch_lacking(
    env: BotEnv, lacking: Iterable[Feature] = (), refusing: Iterable[Feature] = ()
) -> None:
    """Start the bot again on a sandbox lacking these features (see LackingSandbox)."""
    env.make_backend = lambda url: LackingSandbox(
        url, today=lambda: TODAY, lacking=lacking, refusing=refusing
    )
    await env.launch()


def set_backend_timeout(env: BotEnv, seconds: float) -> None:
    """How long a backend call may take before it counts as down (after logging in: scrypt
    on a loaded machine can take longer than a deliberately short timeout)."""
    services = env.app.bot_data["services"]
    services.backend._timeout = seconds
    services.settings = replace(services.settings, backend_timeout=seconds)


def settings_with_provider_file(folder: Path, database_url: str, provider_toml: str) -> Settings:
    """Test settings with ``provider_toml`` as the provider file (in ``folder``)."""
    path = folder / "provider.toml"
    path.write_text(provider_toml, encoding="utf-8")
    return Settings(
        telegram_bot_token=TOKEN,
        database_url=database_url,
        sandbox_database_url=f"sqlite+aiosqlite:///{folder / 'sandbox.db'}",
        backend_timeout=2.0,
        provider_config=str(path),
    )
