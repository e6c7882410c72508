"""Numbers and JSON from outside input (button data, HTTP requests, settings), parsed strictly.

``str.isdigit()`` is true for "²" or "٣" and ``int()`` accepts "٣", " 7 " and "1_000", so neither
may judge untrusted text: ``ascii_int`` takes only ASCII digits. ``json.loads`` raises
RecursionError on deeply nested input (200,000 ``[`` in a 2 MB body) and accepts any JSON value,
so ``json_body`` turns every malformed body into one ``JsonError`` with a short reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?|\.[0-9]{1,15}", re.ASCII)
MAX_DIGITS = 18  # any id or count we parse fits; int() never sees a huge string
MAX_JSON_DEPTH = 32  # our bodies nest 4 levels at most (broadcast audience); Telegram's Updates ~10


def ascii_int(
    text: object,
    *,
    min: int | None = None,
    max: int | None = None,
    max_digits: int = MAX_DIGITS,
) -> int | None:
    """``text`` as a whole number when it is 1..max_digits ASCII digits within [min, max]; else
    None. No sign, no spaces, no underscores, no other script's digits."""
    if not isinstance(text, str) or len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    if (min is not None and value < min) or (max is not None and value > max):
        return None
    return value


def ascii_number(text: object) -> float | None:
    """``text`` as a number when it is ASCII digits with an optional ``.`` fraction ("0.5",
    "30", ".5"); else None — float() would also take "nan", "inf", "1e9", "٣" or " 3 "."""
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        return None
    return float(text)


class JsonError(ValueError):
    """A request body that is not what we accept; ``str()`` is a short reason for the client."""


def json_body(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of ``raw`` (UTF-8), nested at most ``max_depth`` arrays/objects deep."""
    try:
        value = json.loads(raw)
    except RecursionError:  # CPython's decoder recurses once per level
        raise JsonError("JSON nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise JsonError("body is not valid JSON") from None
    if _too_deep(value, max_depth):
        raise JsonError("JSON nested too deeply")
    return value


def json_object(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """Like ``json_body`` but the value must be a JSON object."""
    value = json_body(raw, max_depth=max_depth)
    if not isinstance(value, dict):
        raise JsonError("expected a JSON object")
    return value


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
