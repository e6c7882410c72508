"""Reading a provider's JSON defensively: every field the adapter uses is checked.

A :class:`Record` wraps one JSON object and knows where it came from (``SGP titulos.faturas[2]``),
so a missing or mistyped field becomes :class:`~backend_client.errors.Unavailable` with a message
that names the system, the place and the field. Values are never quoted in those messages (they may
be personal data), except short codes of an unknown enumeration value, which help the operator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from backend_client.errors import Unavailable

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
T = TypeVar("T")
_CENT = Decimal("0.01")
_EMPTY_DATES = ("", "0000-00-00", "0000-00-00 00:00:00", "00/00/0000")
_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
_BR_DECIMAL_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")
_MISSING = object()


def shape_error(system: str, where: str, problem: str) -> Unavailable:
    return Unavailable(f"{system} answered an unexpected shape: {where} {problem}")


def parse_day(value: str) -> date:
    """``YYYY-MM-DD`` (optionally followed by a time) or ``DD/MM/YYYY``."""
    text = value.strip()
    if "/" in text:
        return datetime.strptime(text[:10], "%d/%m/%Y").date()
    return date.fromisoformat(text[:10])


def parse_instant(value: str) -> datetime:
    """ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]``; a naive time is São Paulo wall-clock time."""
    text = value.strip().replace("T", " ", 1)
    if "/" in text[:10]:
        day = datetime.strptime(text[:10], "%d/%m/%Y").date().isoformat()
        text = day + text[10:]
    instant = datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=SAO_PAULO)


class Record:
    """One JSON object of a provider's answer."""

    __slots__ = ("data", "system", "where")

    def __init__(self, data: Mapping[str, Any], system: str, where: str) -> None:
        self.data = data
        self.system = system
        self.where = where

    @classmethod
    def of(cls, data: Any, system: str, where: str) -> Record:
        if not isinstance(data, Mapping):
            raise shape_error(system, where, f"is {_kind(data)}, expected an object")
        return cls(data, system, where)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def fail(self, key: str, problem: str) -> Unavailable:
        return shape_error(self.system, f"{self.where}.{key}", problem)

    def _get(self, key: str) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            raise self.fail(key, "is missing")
        return value

    def raw(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def _blank(self, key: str) -> bool:
        value = self.data.get(key)
        return value is None or (isinstance(value, str) and not value.strip())

    # --- text and identifiers -------------------------------------------------------------------
    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected text")
        return value

    def opt_text(self, key: str) -> str | None:
        if self._blank(key):
            return None
        value = self.data[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected text")
        return value.strip()

    def ident(self, key: str) -> str:
        """An id: a non-negative integer or non-empty text, returned as text."""
        value = self._get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise self.fail(key, f"is {_kind(value)}, expected an id")

    def opt_ident(self, key: str) -> str | None:
        if self._blank(key) or self.data.get(key) in (0, "0"):
            return None
        return self.ident(key)

    def strings(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(key, "is not a list of texts")
        return [item.strip() for item in value if item.strip()]

    # --- numbers --------------------------------------------------------------------------------
    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise self.fail(key, f"is {_kind(value)}, expected an integer")

    def opt_integer(self, key: str) -> int | None:
        return None if self._blank(key) else self.integer(key)

    def money(self, key: str) -> Decimal:
        value = self._get(key)
        amount = _decimal(value)
        if amount is None:
            raise self.fail(key, f"is {_kind(value)}, expected an amount")
        return amount.quantize(_CENT)

    def opt_money(self, key: str) -> Decimal | None:
        return None if self._blank(key) else self.money(key)

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if isinstance(value, bool):
            return value
        if value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().upper() in (
            "S",
            "N",
            "1",
            "0",
            "TRUE",
            "FALSE",
        ):
            return value.strip().upper() in ("S", "1", "TRUE")
        raise self.fail(key, f"is {_kind(value)}, expected a yes/no flag")

    # --- dates ----------------------------------------------------------------------------------
    def day(self, key: str) -> date:
        value = self._get(key)
        if not isinstance(value, str) or value.strip() in _EMPTY_DATES:
            raise self.fail(key, f"is {_kind(value)}, expected a date")
        try:
            return parse_day(value)
        except ValueError:
            raise self.fail(key, "is not a date (YYYY-MM-DD)") from None

    def opt_day(self, key: str) -> date | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and value.strip() in _EMPTY_DATES):
            return None
        return self.day(key)

    def instant(self, key: str) -> datetime:
        value = self._get(key)
        if not isinstance(value, str) or value.strip() in _EMPTY_DATES:
            raise self.fail(key, f"is {_kind(value)}, expected a date and time")
        try:
            return parse_instant(value)
        except ValueError:
            raise self.fail(key, "is not a date and time (YYYY-MM-DD HH:MM:SS)") from None

    def opt_instant(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and value.strip() in _EMPTY_DATES):
            return None
        return self.instant(key)

    # --- structure ------------------------------------------------------------------------------
    def record(self, key: str) -> Record:
        return Record.of(self._get(key), self.system, f"{self.where}.{key}")

    def records(self, key: str) -> list[Record]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self.fail(key, f"is {_kind(value)}, expected a list")
        return [
            Record.of(item, self.system, f"{self.where}.{key}[{index}]")
            for index, item in enumerate(value)
        ]

    def opt_records(self, key: str) -> list[Record]:
        return [] if self.data.get(key) is None else self.records(key)

    def choice(self, key: str, mapping: Mapping[Any, T]) -> T:
        value = self._get(key)
        normalised = value.strip() if isinstance(value, str) else value
        if isinstance(normalised, bool) or normalised not in mapping:
            shown = repr(value) if isinstance(value, str | int) and len(str(value)) <= 12 else ""
            raise self.fail(key, f"has an unknown value {shown}".rstrip())
        return mapping[normalised]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_RE.match(text):
            candidate = text
        elif _BR_DECIMAL_RE.match(text):
            candidate = text.replace(".", "").replace(",", ".")
        else:
            return None
        try:
            return Decimal(candidate)
        except InvalidOperation:
            return None
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
