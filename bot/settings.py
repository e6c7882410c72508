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

from bot.parsing import ascii_int, ascii_number

BACKENDS = ("sandbox", "http", "sgp", "ixc")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TOKEN_PATTERN = re.compile(r"^[0-9]{5,}:[A-Za-z0-9_-]{30,}$")
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
    # The provider system (BACKEND=sgp|ixc|http), see README "Provider systems".
    backend_url: str | None = None
    backend_token: str | None = field(default=None, repr=False)
    backend_app: str | None = None
    backend_user: str | None = None
    # (id, name) ticket subjects of the provider's system, for when the integration may not read
    # its own list (IXC su_oss_assunto, SGP tipoocorrencia): BACKEND_TICKET_SUBJECTS.
    backend_ticket_subjects: tuple[tuple[str, str], ...] = ()
    # The provider file (PROVIDER_CONFIG, bot.provider): None = none (the bot's defaults).
    provider_config: str | None = None
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
    telegram_max_rate: float = 30.0  # messages/s to Telegram in all; 0 = no limiter
    telegram_proxy_url: str | None = field(default=None, repr=False)
    # Notifications to linked chats (bot.notifications.service).
    notify_poll_seconds: float = 300.0
    notify_days_before_due: int = 3
    quiet_hours: str = "21:00-08:00"
    backend_events_secret: str | None = field(default=None, repr=False)
    # Requests per second the notification feed may send the provider's system (BACKEND_FEED_RATE;
    # subscribers' own requests are not counted against it).
    backend_feed_rate: float = 2.0
    # Serving: webhook and the HTTP server (bot.runner, bot.web).
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_path: str = "/telegram/webhook"
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    drop_pending_updates: bool = False
    log_format: str = "text"
    # Provider broadcasts (bot.broadcasts): who may send them and how fast.
    admin_telegram_ids: tuple[int, ...] = ()
    admin_api_token: str | None = field(default=None, repr=False)
    broadcast_rate: float = 25.0  # broadcast messages per second
    paid_broadcast: bool = False  # Telegram's paid broadcasts: up to 1000 messages/s
    # Fernet keys that encrypt secrets at rest (ENCRYPTION_KEY, bot.storage.encryption): the
    # first encrypts, all decrypt. Empty on the sandbox, which may generate its own.
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)

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
    notify = _notifications(get, problems)
    serving = _serving(get, problems)
    provider = _provider(backend, get, problems)
    broadcasts = _broadcasts(get, problems, telegram_http["telegram_max_rate"])
    encryption_keys = _encryption_keys(backend, get("ENCRYPTION_KEY"), problems)
    provider_config = _provider_config(get("PROVIDER_CONFIG"), problems)

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
        **notify,
        **serving,
        **provider,
        **broadcasts,
        encryption_keys=encryption_keys,
        provider_config=provider_config,
    )


DEFAULT_PROVIDER_CONFIG = "provider.toml"


def _provider_config(raw: str | None, problems: list[str]) -> str | None:
    """PROVIDER_CONFIG: the provider file (its content is checked by bot.provider.config);
    unset, ``provider.toml`` in the working directory when there is one."""
    if raw is None:
        return DEFAULT_PROVIDER_CONFIG if Path(DEFAULT_PROVIDER_CONFIG).is_file() else None
    if not Path(raw).is_file():
        problems.append(
            f"PROVIDER_CONFIG names {raw!r}, which is not a file here; leave it unset to run "
            "without one (see deploy/provider.example.toml)."
        )
        return None
    return raw


ENCRYPTION_KEY_HINT = (
    "generate one with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


def missing_encryption_key(backend: str) -> str:
    return (
        f"ENCRYPTION_KEY is missing: BACKEND={backend} keeps subscribers' session tokens and "
        f"CPF/CNPJ encrypted in the bot's database; {ENCRYPTION_KEY_HINT}."
    )


def _encryption_keys(backend: str, raw: str | None, problems: list[str]) -> tuple[str, ...]:
    """ENCRYPTION_KEY: Fernet keys separated by commas (the first encrypts, all decrypt);
    required except on the sandbox. Problems never repeat a key."""
    from cryptography.fernet import Fernet

    keys = tuple(item.strip() for item in (raw or "").split(",") if item.strip())
    if not keys and backend in BACKENDS and backend != "sandbox":
        problems.append(missing_encryption_key(backend))
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:  # binascii.Error is one too
            problems.append(
                f"ENCRYPTION_KEY: key {number} of {len(keys)} is not a Fernet key (32 bytes in "
                f"URL-safe base64, 44 characters); {ENCRYPTION_KEY_HINT}."
            )
    return keys


_PROVIDER_NEEDS = {
    "sgp": ("BACKEND_URL", "BACKEND_TOKEN", "BACKEND_APP"),
    "ixc": ("BACKEND_URL", "BACKEND_USER", "BACKEND_TOKEN"),
    "http": ("BACKEND_URL",),
}
_PROVIDER_HINTS = {
    "BACKEND_URL": "the address of the provider system, e.g. https://sgp.provedor.com.br",
    "BACKEND_TOKEN": "the integration token created in the provider system",
    "BACKEND_APP": "the SGP app name the token belongs to (case-sensitive)",
    "BACKEND_USER": "the id of the IXC webservice user that owns the token",
}


def _provider(
    backend: str, get: Callable[[str], str | None], problems: list[str]
) -> dict[str, Any]:
    """BACKEND_URL, BACKEND_TOKEN, BACKEND_APP, BACKEND_USER: required only by the chosen backend.
    Messages never repeat the token."""
    given = {name: get(name) for name in _PROVIDER_HINTS}
    for name in _PROVIDER_NEEDS.get(backend, ()):
        if given[name] is None:
            problems.append(f"{name} is missing: BACKEND={backend} needs {_PROVIDER_HINTS[name]}.")
    url = given["BACKEND_URL"]
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"BACKEND_URL must be an http(s) URL (scheme {parts.scheme!r} given).")
        elif parts.username or parts.password:
            problems.append(
                "BACKEND_URL must not carry credentials; set BACKEND_USER / BACKEND_TOKEN instead."
            )
        url = url.rstrip("/")
    user = given["BACKEND_USER"]
    if backend == "ixc" and user is not None and ascii_int(user) is None:
        problems.append(f"BACKEND_USER must be the numeric id of the IXC user, got {user!r}.")
    return {
        "backend_url": url,
        "backend_token": given["BACKEND_TOKEN"],
        "backend_app": given["BACKEND_APP"],
        "backend_user": user,
        "backend_ticket_subjects": _ticket_subjects(get("BACKEND_TICKET_SUBJECTS"), problems),
    }


def _ticket_subjects(raw: str | None, problems: list[str]) -> tuple[tuple[str, str], ...]:
    """``12=Sem conexão; 13=Lentidão``: the subject ids of the provider's system and names."""
    if raw is None:
        return ()
    subjects: list[tuple[str, str]] = []
    for item in raw.split(";"):
        if not item.strip():
            continue
        subject_id, _, name = item.partition("=")
        if not subject_id.strip() or not name.strip():
            problems.append(
                "BACKEND_TICKET_SUBJECTS must be 'id=Nome' pairs separated by ';', e.g. "
                f"'12=Sem conexão; 13=Lentidão' (got {item.strip()!r})."
            )
            return ()
        subjects.append((subject_id.strip(), " ".join(name.split())))
    return tuple(subjects)


MIN_ADMIN_TOKEN = 24
MAX_FREE_BROADCAST_RATE = 30.0  # Telegram's limit without paid broadcasts
MAX_PAID_BROADCAST_RATE = 1000.0  # with allow_paid_broadcast (each message costs Stars)


def _broadcasts(
    get: Callable[[str], str | None], problems: list[str], max_rate: float
) -> dict[str, Any]:
    """ADMIN_TELEGRAM_IDS, ADMIN_API_TOKEN, BROADCAST_RATE, PAID_BROADCAST."""
    admins: list[int] = []
    for raw in (get("ADMIN_TELEGRAM_IDS") or "").split(","):
        item = raw.strip()
        if not item:
            continue
        admin = ascii_int(item, min=1)
        if admin is not None:
            admins.append(admin)
        else:
            problems.append(
                "ADMIN_TELEGRAM_IDS must be numeric Telegram user ids separated by commas "
                f"(e.g. 123456789,987654321), got {item!r}."
            )
    token = get("ADMIN_API_TOKEN")
    if token is not None and (len(token) < MIN_ADMIN_TOKEN or any(c.isspace() for c in token)):
        problems.append(
            f"ADMIN_API_TOKEN must have at least {MIN_ADMIN_TOKEN} characters and no spaces "
            "(e.g. from: openssl rand -hex 24); leave it empty to turn the admin API off."
        )
        token = None
    raw_paid = (get("PAID_BROADCAST") or "false").lower()
    if raw_paid not in _TRUE + _FALSE:
        problems.append(f"PAID_BROADCAST must be true or false, got {raw_paid!r}.")
    paid = raw_paid in _TRUE
    ceiling = MAX_PAID_BROADCAST_RATE if paid else MAX_FREE_BROADCAST_RATE
    raw_rate = get("BROADCAST_RATE")
    rate = 25.0
    if raw_rate is not None:
        rate = ascii_number(raw_rate) or -1
        if not 0 < rate <= ceiling:
            hint = "" if paid else " (up to 1000 with PAID_BROADCAST=true)"
            problems.append(
                f"BROADCAST_RATE must be a number of messages per second above 0 and at most "
                f"{ceiling:g}{hint}, got {raw_rate!r}."
            )
            rate = 25.0
    if not paid and 0 < max_rate < rate:
        problems.append(
            f"BROADCAST_RATE ({rate:g}/s) cannot exceed TELEGRAM_MAX_RATE ({max_rate:g}/s), the "
            "bot's overall rate, unless PAID_BROADCAST=true."
        )
    return {
        "admin_telegram_ids": tuple(dict.fromkeys(admins)),
        "admin_api_token": token,
        "broadcast_rate": rate,
        "paid_broadcast": paid,
    }


_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def _notifications(get: Callable[[str], str | None], problems: list[str]) -> dict[str, Any]:
    """NOTIFY_POLL_SECONDS, NOTIFY_DAYS_BEFORE_DUE, QUIET_HOURS, BACKEND_EVENTS_SECRET,
    BACKEND_FEED_RATE."""
    feed_rate = _positive_number(get("BACKEND_FEED_RATE"), 2, "BACKEND_FEED_RATE")
    if isinstance(feed_rate, str):
        problems.append(feed_rate + " It is requests per second to the provider's system, e.g. 2.")
        feed_rate = 2
    poll = _positive_number(get("NOTIFY_POLL_SECONDS"), 300, "NOTIFY_POLL_SECONDS")
    if isinstance(poll, str):
        problems.append(poll)
        poll = 300
    raw_days = get("NOTIFY_DAYS_BEFORE_DUE") or "3"
    days = ascii_int(raw_days, min=1, max=15)
    if days is None:
        problems.append(
            f"NOTIFY_DAYS_BEFORE_DUE must be a whole number from 1 to 15, got {raw_days!r}."
        )
        days = 3
    quiet = (get("QUIET_HOURS") or "21:00-08:00").replace(" ", "")
    if not _QUIET_HOURS.match(quiet):
        problems.append(f"QUIET_HOURS must look like 21:00-08:00 (start-end, 24 h), got {quiet!r}.")
    secret = get("BACKEND_EVENTS_SECRET")
    if secret is not None and len(secret) < 16:
        problems.append("BACKEND_EVENTS_SECRET must have at least 16 characters.")
    return {
        "notify_poll_seconds": float(poll),
        "notify_days_before_due": days,
        "quiet_hours": quiet,
        "backend_events_secret": secret,
        "backend_feed_rate": float(feed_rate),
    }


def _serving(get: Callable[[str], str | None], problems: list[str]) -> dict[str, Any]:
    """WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_PATH, HTTP_HOST, HTTP_PORT, DROP_PENDING_UPDATES,
    LOG_FORMAT."""
    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if parts.scheme != "https" or not parts.netloc:
            problems.append(
                "WEBHOOK_URL must be the bot's public https:// address (Telegram only calls "
                f"HTTPS), e.g. https://bot.provedor.com.br; got {webhook_url!r}."
            )
    secret = get("WEBHOOK_SECRET")
    if webhook_url is not None and secret is None:
        problems.append(
            "WEBHOOK_SECRET is missing: with WEBHOOK_URL set, Telegram must send a secret token "
            "(16-256 letters, digits, _ or -)."
        )
    elif secret is not None and not _SECRET_TOKEN.match(secret):
        problems.append("WEBHOOK_SECRET must be 16-256 letters, digits, _ or -.")
    path = get("WEBHOOK_PATH") or "/telegram/webhook"
    if not re.fullmatch(r"/[A-Za-z0-9/_-]{1,100}", path):
        problems.append(f"WEBHOOK_PATH must be a URL path like /telegram/webhook, got {path!r}.")
    raw_port = get("HTTP_PORT")
    port: int | None = None
    if raw_port is not None:
        port = ascii_int(raw_port, min=1, max=65535)
        if port is None:
            problems.append(f"HTTP_PORT must be a port number (1-65535), got {raw_port!r}.")
    drop = (get("DROP_PENDING_UPDATES") or "false").lower()
    if drop not in _TRUE + _FALSE:
        problems.append(f"DROP_PENDING_UPDATES must be true or false, got {drop!r}.")
    log_format = (get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        problems.append(f"LOG_FORMAT must be text or json, got {log_format!r}.")
    return {
        "webhook_url": webhook_url,
        "webhook_secret": secret,
        "webhook_path": path,
        "http_host": get("HTTP_HOST") or "127.0.0.1",
        "http_port": port,
        "drop_pending_updates": drop in _TRUE,
        "log_format": log_format,
    }


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
        given_concurrency = ascii_int(raw_concurrency, min=1)
        if given_concurrency is not None:
            concurrency = given_concurrency
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
    raw_rate = get("TELEGRAM_MAX_RATE")
    max_rate = 30.0
    if raw_rate is not None:
        given_rate = ascii_number(raw_rate)
        max_rate = -1 if given_rate is None else given_rate
        if max_rate < 0:
            problems.append(
                "TELEGRAM_MAX_RATE must be a number of messages per second (0 turns the limiter "
                f"off), got {raw_rate!r}."
            )
            max_rate = 30.0
    return {
        "telegram_transport": transport,
        "telegram_max_rate": max_rate,
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
        given_port = ascii_int(raw_port, min=1, max=65535)
        if given_port is not None:
            port = given_port
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
    value = ascii_number(raw)
    if value is None:
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
