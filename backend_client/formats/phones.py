"""Brazilian phone numbers as management systems store them, to E.164 digits.

Systems keep phones in every shape a person typed: ``(11) 98765-4321``, ``011987654321`` (the
trunk prefix 0, or 0 and a carrier code), ``+55 11 98765-4321``, ``5511987654321``, or the number
alone in one field and the DDD (area code) in another. Google's libphonenumber metadata
(``phonenumbers``) decides what is a valid number, with Brazil as the default region.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

BRAZIL = "BR"
_NOT_DIGITS = re.compile(r"\D")
# Numbers dialled the same from anywhere in Brazil (0800, 0300, 0500, 0900, 4004…): they have
# no E.164 form in practice, so they keep their national digits.
_NON_GEOGRAPHIC = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST}
)


def _valid(candidate: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(candidate, BRAZIL)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _digits(number: phonenumbers.PhoneNumber) -> str:
    if number.country_code == 55 and phonenumbers.number_type(number) in _NON_GEOGRAPHIC:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return _NOT_DIGITS.sub("", national)  # "0800 123 4567" -> "08001234567"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def brazilian_e164(raw: str, area_code: str | None = None) -> str | None:
    """E.164 digits without "+" (``5511987654321``) of a phone stored by a Brazilian system; the
    national digits of a 0800-like number (``08001234567``); None when it is no valid number.

    ``area_code`` is the DDD of a number stored without it (``987654321`` and ``11``).
    """
    number = brazilian_number(raw, area_code)
    return _digits(number) if number is not None else None


def brazilian_number(raw: str, area_code: str | None = None) -> phonenumbers.PhoneNumber | None:
    """The valid number (any country's, when written with "+") :func:`brazilian_e164` reads."""
    digits = _NOT_DIGITS.sub("", raw or "")
    if not digits:
        return None
    if raw.strip().startswith("+"):
        number = _valid(f"+{digits}")
    elif digits.startswith("55") and len(digits) in (12, 13):
        # A national number has 10 or 11 digits (one more with the trunk 0): this is 55 + one.
        number = _valid(f"+{digits}")
    elif len(digits) in (8, 9):  # without the area code, unless it needs none (4004-1234)
        alone = _valid(digits)
        area = _NOT_DIGITS.sub("", area_code or "").lstrip("0")
        if alone is not None and _is_non_geographic(alone):
            number = alone
        else:
            number = _valid(f"{area}{digits}") if len(area) == 2 else None
    else:
        number = _valid(digits)  # the trunk 0 and a carrier code are understood
    return number


def _is_non_geographic(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(number) in _NON_GEOGRAPHIC
