"""Settings from environment variables (and an optional ``.env``), validated once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

BACKENDS = ("sandbox",)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./minha-central.db"
DEFAULT_SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./minha-central-sandbox.db"


class SettingsError(Exception):
    """Raised with every problem found, one per line, naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    telegram_bot_token: str
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    backend: str = "sandbox"
    sandbox_database_url: str = DEFAULT_SANDBOX_DATABASE_URL
    session_idle_timeout: timedelta = timedelta(minutes=30)
    flow_idle_timeout: timedelta = timedelta(minutes=10)
    backend_timeout: float = 15.0
    log_level: str = "INFO"

    @property
    def bot_base_url(self) -> str:
        """PTB appends the token: ``{TELEGRAM_API_URL}/bot{token}/{method}``."""
        return f"{self.telegram_api_url}/bot"

    @property
    def bot_base_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | Path | None = ".env",
    ) -> Settings:
        """Read and validate; real environment variables win over the ``.env`` file."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return _parse(values)


def _parse(values: Mapping[str, str]) -> Settings:
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is None:
        problems.append(
            "TELEGRAM_BOT_TOKEN is missing: create a bot with @BotFather and set its token."
        )
    elif not TOKEN_PATTERN.match(token):
        problems.append(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected '123456789:AA…')."
        )

    api_url = (get("TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API_URL).rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"TELEGRAM_API_URL must be an http(s) URL, got {api_url!r}.")

    database_url = _async_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if database_url is None:
        problems.append("DATABASE_URL must be a sqlite:// or postgresql:// URL.")
    sandbox_url = _async_database_url(get("SANDBOX_DATABASE_URL") or DEFAULT_SANDBOX_DATABASE_URL)
    if sandbox_url is None:
        problems.append("SANDBOX_DATABASE_URL must be a sqlite:// or postgresql:// URL.")

    backend = (get("BACKEND") or "sandbox").lower()
    if backend not in BACKENDS:
        problems.append(f"BACKEND must be one of {', '.join(BACKENDS)}; got {backend!r}.")

    session_minutes = _positive_number(get("SESSION_IDLE_MINUTES"), 30, "SESSION_IDLE_MINUTES")
    flow_minutes = _positive_number(get("FLOW_IDLE_MINUTES"), 10, "FLOW_IDLE_MINUTES")
    backend_timeout = _positive_number(
        get("BACKEND_TIMEOUT_SECONDS"), 15, "BACKEND_TIMEOUT_SECONDS"
    )
    for result in (session_minutes, flow_minutes, backend_timeout):
        if isinstance(result, str):
            problems.append(result)

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {log_level!r}.")

    if problems:
        raise SettingsError(problems)
    assert token and database_url and sandbox_url
    assert not isinstance(session_minutes, str) and not isinstance(flow_minutes, str)
    assert not isinstance(backend_timeout, str)
    return Settings(
        telegram_bot_token=token,
        telegram_api_url=api_url,
        database_url=database_url,
        backend=backend,
        sandbox_database_url=sandbox_url,
        session_idle_timeout=timedelta(minutes=session_minutes),
        flow_idle_timeout=timedelta(minutes=flow_minutes),
        backend_timeout=backend_timeout,
        log_level=log_level,
    )


def _positive_number(raw: str | None, default: float, name: str) -> float | str:
    """The number, or a problem description naming the variable."""
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return f"{name} must be a number, got {raw!r}."
    if value <= 0:
        return f"{name} must be greater than zero, got {raw!r}."
    return value


def _async_database_url(url: str) -> str | None:
    """Map plain URLs to the async drivers we ship (aiosqlite, asyncpg)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }.get(scheme)
    return f"{driver}://{rest}" if driver else None
