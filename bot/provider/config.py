"""The provider file (``PROVIDER_CONFIG``, TOML): what it may hold, and its validation.

Read with the standard library's ``tomllib``; every problem is named at once, one per line, with
the section and key (``[menu] items: unknown item 'boletos' …``), as :mod:`bot.settings` does for
the environment. Without a file the bot behaves as it always has: :data:`DEFAULT`.

Tables and keys (``deploy/provider.example.toml`` documents each one):

- ``[provider]`` name, support_phone, support_whatsapp, support_email, support_hours, website,
  password_help;
- ``[menu]`` items: the menu's items, in order (:data:`MENU_IDS`);
- ``[texts]`` overrides of a few catalogue texts (:data:`TEXT_KEYS`), checked as Telegram checks
  HTML (:mod:`bot.telegram_html`);
- ``[policies]`` due_days, enabling_days, ticket_subjects;
- ``[support]`` chat_id (the team's forum supergroup for hand-offs), hours (when the team
  answers, :mod:`bot.provider.hours`), reply_timeout_minutes (no reply within it: a ticket is
  offered).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from bot import telegram_html
from bot.provider import hours as hours_module

# The main menu's item ids (seed 1.2.1.1), in the order the bot shows them without a file.
MENU_IDS: tuple[str, ...] = (
    "account",
    "enabling",
    "invoices",
    "fiscal_notes",
    "contacts",
    "calls",
    "connections",
    "statement",
    "due_day",
    "tickets",
    "password",
    "notifications",
    "no_internet",
)
# [texts] keys a provider may override: key -> where the text shows (for messages and docs).
TEXT_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "welcome": "the welcome of /start, before the login",
        "help": "the answer to /ajuda (the provider's contacts follow it)",
        "ask_document": "the login's request for the CPF/CNPJ",
        "ask_password": "the login's request for the password",
    }
)
SECTIONS = ("provider", "menu", "texts", "policies", "support")
PROVIDER_KEYS = (
    "name",
    "support_phone",
    "support_whatsapp",
    "support_email",
    "support_hours",
    "website",
    "password_help",
)
POLICY_KEYS = ("due_days", "enabling_days", "ticket_subjects")
SUPPORT_KEYS = ("chat_id", "hours", "reply_timeout_minutes")
DEFAULT_REPLY_TIMEOUT = 10
MAX_NAME = 64  # the name goes in the bot's short description (120 characters) with a sentence
MAX_SHORT = 200  # hours, phone, e-mail, site
MAX_LONG = 1000  # password_help
MAX_SUBJECT = 100
MAX_ENABLING_DAYS = 30
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+$")


class ProviderConfigError(Exception):
    """Raised with every problem found, one per line, naming the section and key."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.source = source


@dataclass(frozen=True, slots=True)
class Provider:
    """``[provider]``: who the subscriber is talking to. ``None``: not given."""

    name: str | None = None
    support_phone: str | None = None
    support_whatsapp: str | None = None
    support_email: str | None = None
    support_hours: str | None = None
    website: str | None = None
    password_help: str | None = None

    @property
    def whatsapp_link(self) -> str | None:
        """``https://wa.me/<number>``: WhatsApp's click-to-chat link takes "your phone number in
        full international format", without zeroes, brackets or dashes — so the E.164 digits
        without ``+`` (WhatsApp's FAQ "How to use click to chat",
        https://faq.whatsapp.com/general/26000030: ``https://wa.me/15551234567``)."""
        if self.support_whatsapp is None:
            return None
        number = phonenumbers.parse(self.support_whatsapp, "BR")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return "https://wa.me/" + e164.lstrip("+")

    @property
    def has_contacts(self) -> bool:
        return any(
            (
                self.support_phone,
                self.support_whatsapp,
                self.support_email,
                self.website,
                self.support_hours,
            )
        )


@dataclass(frozen=True, slots=True)
class Policies:
    """``[policies]``. Empty or ``None``: the provider's system decides (as without a file)."""

    due_days: tuple[int, ...] = ()
    enabling_days: int | None = None
    # (subject id in the provider's system or None, name): "12=Sem conexão" or "Sem conexão".
    ticket_subjects: tuple[tuple[str | None, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Support:
    """``[support]``: the hand-off to the team (issue 22); no ``chat_id``, no hand-off."""

    chat_id: int | None = None
    hours: tuple[hours_module.Window, ...] = ()
    hours_text: tuple[str, ...] = ()
    reply_timeout_minutes: int = DEFAULT_REPLY_TIMEOUT

    def is_open(self, now: datetime) -> bool:
        return hours_module.is_open(self.hours, now)


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    provider: Provider = field(default_factory=Provider)
    menu_items: tuple[str, ...] = MENU_IDS
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    policies: Policies = field(default_factory=Policies)
    support: Support = field(default_factory=Support)
    # Read from a file: then the menu leaves out what the backend lacks (without a file every
    # item shows, and one the system cannot do says so when pressed, as before).
    from_file: bool = False

    def visible_items(self, lacks: Callable[[str], bool]) -> tuple[str, ...]:
        """The menu's items: all of them without a file; with one, ``[menu] items`` in order
        minus those ``lacks`` (an item id -> whether the provider's system cannot do it)."""
        if not self.from_file:
            return self.menu_items
        return tuple(item for item in self.menu_items if not lacks(item))

    def text(self, key: str, default: str) -> str:
        """The provider's override of catalogue text ``key`` (:data:`TEXT_KEYS`), or ``default``."""
        return self.texts.get(key, default)

    def to_json(self) -> dict[str, Any]:
        """The configuration as the admin API shows it (every key, ``null`` when not given)."""
        provider = {key: getattr(self.provider, key) for key in PROVIDER_KEYS}
        return {
            "provider": provider,
            "menu": {"items": list(self.menu_items)},
            "texts": dict(self.texts),
            "policies": {
                "due_days": list(self.policies.due_days),
                "enabling_days": self.policies.enabling_days,
                "ticket_subjects": [
                    name if subject_id is None else f"{subject_id}={name}"
                    for subject_id, name in self.policies.ticket_subjects
                ],
            },
            "support": {
                "chat_id": self.support.chat_id,
                "hours": list(self.support.hours_text),
                "reply_timeout_minutes": self.support.reply_timeout_minutes,
            },
        }


DEFAULT = ProviderConfig()


def load(path: str | Path) -> ProviderConfig:
    """Read and validate the file at ``path``; ProviderConfigError names every problem (an
    unreadable file or a TOML syntax error is one problem, with its line and column)."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ProviderConfigError([f"cannot read the file: {error.strerror}"], source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProviderConfigError(["the file is not UTF-8 text"], source) from None
    return parse(text, source)


def parse(text: str, source: str = "") -> ProviderConfig:
    """Validate TOML ``text``; ProviderConfigError names every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProviderConfigError([f"not valid TOML: {error}"], source) from None
    return from_mapping(data, source)


def from_mapping(data: Mapping[str, Any], source: str = "") -> ProviderConfig:
    """Validate an already-read document (TOML tables as dicts, or the admin API's JSON)."""
    problems: list[str] = []
    for section in data:
        if section not in SECTIONS:
            problems.append(
                f"unknown section [{section}] (expected {', '.join(f'[{s}]' for s in SECTIONS)})"
            )
    tables = {name: _table(data, name, problems) for name in SECTIONS}
    provider = _provider(tables["provider"], problems)
    menu_items = _menu(tables["menu"], problems)
    texts = _texts(tables["texts"], problems)
    policies = _policies(tables["policies"], problems)
    support = _support(tables["support"], problems)
    if problems:
        raise ProviderConfigError(problems, source)
    return ProviderConfig(
        provider=provider,
        menu_items=menu_items,
        texts=MappingProxyType(texts),
        policies=policies,
        support=support,
        from_file=True,
    )


def _table(data: Mapping[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"[{name}] must be a table (a [{name}] header), got {_kind(value)}")
        return {}
    return value


def _unknown_keys(
    table: Mapping[str, Any], section: str, known: tuple[str, ...], problems: list[str]
) -> None:
    for key in table:
        if key not in known:
            problems.append(f"[{section}] {key}: unknown key (expected one of {', '.join(known)})")


def _kind(value: Any) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
             dict: "a table"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _text(
    table: Mapping[str, Any], section: str, key: str, problems: list[str], limit: int
) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"[{section}] {key} must be text (in quotes), got {_kind(value)}")
        return None
    value = value.strip()
    if not value:
        problems.append(f"[{section}] {key} is empty: give a value or leave the key out")
        return None
    if len(value) > limit:
        problems.append(f"[{section}] {key} is too long ({len(value)} characters, at most {limit})")
        return None
    return value


def _provider(table: Mapping[str, Any], problems: list[str]) -> Provider:
    _unknown_keys(table, "provider", PROVIDER_KEYS, problems)
    values = {
        key: _text(table, "provider", key, problems, MAX_NAME if key == "name" else MAX_SHORT)
        for key in PROVIDER_KEYS
        if key != "password_help"
    }
    values["password_help"] = _text(table, "provider", "password_help", problems, MAX_LONG)
    if values["password_help"] is not None:
        _check_html(values["password_help"], "[provider] password_help", problems)
    for key, kind in (("support_phone", "phone"), ("support_whatsapp", "WhatsApp number")):
        number = values[key]
        if number is not None and not _valid_phone(number):
            problems.append(
                f'[provider] {key}: {number!r} is not a valid {kind} (e.g. "(11) 4000-1234", '
                'or "+55 11 98888-7777" with the country code)'
            )
            values[key] = None
    email = values["support_email"]
    if email is not None and not _EMAIL.match(email):
        problems.append(
            f"[provider] support_email: {email!r} is not an e-mail address "
            '(e.g. "suporte@provedor.com.br")'
        )
    website = values["website"]
    if website is not None:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in website:
            problems.append(
                f"[provider] website: {website!r} is not an http(s) address "
                '(e.g. "https://provedor.com.br")'
            )
    return Provider(**values)


def _valid_phone(value: str) -> bool:
    """A number valid in Brazil (or, with ``+``, in its own country), per libphonenumber."""
    try:
        number = phonenumbers.parse(value, "BR")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _menu(table: Mapping[str, Any], problems: list[str]) -> tuple[str, ...]:
    _unknown_keys(table, "menu", ("items",), problems)
    items = table.get("items")
    if items is None:
        return MENU_IDS
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        problems.append(
            '[menu] items must be a list of item ids in quotes, e.g. ["invoices", "account"]'
        )
        return MENU_IDS
    if not items:
        problems.append("[menu] items is empty: name at least one item")
    seen: set[str] = set()
    for item in items:
        if item not in MENU_IDS:
            problems.append(
                f"[menu] items: unknown item {item!r} (the ids are {', '.join(MENU_IDS)})"
            )
        elif item in seen:
            problems.append(f"[menu] items: {item!r} is listed twice")
        seen.add(item)
    return tuple(dict.fromkeys(item for item in items if item in MENU_IDS))


def _texts(table: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for key in table:
        if key not in TEXT_KEYS:
            problems.append(
                f"[texts] {key}: unknown text (the texts a provider may change are "
                f"{', '.join(TEXT_KEYS)})"
            )
            continue
        text = _text(table, "texts", key, problems, telegram_html.TEXT_LIMIT)
        if text is not None and _check_html(text, f"[texts] {key}", problems):
            texts[key] = text
    return texts


def _check_html(text: str, where: str, problems: list[str]) -> bool:
    """Telegram would send ``text`` with parse_mode=HTML (bot.telegram_html: tdlib's rules)."""
    try:
        telegram_html.message_text(text, html=True)
    except telegram_html.Refused as refused:
        reason = refused.description.removeprefix("Bad Request: ")
        problems.append(
            f"{where}: Telegram would refuse this HTML ({reason}); write &lt; &gt; &amp; for "
            "< > & and use only Telegram's tags (<b>, <i>, <u>, <s>, <a href=…>, <code>…)"
        )
        return False
    return True


def _policies(table: Mapping[str, Any], problems: list[str]) -> Policies:
    _unknown_keys(table, "policies", POLICY_KEYS, problems)
    due_days: list[int] = []
    raw_days = table.get("due_days", [])
    if not isinstance(raw_days, list):
        problems.append("[policies] due_days must be a list of days, e.g. [5, 10, 15, 20, 25]")
        raw_days = []
    for day in raw_days:
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
            problems.append(
                f"[policies] due_days: {day!r} is not a day from 1 to 28 (every month has it)"
            )
        elif day in due_days:
            problems.append(f"[policies] due_days: {day} is listed twice")
        else:
            due_days.append(day)
    enabling = table.get("enabling_days")
    if enabling is not None and (
        isinstance(enabling, bool)
        or not isinstance(enabling, int)
        or not 1 <= enabling <= MAX_ENABLING_DAYS
    ):
        problems.append(
            f"[policies] enabling_days must be a whole number of days from 1 to "
            f"{MAX_ENABLING_DAYS}, got {enabling!r}"
        )
        enabling = None
    return Policies(
        due_days=tuple(sorted(due_days)),
        enabling_days=enabling,
        ticket_subjects=_subjects(table.get("ticket_subjects", []), problems),
    )


def _subjects(raw: Any, problems: list[str]) -> tuple[tuple[str | None, str], ...]:
    example = 'e.g. ["Sem conexão", "Lentidão"] or ["12=Sem conexão", "13=Lentidão"]'
    if not isinstance(raw, list):
        problems.append(f"[policies] ticket_subjects must be a list of subjects, {example}")
        return ()
    subjects: list[tuple[str | None, str]] = []
    names: set[str] = set()
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            problems.append(f"[policies] ticket_subjects: {item!r} is not a subject, {example}")
            continue
        subject_id, equals, name = item.partition("=")
        if not equals:
            subject_id, name = "", item
        name = " ".join(name.split())
        if (equals and not subject_id.strip()) or not name or len(name) > MAX_SUBJECT:
            problems.append(
                f"[policies] ticket_subjects: {item!r} must be a name of up to {MAX_SUBJECT} "
                f"characters, or 'id=Nome' with the subject's id in the provider's system"
            )
            continue
        if name.casefold() in names:
            problems.append(f"[policies] ticket_subjects: {name!r} is listed twice")
            continue
        names.add(name.casefold())
        subjects.append((subject_id.strip() or None, name))
    return tuple(subjects)


def _support(table: Mapping[str, Any], problems: list[str]) -> Support:
    _unknown_keys(table, "support", SUPPORT_KEYS, problems)
    chat_id = table.get("chat_id")
    if chat_id is not None and (isinstance(chat_id, bool) or not isinstance(chat_id, int)):
        problems.append(
            f"[support] chat_id must be a Telegram chat id (a whole number), got {_kind(chat_id)}"
        )
        chat_id = None
    windows: list[hours_module.Window] = []
    texts: list[str] = []
    raw_hours = table.get("hours", [])
    if not isinstance(raw_hours, list) or not all(isinstance(e, str) for e in raw_hours):
        problems.append(f"[support] hours must be a list of texts, got {_kind(raw_hours)}")
        raw_hours = []
    for entry in raw_hours:
        try:
            windows.append(hours_module.parse_entry(entry))
            texts.append(entry)
        except ValueError as error:
            problems.append(f"[support] hours: {error}")
    timeout = table.get("reply_timeout_minutes", DEFAULT_REPLY_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 1440:
        problems.append(
            "[support] reply_timeout_minutes must be a whole number of minutes from 1 to 1440, "
            f"got {timeout!r}"
        )
        timeout = DEFAULT_REPLY_TIMEOUT
    return Support(
        chat_id=chat_id,
        hours=tuple(windows),
        hours_text=tuple(texts),
        reply_timeout_minutes=timeout,
    )
