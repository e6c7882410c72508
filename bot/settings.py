"""Settings from environment variables (and an optional ``.env``), validated once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

BACKENDS = ("sandbox",)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./minha-central.db"
DEFAULT_SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./minha-central-sandbox.db"
DEFAULT_SMTP_PORT = 587
TRANSPORTS = ("aiohttp", "httpx")
DEFAULT_CONCURRENT_UPDATES = 64
EMAIL_PATTERN = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+$")
_TRUE = ("1", "true", "yes", "on", "sim")
_FALSE = ("0", "false", "no", "off", "nao", "não")


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
    # E-mail (due-day change requests). Without smtp_host, e-mail is disabled.
    smtp_host: str | None = None
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    smtp_from: str | None = None
    billing_email: str | None = None
    # Telegram HTTP client (bot.transport) and per-chat ordered concurrency (bot.update_processor).
    telegram_transport: str = "aiohttp"
    concurrent_updates: int = DEFAULT_CONCURRENT_UPDATES
    telegram_proxy_url: str | None = field(default=None, repr=False)

    @property
    def email_enabled(self) -> bool:
        return self.smtp_host is not None

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

    smtp = _smtp(values, get, problems)
    telegram_http = _telegram_http(get, problems)

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
        **smtp,
        **telegram_http,
    )


def _telegram_http(get: Callable[[str], str | None], problems: list[str]) -> dict[str, Any]:
    """TELEGRAM_TRANSPORT, CONCURRENT_UPDATES and TELEGRAM_PROXY_URL; problems are appended."""
    transport = (get("TELEGRAM_TRANSPORT") or TRANSPORTS[0]).lower()
    if transport not in TRANSPORTS:
        problems.append(
            f"TELEGRAM_TRANSPORT must be one of {', '.join(TRANSPORTS)}; got {transport!r}."
        )
    raw_concurrency = get("CONCURRENT_UPDATES")
    concurrency = DEFAULT_CONCURRENT_UPDATES
    if raw_concurrency is not None:
        if raw_concurrency.isdigit() and int(raw_concurrency) >= 1:
            concurrency = int(raw_concurrency)
        else:
            problems.append(
                "CONCURRENT_UPDATES must be a whole number of at least 1 (how many chats are "
                f"served at once; 1 = one update at a time), got {raw_concurrency!r}."
            )
    proxy = get("TELEGRAM_PROXY_URL")
    if proxy is not None:
        parts = urlsplit(proxy)
        try:
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port that is not a number
            valid = False
        if not valid:
            shown = re.sub(r"(?<=://)[^/@]*@", "***@", proxy)  # never echo a password
            problems.append(
                "TELEGRAM_PROXY_URL must be an http:// or https:// proxy URL, like "
                f"'http://proxy.provedor.com.br:3128' (credentials allowed); got {shown!r}."
            )
    return {
        "telegram_transport": transport,
        "concurrent_updates": concurrency,
        "telegram_proxy_url": proxy,
    }


def _smtp(
    values: Mapping[str, str], get: Callable[[str], str | None], problems: list[str]
) -> dict[str, Any]:
    """The SMTP_* and BILLING_EMAIL settings; problems are appended, naming the variable."""
    host = get("SMTP_HOST")
    if host is not None and not re.fullmatch(r"[A-Za-z0-9._:\[\]-]+", host):
        problems.append(
            f"SMTP_HOST must be a host name or IP address (smtp.provedor.com.br), got {host!r}."
        )
    raw_port = get("SMTP_PORT")
    port = DEFAULT_SMTP_PORT
    if raw_port is not None:
        if raw_port.isdigit() and 1 <= int(raw_port) <= 65535:
            port = int(raw_port)
        else:
            problems.append(f"SMTP_PORT must be a port number (1-65535), got {raw_port!r}.")
    raw_starttls = (get("SMTP_STARTTLS") or "true").lower()
    starttls = raw_starttls in _TRUE
    if raw_starttls not in _TRUE + _FALSE:
        problems.append(f"SMTP_STARTTLS must be true or false, got {raw_starttls!r}.")
    # A password is taken as typed: spaces may be part of it.
    username, password = get("SMTP_USERNAME"), values.get("SMTP_PASSWORD") or None
    sender, billing = get("SMTP_FROM"), get("BILLING_EMAIL")
    if (username is None) != (password is None):
        problems.append("SMTP_USERNAME and SMTP_PASSWORD must be set together (or neither).")
    if sender is not None and not _is_address(parseaddr(sender)[1]):
        problems.append(
            "SMTP_FROM must be an e-mail address, like 'central@provedor.com.br' or "
            f"'Minha Central <central@provedor.com.br>'; got {sender!r}."
        )
    if billing is not None and not _is_address(billing):
        problems.append(f"BILLING_EMAIL must be one e-mail address, got {billing!r}.")
    if host is not None:
        if sender is None:
            problems.append(
                "SMTP_FROM is missing: the sender address is needed when SMTP_HOST is set."
            )
        if billing is None:
            problems.append(
                "BILLING_EMAIL is missing: the provider's billing address receives the due-day "
                "change requests when SMTP_HOST is set."
            )
    return {
        "smtp_host": host,
        "smtp_port": port,
        "smtp_username": username,
        "smtp_password": password,
        "smtp_starttls": starttls,
        "smtp_from": sender,
        "billing_email": billing,
    }


def _is_address(value: str) -> bool:
    return bool(EMAIL_PATTERN.match(value))


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
