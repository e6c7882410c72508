"""PIX BR Code (EMV QRCPS, static "copia e cola"): building, TLV parsing and validation."""

from __future__ import annotations

import binascii
import re
import unicodedata
from decimal import Decimal

PIX_GUI = "br.gov.bcb.pix"

_TXID_RE = re.compile(r"[A-Za-z0-9]{1,25}")
_MAX_NAME = 25
_MAX_CITY = 15
_MAX_AMOUNT_CHARS = 13  # EMV field 54 holds at most 13 characters


def crc16(payload: str) -> str:
    """CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF) of ``payload`` as 4 uppercase hex digits."""
    return f"{binascii.crc_hqx(payload.encode('utf-8'), 0xFFFF):04X}"


def _tlv(tag: str, value: str) -> str:
    if not value:
        raise ValueError(f"BR Code field {tag} is empty")
    if len(value) > 99:
        raise ValueError(f"BR Code field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def _ascii(text: str) -> str:
    # Lengths count characters and many bank apps choke on anything but ASCII,
    # so accents are dropped ("São" -> "Sao") and other non-ASCII characters removed.
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(decomposed.encode("ascii", "ignore").decode("ascii").split())


def build_static_pix(
    key: str,
    merchant_name: str,
    merchant_city: str,
    amount: Decimal | None = None,
    txid: str = "***",
    description: str | None = None,
) -> str:
    """A static PIX BR Code; name and city are made ASCII and cut to 25 and 15 characters."""
    key = key.strip()
    if not key or not key.isascii() or not key.isprintable():
        raise ValueError("PIX key must be non-empty printable ASCII")
    if txid != "***" and not _TXID_RE.fullmatch(txid):
        raise ValueError('txid must be 1 to 25 characters of [A-Za-z0-9], or "***"')
    name = _ascii(merchant_name)[:_MAX_NAME].rstrip()
    city = _ascii(merchant_city)[:_MAX_CITY].rstrip()

    account = _tlv("00", PIX_GUI) + _tlv("01", key)
    if description is not None and _ascii(description):
        account += _tlv("02", _ascii(description))

    payload = _tlv("00", "01") + _tlv("26", account) + _tlv("52", "0000") + _tlv("53", "986")
    if amount is not None:
        payload += _tlv("54", _format_amount(amount))
    payload += _tlv("58", "BR") + _tlv("59", name) + _tlv("60", city)
    payload += _tlv("62", _tlv("05", txid)) + "6304"
    return payload + crc16(payload)


def _format_amount(amount: Decimal) -> str:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be positive")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amount has more than two decimal places")
    text = f"{amount:.2f}"
    if len(text) > _MAX_AMOUNT_CHARS:
        raise ValueError("amount is too large for a BR Code")
    return text


def parse_tlv(payload: str) -> dict[str, str]:
    """The top-level ``{id: value}`` fields of a TLV string; ValueError if malformed."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(payload):
        header = payload[position : position + 4]
        if len(header) < 4 or not header.isascii() or not header.isdigit():
            raise ValueError(f"malformed TLV header at position {position}")
        tag, length = header[:2], int(header[2:])
        value = payload[position + 4 : position + 4 + length]
        if len(value) != length:
            raise ValueError(f"TLV field {tag} is truncated")
        if tag in fields:
            raise ValueError(f"TLV field {tag} is repeated")
        fields[tag] = value
        position += 4 + length
    return fields


def is_valid_brcode(payload: str) -> bool:
    """Whether ``payload`` is a well-formed PIX BR Code with a correct CRC."""
    try:
        fields = parse_tlv(payload)
        account = parse_tlv(fields.get("26", ""))
    except ValueError:
        return False
    return (
        payload.startswith("000201")
        and list(fields)[-1:] == ["63"]
        and payload[-8:-4] == "6304"
        and crc16(payload[:-4]) == payload[-4:]
        and account.get("00", "").lower() == PIX_GUI
    )


def brcode_amount(payload: str) -> Decimal | None:
    """The amount a BR Code charges (field 54), or None when it leaves the amount open."""
    try:
        value = parse_tlv(payload).get("54")
        return Decimal(value).quantize(Decimal("0.01")) if value else None
    except (ValueError, ArithmeticError):
        return None
