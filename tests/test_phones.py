"""Phones: Brazilian numbers as systems store them, to E.164; shown the Brazilian way."""

from __future__ import annotations

import pytest

from backend_client.formats.phones import brazilian_e164
from bot.ui.formatting import phone


@pytest.mark.parametrize(
    ("raw", "area_code", "expected"),
    [
        ("(11) 98765-4321", None, "5511987654321"),
        ("11987654321", None, "5511987654321"),
        ("011987654321", None, "5511987654321"),  # the trunk prefix 0
        ("0 15 11 98765-4321", None, "5511987654321"),  # 0 and a carrier code
        ("+55 11 98765-4321", None, "5511987654321"),
        ("5511987654321", None, "5511987654321"),
        ("987654321", "11", "5511987654321"),
        ("98765-4321", "(011)", "5511987654321"),
        ("3254-1234", "19", "551932541234"),
        ("(19) 3254-1234", None, "551932541234"),
        ("551932541234", None, "551932541234"),
        ("14912341234", None, "5514912341234"),  # not +1 (USA)
        ("31987654321", None, "5531987654321"),  # not +31 (Netherlands)
        ("0800 123 4567", None, "08001234567"),  # dialled as is from anywhere
        ("0300 123 4567", None, "03001234567"),
        ("4004-1234", "11", "40041234"),
        ("+1 202 555 0123", None, "12025550123"),  # written with "+": that country's
    ],
)
def test_brazilian_e164_reads_the_shapes_systems_store(
    raw: str, area_code: str | None, expected: str
) -> None:
    assert brazilian_e164(raw, area_code) == expected


@pytest.mark.parametrize(
    ("raw", "area_code"),
    [
        ("", None),
        ("não tem", None),
        ("123", None),
        ("987654321", None),  # no area code to go with it
        ("987654321", "1"),
        ("11 1234-5678", None),  # no landline in 11 begins with 1
        ("(00) 98765-4321", None),  # no such area code
        ("12025550123", None),  # a US number without "+" is no Brazilian one
        ("119876543210000", None),
    ],
)
def test_brazilian_e164_is_none_for_what_is_no_valid_number(
    raw: str, area_code: str | None
) -> None:
    assert brazilian_e164(raw, area_code) is None


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("5519987654321", "(19) 98765-4321"),
        ("551932541234", "(19) 3254-1234"),
        ("+5511987654321", "(11) 98765-4321"),
        ("14912341234", "(14) 91234-1234"),  # was shown as a US number
        ("31987654321", "(31) 98765-4321"),  # was shown as a Dutch number
        ("1932541234", "(19) 3254-1234"),
        ("011987654321", "(11) 98765-4321"),
        ("(19) 99123-4567", "(19) 99123-4567"),
        ("08001234567", "0800 123 4567"),
        ("12025550123", "+1 202-555-0123"),  # another country's E.164 digits
        ("+4930123456", "+49 30 123456"),
        ("12345", "12345"),  # no valid number: as given
        ("ramal 12", "ramal 12"),
        ("", ""),
    ],
)
def test_phone_shows_brazilian_numbers_the_brazilian_way(stored: str, shown: str) -> None:
    assert phone(stored) == shown
