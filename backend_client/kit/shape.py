"""Reading a provider's JSON tolerantly, and failing precisely where it matters.

A :class:`Record` wraps one JSON object and knows where it came from (``SGP titulos.faturas[2]``),
so a missing or mistyped field becomes :class:`~backend_client.errors.Unavailable` with a message
that names the system, the place, the field and the shape found. Values are never quoted in those
messages (they may be personal data), except short codes of an unknown enumeration value, which
help the operator.

Real installations of one system answer the same field in several ways, so every accessor
accepts them: a key in either casing (``razaoSocial`` / ``razaosocial`` / ``razao_social``), or
one of several names (``"contratoId|contrato"``); numbers as numbers or text with a dot or comma
decimal; dates as ``YYYY-MM-DD``, ``DD/MM/YYYY`` (with or without a time) or ISO 8601; empty text
for an absent value; lists bare or wrapped (:func:`listing`); lists of texts or of objects
(:meth:`Record.strings`). A field the bot only displays is read with :meth:`Record.shown`: when it
is odd it is left out and logged once per process as a WARNING naming the place and the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from backend_client.errors import Unavailable
from backend_client.timezone import SAO_PAULO

logger = logging.getLogger(__name__)

T = TypeVar("T")
_CENT = Decimal("0.01")
_EMPTY_DATES = ("", "0000-00-00", "0000-00-00 00:00:00", "00/00/0000")
_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
_BR_DECIMAL_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$|^-?\d+(,\d+)?$")
_MISSING = object()
_INDEX_RE = re.compile(r"\[\d+\]")
# Keys an object in a list of contacts may hold its value under (SGP emails/telefones variants).
_VALUE_KEYS = ("email", "contato", "telefone", "fone", "numero", "celular", "valor", "value")
_YES = frozenset({"S", "SIM", "1", "TRUE", "T", "Y", "YES"})
_NO = frozenset({"N", "NAO", "NÃO", "0", "FALSE", "F", "NO"})
_warned: set[tuple[str, str]] = set()


def _fold(key: str) -> str:
    return key.replace("_", "").casefold()


def forget_warnings() -> None:
    """Warn again about places already warned about (tests start each from a clean slate)."""
    _warned.clear()


def warn_once(system: str, where: str, problem: str) -> None:
    """One WARNING per place and problem for the life of the process (indices folded away)."""
    place = _INDEX_RE.sub("[]", where)
    if (system, place) in _warned:
        return
    _warned.add((system, place))
    logger.warning("%s: %s %s; left out of what the subscriber sees", system, place, problem)


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

    __slots__ = ("_folded", "data", "system", "where")

    def __init__(self, data: Mapping[str, Any], system: str, where: str) -> None:
        self.data = data
        self.system = system
        self.where = where
        self._folded: dict[str, str] | None = None

    @classmethod
    def of(cls, data: Any, system: str, where: str) -> Record:
        if not isinstance(data, Mapping):
            raise shape_error(system, where, f"is {_kind(data)}, expected an object")
        return cls(data, system, where)

    def _actual(self, key: str) -> str | None:
        """The key as this object spells it: ``key`` itself, one of its ``|`` alternatives, or
        the same name in another casing or without underscores."""
        names = key.split("|")
        for name in names:
            if name in self.data:
                return name
        if self._folded is None:
            self._folded = {_fold(k): k for k in self.data if isinstance(k, str)}
        for name in names:
            found = self._folded.get(_fold(name))
            if found is not None:
                return found
        return None

    def __contains__(self, key: str) -> bool:
        return self._actual(key) is not None

    def fail(self, key: str, problem: str) -> Unavailable:
        return shape_error(self.system, f"{self.where}.{key.split('|')[0]}", problem)

    def _get(self, key: str) -> Any:
        actual = self._actual(key)
        if actual is None:
            raise self.fail(key, "is missing")
        return self.data[actual]

    def raw(self, key: str, default: Any = None) -> Any:
        actual = self._actual(key)
        return default if actual is None else self.data[actual]

    def _blank(self, key: str) -> bool:
        value = self.raw(key)
        return value is None or (isinstance(value, str) and not value.strip())

    def shown(self, read: Callable[[str], T | None], key: str) -> T | None:
        """``read(key)`` for a field the bot only displays: None (and one warning for the
        process) when the field is odd, instead of failing the whole screen."""
        try:
            return read(key)
        except Unavailable as error:
            problem = str(error).rsplit(f".{key.split('|')[0]} ", 1)[-1]
            warn_once(self.system, f"{self.where}.{key.split('|')[0]}", problem)
            return None

    # --- text and identifiers -------------------------------------------------------------------
    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self.fail(key, f"is {_kind(value)}, expected text")
        return value

    def opt_text(self, key: str) -> str | None:
        if self._blank(key):
            return None
        value = self.raw(key)
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
        if self._blank(key) or self.raw(key) in (0, "0"):
            return None
        return self.ident(key)

    def strings(self, key: str) -> list[str]:
        """A list of texts given as texts, as objects holding one (``{"email": …}``,
        ``{"contato": …}``…), or as one text separated by commas or semicolons."""
        value = self.raw(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = re.split(r"[;,]", value)
        if not isinstance(value, list):
            raise self.fail(key, f"is {_kind(value)}, expected a list of texts")
        found: list[str] = []
        for item in value:
            if isinstance(item, Mapping):
                item = next(
                    (item[k] for k in _VALUE_KEYS if isinstance(item.get(k), str | int)), None
                )
            if isinstance(item, int) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str):
                raise self.fail(key, f"has {_kind(item)} in the list, expected texts")
            if item.strip():
                found.append(item.strip())
        return found

    # --- numbers --------------------------------------------------------------------------------
    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        if isinstance(value, float) and value.is_integer():
            return int(value)
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
        if isinstance(value, str) and value.strip().upper() in _YES | _NO:
            return value.strip().upper() in _YES
        raise self.fail(key, f"is {_kind(value)}, expected a yes/no flag")

    # --- dates ----------------------------------------------------------------------------------
    def day(self, key: str) -> date:
        value = self._get(key)
        if not isinstance(value, str) or value.strip() in _EMPTY_DATES:
            raise self.fail(key, f"is {_kind(value)}, expected a date")
        try:
            return parse_day(value)
        except ValueError:
            raise self.fail(key, "is text that is not a date") from None

    def opt_day(self, key: str) -> date | None:
        value = self.raw(key)
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
            raise self.fail(key, "is text that is not a date and time") from None

    def opt_instant(self, key: str) -> datetime | None:
        value = self.raw(key)
        if value is None or (isinstance(value, str) and value.strip() in _EMPTY_DATES):
            return None
        return self.instant(key)

    # --- structure ------------------------------------------------------------------------------
    def record(self, key: str) -> Record:
        return Record.of(self._get(key), self.system, f"{self.where}.{key.split('|')[0]}")

    def opt_record(self, key: str) -> Record | None:
        return None if self.raw(key) in (None, "", []) else self.record(key)

    def records(self, key: str) -> list[Record]:
        """A list of objects (an object alone counts as a list of one)."""
        value = self._get(key)
        name = f"{self.where}.{key.split('|')[0]}"
        if isinstance(value, Mapping):
            return [Record(value, self.system, name)]
        if not isinstance(value, list):
            raise self.fail(key, f"is {_kind(value)}, expected a list")
        return [
            Record.of(item, self.system, f"{name}[{index}]") for index, item in enumerate(value)
        ]

    def opt_records(self, key: str) -> list[Record]:
        return [] if self.raw(key) in (None, "") else self.records(key)

    def choice(self, key: str, mapping: Mapping[Any, T]) -> T:
        value = self._get(key)
        normalised = value.strip() if isinstance(value, str) else value
        if isinstance(normalised, bool) or normalised not in mapping:
            shown = repr(value) if isinstance(value, str | int) and len(str(value)) <= 12 else ""
            raise self.fail(key, f"has an unknown value {shown}".rstrip())
        return mapping[normalised]


def listing(data: Any, system: str, where: str, key: str, *, strict: bool = True) -> list[Record]:
    """The records of a list answer, bare (``[…]``) or wrapped (``{"<key>": […]}``).

    An object without ``key`` (alternatives with ``|``) holding exactly one list is read as that
    list. Otherwise, with ``strict`` (money, ids) it fails naming the shape found; without it (a
    display list that some installations answer with only a message when empty) it is empty.
    """
    if isinstance(data, list):
        return [Record.of(item, system, f"{where}[{index}]") for index, item in enumerate(data)]
    answer = Record.of(data, system, where)
    if key in answer:
        return answer.opt_records(key)
    lists = [k for k, v in answer.data.items() if isinstance(v, list)]
    if len(lists) == 1:
        return answer.records(lists[0])
    if strict:
        raise answer.fail(key, "is missing (and the answer is not a list)")
    return []


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
