"""Tests of backend_client.formats against published Brazilian examples."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from backend_client.formats.boleto import (
    FACTOR_BASE_DATE,
    barcode_to_linha_digitavel,
    build_barcode,
    due_date_factor,
    format_linha_digitavel,
    is_valid_linha_digitavel,
    linha_digitavel_to_barcode,
    parse_linha_digitavel,
)
from backend_client.formats.documents import (
    cnpj_with_check_digits,
    cpf_with_check_digits,
    document_kind,
    format_document,
    is_valid_cnpj,
    is_valid_cpf,
    mask_document,
    normalize_document,
    strip_document,
)
from backend_client.formats.pix import build_static_pix, crc16, is_valid_brcode, parse_tlv

# --- CPF / CNPJ --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["529.982.247-25", "52998224725", " 529 982 247 25 "])
def test_valid_cpf(value: str) -> None:
    assert is_valid_cpf(value)
    assert not is_valid_cnpj(value)


@pytest.mark.parametrize(
    "value",
    [
        "529.982.247-26",  # wrong second check digit
        "529.982.247-15",  # wrong first check digit
        "111.111.111-11",  # repeated digits pass the checksum but are invalid
        "00000000000",
        "5299822472",  # too short
        "529982247250",  # too long
        "52998224A25",
        "529,982,247-25",
        "",
    ],
)
def test_invalid_cpf(value: str) -> None:
    assert not is_valid_cpf(value)


@pytest.mark.parametrize(
    "value",
    [
        "11.222.333/0001-81",
        "11222333000181",
        "12.ABC.345/01DE-35",
        "12ABC34501DE35",
        "12abc34501de35",
    ],
)
def test_valid_cnpj(value: str) -> None:
    assert is_valid_cnpj(value)
    assert not is_valid_cpf(value)


@pytest.mark.parametrize(
    "value",
    [
        "11.222.333/0001-82",
        "11.222.333/0001-91",
        "12.ABC.345/01DE-36",
        "12.ABC.345/01DF-35",
        "00000000000000",  # all-zero passes the checksum but is invalid
        "12ABC34501DE3A",  # check digits are always numeric
        "12ABC34501D#35",
        "1222333000181",  # too short
        "",
    ],
)
def test_invalid_cnpj(value: str) -> None:
    assert not is_valid_cnpj(value)


def test_non_ascii_letters_are_not_uppercased_into_valid_cnpjs() -> None:
    # "ı".upper() == "I": a dotless i must not turn into a valid alphanumeric CNPJ.
    cnpj = cnpj_with_check_digits("12IBC34501DE")
    assert is_valid_cnpj(cnpj)
    lookalike = cnpj.replace("I", "ı")
    assert not is_valid_cnpj(lookalike)
    assert normalize_document(lookalike) is None


def test_strip_document_only_strips_and_uppercases() -> None:
    assert strip_document(" 12.abc.345/01de-35\t") == "12ABC34501DE35"
    assert strip_document("a,b;c") == "A,B;C"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("529.982.247-25", "52998224725"),
        ("52998224725", "52998224725"),
        (" 11.222.333/0001-81 ", "11222333000181"),
        ("12.abc.345/01de-35", "12ABC34501DE35"),
        ("12ABC34501DE35", "12ABC34501DE35"),
        ("529.982.247-26", None),
        ("529,982,247-25", None),
        ("529.982.247_25", None),
        ("5299822472A", None),
        ("52998224725A", None),
        ("12.ABC.345/01DE-36", None),
        ("", None),
    ],
)
def test_normalize_document(text: str, expected: str | None) -> None:
    assert normalize_document(text) == expected


@pytest.mark.parametrize(
    ("value", "formatted", "masked"),
    [
        ("52998224725", "529.982.247-25", "529.***.***-25"),
        ("11222333000181", "11.222.333/0001-81", "11.222.***/****-81"),
        ("12ABC34501DE35", "12.ABC.345/01DE-35", "12.ABC.***/****-35"),
    ],
)
def test_format_and_mask_round_trip(value: str, formatted: str, masked: str) -> None:
    assert format_document(value) == formatted
    assert format_document(formatted) == formatted
    assert strip_document(formatted) == value
    assert normalize_document(formatted) == value
    assert mask_document(value) == masked
    assert mask_document(formatted) == masked


def test_format_document_lowercase_cnpj() -> None:
    assert format_document("12abc34501de35") == "12.ABC.345/01DE-35"


@pytest.mark.parametrize("value", ["123", "abc", "529,982,247-25", "12ABC34501DE3A", ""])
def test_format_document_leaves_other_text_unchanged(value: str) -> None:
    assert format_document(value) == value


@pytest.mark.parametrize("value", ["123", "joao@example.com", "529,982,247-25", ""])
def test_mask_document_reveals_nothing_of_unknown_text(value: str) -> None:
    assert mask_document(value) == "***"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("529.982.247-25", "cpf"),
        ("52998224726", "cpf"),  # by length only, no validation
        ("11.222.333/0001-81", "cnpj"),
        ("12.ABC.345/01DE-35", "cnpj"),
    ],
)
def test_document_kind(value: str, kind: str) -> None:
    assert document_kind(value) == kind


@pytest.mark.parametrize("value", ["", "1234567890", "123456789012", "123456789012345"])
def test_document_kind_rejects_other_lengths(value: str) -> None:
    with pytest.raises(ValueError):
        document_kind(value)


def test_check_digit_completion_of_known_documents() -> None:
    assert cpf_with_check_digits("529982247") == "52998224725"
    assert cpf_with_check_digits("529.982.247") == "52998224725"
    assert cnpj_with_check_digits("112223330001") == "11222333000181"
    assert cnpj_with_check_digits("12ABC34501DE") == "12ABC34501DE35"
    assert cnpj_with_check_digits("12abc34501de") == "12ABC34501DE35"


def test_generated_documents_validate() -> None:
    rng = random.Random(20260701)
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _ in range(300):
        cpf = cpf_with_check_digits("".join(rng.choices("0123456789", k=9)))
        assert is_valid_cpf(cpf)
        assert normalize_document(format_document(cpf)) == cpf
        assert not is_valid_cpf(cpf[:10] + str((int(cpf[10]) + 1) % 10))

        cnpj = cnpj_with_check_digits("".join(rng.choices(alphabet, k=12)))
        assert is_valid_cnpj(cnpj)
        assert normalize_document(format_document(cnpj).lower()) == cnpj
        assert not is_valid_cnpj(cnpj[:13] + str((int(cnpj[13]) + 1) % 10))


@pytest.mark.parametrize("base", ["12345678", "1234567890", "12345678A", "111111111", ""])
def test_cpf_with_check_digits_rejects_bad_bases(base: str) -> None:
    with pytest.raises(ValueError):
        cpf_with_check_digits(base)


@pytest.mark.parametrize("base", ["11222333000", "1122233300011", "12ABC34501D#", "000000000000"])
def test_cnpj_with_check_digits_rejects_bad_bases(base: str) -> None:
    with pytest.raises(ValueError):
        cnpj_with_check_digits(base)


# --- Boleto ------------------------------------------------------------------------------------

LINHA = "00190500954014481606906809350314337370000000100"
LINHA_FORMATTED = "00190.50095 40144.816069 06809.350314 3 37370000000100"
BARCODE = "00193373700000001000500940144816060680935031"


def test_published_linha_digitavel_is_valid() -> None:
    assert is_valid_linha_digitavel(LINHA)
    assert is_valid_linha_digitavel(LINHA_FORMATTED)
    assert format_linha_digitavel(LINHA) == LINHA_FORMATTED
    assert format_linha_digitavel(LINHA_FORMATTED) == LINHA_FORMATTED
    assert linha_digitavel_to_barcode(LINHA_FORMATTED) == BARCODE
    assert barcode_to_linha_digitavel(BARCODE) == LINHA


@pytest.mark.parametrize("position", range(len(LINHA)))
def test_every_single_digit_change_is_invalid(position: int) -> None:
    for digit in "0123456789":
        if digit != LINHA[position]:
            altered = LINHA[:position] + digit + LINHA[position + 1 :]
            assert not is_valid_linha_digitavel(altered), altered


@pytest.mark.parametrize(
    "linha", ["", LINHA[:-1], LINHA + "0", LINHA[:-1] + "x", LINHA_FORMATTED + "-"]
)
def test_malformed_linha_digitavel(linha: str) -> None:
    assert not is_valid_linha_digitavel(linha)
    with pytest.raises(ValueError):
        linha_digitavel_to_barcode(linha)
    with pytest.raises(ValueError):
        format_linha_digitavel(linha)


@pytest.mark.parametrize(
    ("due", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2000, 7, 4), 1001),
        (date(2012, 4, 27), 5316),
        (date(2025, 2, 20), 9998),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        # 9000 days after 2025-02-22: the second cycle ends on 2049-10-13 (9999) and
        # 1000 comes back on 2049-10-14.
        (date(2049, 10, 13), 9999),
        (date(2049, 10, 14), 1000),
    ],
)
def test_due_date_factor(due: date, factor: int) -> None:
    assert due_date_factor(due) == factor


@pytest.mark.parametrize("due", [date(2000, 7, 2), FACTOR_BASE_DATE])
def test_due_date_factor_before_first_cycle(due: date) -> None:
    with pytest.raises(ValueError):
        due_date_factor(due)


def test_build_barcode_reproduces_published_example() -> None:
    barcode = build_barcode("001", date(2007, 12, 31), Decimal("1.00"), "0500940144816060680935031")
    assert barcode == BARCODE


@pytest.mark.parametrize(
    ("bank", "due", "amount", "free_field", "today"),
    [
        ("001", date(2007, 12, 31), Decimal("1.00"), "0500940144816060680935031", date(2008, 1, 5)),
        ("237", date(2025, 2, 21), Decimal("10.50"), "1234567890123456789012345", date(2025, 3, 1)),
        ("341", date(2025, 2, 22), Decimal("0"), "0000000000000000000000000", date(2025, 2, 1)),
        (
            "104",
            date(2026, 7, 10),
            Decimal("99999999.99"),
            "9999999999999999999999999",
            date(2026, 6, 1),
        ),
        (
            "756",
            date(2049, 10, 14),
            Decimal("129.9"),
            "5555544444333332222211111",
            date(2049, 9, 1),
        ),
    ],
)
def test_barcode_linha_round_trip(
    bank: str, due: date, amount: Decimal, free_field: str, today: date
) -> None:
    barcode = build_barcode(bank, due, amount, free_field)
    assert len(barcode) == 44
    assert barcode.isdigit()
    assert barcode[:3] == bank
    assert barcode[19:] == free_field
    linha = barcode_to_linha_digitavel(barcode)
    assert len(linha) == 47
    assert is_valid_linha_digitavel(linha)
    assert linha_digitavel_to_barcode(linha) == barcode
    assert linha_digitavel_to_barcode(format_linha_digitavel(linha)) == barcode
    parsed_bank, parsed_due, parsed_amount = parse_linha_digitavel(linha, today=today)
    assert (parsed_bank, parsed_due, parsed_amount) == (bank, due, amount)
    assert parsed_amount.as_tuple().exponent == -2


def test_amount_is_encoded_in_centavos() -> None:
    barcode = build_barcode("001", date(2026, 1, 10), Decimal("10.50"), "1" * 25)
    assert barcode[9:19] == "0000001050"
    assert barcode[5:9] == str(due_date_factor(date(2026, 1, 10)))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2008, 1, 1), date(2007, 12, 31)),
        (date(2019, 1, 1), date(2007, 12, 31)),
        (date(2026, 1, 1), date(2032, 8, 21)),  # the nearest 3737 is in the new cycle
    ],
)
def test_parse_picks_the_factor_date_nearest_to_today(today: date, expected: date) -> None:
    assert parse_linha_digitavel(LINHA, today=today) == ("001", expected, Decimal("1.00"))


def test_factor_1000_right_before_the_wrap_is_the_new_cycle() -> None:
    linha = barcode_to_linha_digitavel(
        build_barcode("001", date(2025, 2, 22), Decimal(5), "2" * 25)
    )
    assert parse_linha_digitavel(linha, today=date(2025, 2, 20))[1] == date(2025, 2, 22)
    assert parse_linha_digitavel(linha, today=date(2001, 1, 1))[1] == date(2000, 7, 3)


def test_parse_tie_goes_to_the_later_cycle() -> None:
    # 2007-12-31 and 2032-08-21 (factor 3737) are both 4500 days from 2020-04-26.
    assert parse_linha_digitavel(LINHA, today=date(2020, 4, 26))[1] == date(2032, 8, 21)
    assert parse_linha_digitavel(LINHA, today=date(2020, 4, 25))[1] == date(2007, 12, 31)


def test_general_check_digit_is_never_zero() -> None:
    # Ten consecutive free fields hit ten of the eleven mod-11 remainders, so at least one
    # lands on a remainder whose raw digit (0, 10 or 11) must be replaced by 1.
    digits = set()
    for last in "0123456789":
        barcode = build_barcode("001", date(2026, 3, 5), Decimal("89.90"), "7" * 24 + last)
        assert barcode[4] != "0"
        assert is_valid_linha_digitavel(barcode_to_linha_digitavel(barcode))
        digits.add(barcode[4])
    assert "1" in digits


def test_parse_without_due_date() -> None:
    template = build_barcode("033", date(2026, 1, 10), Decimal("42.00"), "3" * 25)
    no_factor = template[:5] + "0000" + template[9:]
    # barcode_to_linha_digitavel only accepts the right general check digit.
    for dv in "123456789":
        try:
            linha = barcode_to_linha_digitavel(no_factor[:4] + dv + no_factor[5:])
        except ValueError:
            continue
        break
    else:
        pytest.fail("no general check digit accepted")
    assert parse_linha_digitavel(linha) == ("033", None, Decimal("42.00"))


def test_parse_rejects_invalid_linha() -> None:
    with pytest.raises(ValueError):
        parse_linha_digitavel(LINHA[:-1] + "1", today=date(2026, 1, 1))


def test_barcode_to_linha_rejects_wrong_check_digit() -> None:
    with pytest.raises(ValueError):
        barcode_to_linha_digitavel(BARCODE[:4] + "4" + BARCODE[5:])
    with pytest.raises(ValueError):
        barcode_to_linha_digitavel(BARCODE[:-1])


@pytest.mark.parametrize(
    ("bank", "due", "amount", "free_field", "currency"),
    [
        ("01", date(2026, 1, 1), Decimal("1.00"), "1" * 25, "9"),
        ("0a1", date(2026, 1, 1), Decimal("1.00"), "1" * 25, "9"),
        ("001", date(2026, 1, 1), Decimal("1.00"), "1" * 24, "9"),
        ("001", date(2026, 1, 1), Decimal("1.00"), "1" * 26, "9"),
        ("001", date(2026, 1, 1), Decimal("1.00"), "1" * 25, "10"),
        ("001", date(2026, 1, 1), Decimal("-0.01"), "1" * 25, "9"),
        ("001", date(2026, 1, 1), Decimal("100000000.00"), "1" * 25, "9"),
        ("001", date(2026, 1, 1), Decimal("1.001"), "1" * 25, "9"),
        ("001", date(2026, 1, 1), Decimal("NaN"), "1" * 25, "9"),
        ("001", date(2000, 7, 2), Decimal("1.00"), "1" * 25, "9"),
    ],
)
def test_build_barcode_validates_inputs(
    bank: str, due: date, amount: Decimal, free_field: str, currency: str
) -> None:
    with pytest.raises(ValueError):
        build_barcode(bank, due, amount, free_field, currency)


def test_build_barcode_rejects_float_amount() -> None:
    with pytest.raises(TypeError):
        build_barcode("001", date(2026, 1, 1), 1.0, "1" * 25)  # type: ignore[arg-type]


# --- PIX BR Code -------------------------------------------------------------------------------

BRCODE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def _with_crc(body: str) -> str:
    return body + "6304" + crc16(body + "6304")


def test_crc16_ccitt_false_check_value() -> None:
    assert crc16("123456789") == "29B1"


def test_published_brcode_is_reproduced_and_valid() -> None:
    payload = build_static_pix("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA")
    assert payload == BRCODE
    assert is_valid_brcode(payload)
    assert parse_tlv(payload) == {
        "00": "01",
        "26": "0014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000",
        "52": "0000",
        "53": "986",
        "58": "BR",
        "59": "Fulano de Tal",
        "60": "BRASILIA",
        "62": "0503***",
        "63": "1D3D",
    }


def _altered(char: str) -> str:
    if char.isdigit():
        return str((int(char) + 1) % 10)
    if char.isalpha():
        base = ord("a") if char.islower() else ord("A")
        return chr(base + (ord(char) - base + 1) % 26)
    return "A"


@pytest.mark.parametrize("position", range(len(BRCODE)))
def test_brcode_with_one_char_changed_is_invalid(position: int) -> None:
    altered = BRCODE[:position] + _altered(BRCODE[position]) + BRCODE[position + 1 :]
    assert altered != BRCODE
    assert not is_valid_brcode(altered)


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (Decimal("10.50"), "540510.50"),
        (Decimal("10.5"), "540510.50"),
        (Decimal("0.01"), "54040.01"),
        (Decimal("1000"), "54071000.00"),
    ],
)
def test_brcode_amount_field(amount: Decimal, field: str) -> None:
    payload = build_static_pix("52998224725", "Fulano de Tal", "BRASILIA", amount=amount)
    assert field + "5802BR" in payload
    assert parse_tlv(payload)["54"] == field[4:]
    assert is_valid_brcode(payload)


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1.00"), Decimal("1.001"), Decimal("NaN")])
def test_brcode_rejects_bad_amounts(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        build_static_pix("52998224725", "Fulano de Tal", "BRASILIA", amount=amount)


def test_brcode_name_and_city_are_ascii_and_cut() -> None:
    payload = build_static_pix(
        "financeiro@example.com", "José da Conceição Telecomunicações", "São José dos Campos"
    )
    fields = parse_tlv(payload)
    assert fields["59"] == "Jose da Conceicao Telecom"
    assert fields["60"] == "Sao Jose dos Ca"
    assert payload.isascii()
    assert is_valid_brcode(payload)


def test_brcode_txid_and_description() -> None:
    payload = build_static_pix(
        "+5561999999999", "Provedor", "Goiania", txid="FAT2026001", description="Fatura março"
    )
    fields = parse_tlv(payload)
    assert fields["62"] == "0510FAT2026001"
    assert parse_tlv(fields["26"]) == {
        "00": "br.gov.bcb.pix",
        "01": "+5561999999999",
        "02": "Fatura marco",
    }
    assert is_valid_brcode(payload)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"txid": "FAT-2026"},
        {"txid": "A" * 26},
        {"txid": ""},
        {"key": ""},
        {"key": "a" * 80},  # field 26 would be over 99 characters
        {"key": "chave-ção"},
        {"merchant_name": "   "},
        {"merchant_city": ""},
        {"description": "x" * 70},
    ],
)
def test_build_static_pix_validates(kwargs: dict[str, str]) -> None:
    arguments = {"key": "52998224725", "merchant_name": "Provedor", "merchant_city": "Goiania"}
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        build_static_pix(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("payload", ["0002", "000201ab", "00020101020", "000201000201"])
def test_parse_tlv_rejects_malformed(payload: str) -> None:
    with pytest.raises(ValueError):
        parse_tlv(payload)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        BRCODE[:-4],
        BRCODE[:-4] + "1d3d",  # the CRC is uppercase hex
        BRCODE + "0",
        _with_crc("000201" + "26180014br.gov.bcb.xyz" + "5204000053039865802BR5901X6001Y"),
        _with_crc("000201" + "5204000053039865802BR5901X6001Y"),
        _with_crc("000202" + "26180014br.gov.bcb.pix" + "5204000053039865802BR5901X6001Y"),
        # A correct "6304" + CRC inside another field's value is not a CRC field.
        _with_crc("000201" + "26180014br.gov.bcb.pix" + "5204000053039865802BR5901X6001Y9908"),
    ],
)
def test_invalid_brcodes(payload: str) -> None:
    assert not is_valid_brcode(payload)
