"""FEBRABAN bank slip (boleto de cobrança): barcode, linha digitável and due-date factor."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

FACTOR_BASE_DATE = date(1997, 10, 7)

# Factor 1000 of the first cycle; the factor only counts from here.
_FIRST_FACTOR_DATE = FACTOR_BASE_DATE + timedelta(days=1000)
_CYCLE_DAYS = 9000
_MAX_AMOUNT = Decimal("100000000.00")
_CENT = Decimal("0.01")

_SEPARATORS_RE = re.compile(r"[\s.]")
_DIGITS_RE = re.compile(r"[0-9]+")


def _require_digits(value: str, length: int, what: str) -> None:
    if len(value) != length or not _DIGITS_RE.fullmatch(value):
        raise ValueError(f"{what} must be {length} digits")


def due_date_factor(due: date) -> int:
    """The 4-digit due-date factor (1000..9999, restarting at 1000 every 9000 days)."""
    if due < _FIRST_FACTOR_DATE:
        raise ValueError(f"due dates before {_FIRST_FACTOR_DATE.isoformat()} have no factor")
    return ((due - FACTOR_BASE_DATE).days - 1000) % _CYCLE_DAYS + 1000


def _factor_to_date(factor: int, today: date) -> date:
    # A factor names one day in every 9000-day cycle; the cycle is not in the code,
    # so take the candidate closest to today (ties go to the later date).
    elapsed = (today - FACTOR_BASE_DATE).days
    nearest_cycle = round((elapsed - factor) / _CYCLE_DAYS)
    candidates = [
        FACTOR_BASE_DATE + timedelta(days=factor + cycle * _CYCLE_DAYS)
        for cycle in range(max(nearest_cycle - 1, 0), max(nearest_cycle + 2, 1))
    ]
    return min(candidates, key=lambda day: (abs((day - today).days), -day.toordinal()))


def _mod10_dv(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _mod11_dv(digits: str) -> int:
    total = sum(int(char) * (2 + position % 8) for position, char in enumerate(reversed(digits)))
    dv = 11 - total % 11
    return 1 if dv in (0, 10, 11) else dv


def _barcode_dv(barcode: str) -> int:
    return _mod11_dv(barcode[:4] + barcode[5:])


def build_barcode(
    bank_code: str,
    due: date,
    amount: Decimal,
    free_field: str,
    currency_code: str = "9",
) -> str:
    """The 44-digit barcode: bank, currency, DV, factor, amount in centavos, free field."""
    _require_digits(bank_code, 3, "bank_code")
    _require_digits(currency_code, 1, "currency_code")
    _require_digits(free_field, 25, "free_field")
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if not amount.is_finite() or not Decimal(0) <= amount < _MAX_AMOUNT:
        raise ValueError("amount must be at least 0 and below 100,000,000.00")
    if amount != amount.quantize(_CENT):
        raise ValueError("amount has more than two decimal places")
    cents = int(amount * 100)
    factor = due_date_factor(due)
    partial = f"{bank_code}{currency_code}{factor:04d}{cents:010d}{free_field}"
    return f"{partial[:4]}{_mod11_dv(partial)}{partial[4:]}"


def barcode_to_linha_digitavel(barcode: str) -> str:
    """The 47-digit linha digitável of a 44-digit barcode (ValueError if its DV is wrong)."""
    _require_digits(barcode, 44, "barcode")
    if int(barcode[4]) != _barcode_dv(barcode):
        raise ValueError("barcode check digit is wrong")
    free = barcode[19:]
    field1 = barcode[:4] + free[:5]
    field2 = free[5:15]
    field3 = free[15:]
    return (
        f"{field1}{_mod10_dv(field1)}"
        f"{field2}{_mod10_dv(field2)}"
        f"{field3}{_mod10_dv(field3)}"
        f"{barcode[4]}{barcode[5:19]}"
    )


def _strip_linha(linha: str) -> str:
    digits = _SEPARATORS_RE.sub("", linha)
    _require_digits(digits, 47, "linha digitável")
    return digits


def linha_digitavel_to_barcode(linha: str) -> str:
    """The 44-digit barcode of a linha digitável (dots and spaces allowed); no DV check."""
    digits = _strip_linha(linha)
    return digits[:4] + digits[32] + digits[33:] + digits[4:9] + digits[10:20] + digits[21:31]


def is_valid_linha_digitavel(linha: str) -> bool:
    """Whether the three field DVs (mod 10) and the general DV (mod 11) are right."""
    try:
        digits = _strip_linha(linha)
    except ValueError:
        return False
    fields = ((0, 9), (10, 20), (21, 31))
    if any(int(digits[end]) != _mod10_dv(digits[start:end]) for start, end in fields):
        return False
    barcode = linha_digitavel_to_barcode(digits)
    return int(barcode[4]) == _barcode_dv(barcode)


def format_linha_digitavel(linha: str) -> str:
    """``00190.50095 40144.816069 06809.350314 3 37370000000100`` (ValueError if not 47 digits)."""
    d = _strip_linha(linha)
    return f"{d[:5]}.{d[5:10]} {d[10:15]}.{d[15:21]} {d[21:26]}.{d[26:32]} {d[32]} {d[33:]}"


def parse_linha_digitavel(
    linha: str, *, today: date | None = None
) -> tuple[str, date | None, Decimal]:
    """Bank code, due date (None for factor 0000) and amount of a valid linha digitável.

    The factor repeats every 9000 days, so the due date is the one nearest to ``today``.
    """
    if not is_valid_linha_digitavel(linha):
        raise ValueError("invalid linha digitável")
    barcode = linha_digitavel_to_barcode(linha)
    factor = int(barcode[5:9])
    amount = Decimal(barcode[9:19]).scaleb(-2)
    if factor == 0:
        return barcode[:3], None, amount
    if factor < 1000:
        raise ValueError(f"due-date factor {factor:04d} is out of range")
    if today is None:
        today = date.today()
    return barcode[:3], _factor_to_date(factor, today), amount
