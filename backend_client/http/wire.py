"""JSON form of the domain models, as our HTTP contract (``backend_client/openapi.yaml``) has it.

- dataclasses become objects with the same field names;
- ``Decimal`` money is a string with a dot (``"99.90"``), dates are ``YYYY-MM-DD``, instants are
  ISO 8601 with an offset, enums are their values, tuples are arrays, ``bytes`` are base64;
- decoding checks every field against the model's type hints and raises :class:`WireError` naming
  the path of the first problem; unknown extra keys are ignored (forward compatibility).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import functools
import re
import types
import typing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")
_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class WireError(ValueError):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def to_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("instants on the wire must be timezone-aware")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset | set):
        return sorted(to_json(item) for item in value)
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    raise TypeError(f"cannot put {type(value).__name__} on the wire")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(tp: Any, data: Any, path: str = "$") -> Any:
    """``data`` decoded as ``tp`` (a model class, or a typing form such as ``list[Invoice]``)."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if data is None and type(None) in options:
            return None
        real = [option for option in options if option is not type(None)]
        if len(real) != 1:
            raise TypeError(f"unsupported union {tp}")
        return from_json(real[0], data, path)
    if origin in (tuple, list, frozenset):
        if not isinstance(data, list):
            raise WireError(path, f"expected an array, got {_kind(data)}")
        args = get_args(tp)
        item_type = args[0]
        items = [from_json(item_type, item, f"{path}[{i}]") for i, item in enumerate(data)]
        return origin(items)
    if origin is not None:
        raise TypeError(f"unsupported type {tp}")
    if tp is Any:
        return data
    if dataclasses.is_dataclass(tp):
        return _dataclass(tp, data, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise WireError(path, f"expected one of {allowed}") from None
    if tp is bool:
        if not isinstance(data, bool):
            raise WireError(path, f"expected a boolean, got {_kind(data)}")
        return data
    if tp is int:
        if not isinstance(data, int) or isinstance(data, bool):
            raise WireError(path, f"expected an integer, got {_kind(data)}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise WireError(path, f"expected a string, got {_kind(data)}")
        return data
    if tp is Decimal:
        if not isinstance(data, str) or not _DECIMAL_RE.match(data):
            raise WireError(path, 'expected a decimal string like "99.90"')
        try:
            return Decimal(data)
        except InvalidOperation:
            raise WireError(path, "expected a decimal string") from None
    if tp is datetime:
        if not isinstance(data, str):
            raise WireError(path, f"expected an ISO 8601 date-time, got {_kind(data)}")
        try:
            instant = datetime.fromisoformat(data)
        except ValueError:
            raise WireError(path, "expected an ISO 8601 date-time") from None
        if instant.tzinfo is None:
            raise WireError(path, "the date-time has no UTC offset")
        return instant
    if tp is date:
        if not isinstance(data, str) or not _DATE_RE.match(data):
            raise WireError(path, "expected a date YYYY-MM-DD")
        try:
            return date.fromisoformat(data)
        except ValueError:
            raise WireError(path, "expected a valid date YYYY-MM-DD") from None
    if tp is bytes:
        if not isinstance(data, str):
            raise WireError(path, "expected base64 text")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise WireError(path, "expected base64 text") from None
    raise TypeError(f"unsupported type {tp}")


def _dataclass(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, dict):
        raise WireError(path, f"expected an object, got {_kind(data)}")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            values[f.name] = from_json(hints[f.name], data[f.name], f"{path}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise WireError(f"{path}.{f.name}", "is required")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise WireError(path, str(error)) from None


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "an array" if isinstance(value, list) else "an object"
    )
