"""Names, phones and e-mails of a contact: what is accepted, how it is stored, why it is refused."""

from __future__ import annotations

import pytest

from bot.services.contact_validation import (
    AREA_CODES,
    InvalidValue,
    Problem,
    normalize_email,
    normalize_landline,
    normalize_mobile,
    normalize_name,
)


def _problem(function: object, text: str) -> Problem:
    with pytest.raises(InvalidValue) as caught:
        function(text)  # type: ignore[operator]
    return caught.value.problem


# --- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ana Paula Souza", "Ana Paula Souza"),
        ("  ana   paula  souza ", "Ana Paula Souza"),
        ("MARIA DA SILVA", "Maria da Silva"),
        ("joão dos santos e silva", "João dos Santos e Silva"),
        ("josé d'ávila-neto", "José D'Ávila-Neto"),
        ("Ana DeLuca", "Ana DeLuca"),  # a deliberate mixed case is kept
        ("Pedro Álvares Cabral Jr.", "Pedro Álvares Cabral Jr."),
        ("Zoë Ødegård", "Zoë Ødegård"),
    ],
)
def test_names_are_accepted_and_tidied(typed: str, stored: str) -> None:
    assert normalize_name(typed) == stored


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", Problem.NAME_EMPTY),
        ("   ", Problem.NAME_EMPTY),
        ("Ana", Problem.NAME_ONE_WORD),
        ("Ana P.", Problem.NAME_ONE_WORD),
        ("Ana 2", Problem.NAME_NOT_LETTERS),
        ("Ana Souza 3", Problem.NAME_NOT_LETTERS),
        ("Ana <b>Souza</b>", Problem.NAME_NOT_LETTERS),
        ("Ana @souza", Problem.NAME_NOT_LETTERS),
        ("Ana -Souza", Problem.NAME_NOT_LETTERS),
        ("Ana 😀 Souza", Problem.NAME_NOT_LETTERS),
        ("Ana " + "S" * 120, Problem.NAME_TOO_LONG),
    ],
)
def test_bad_names_say_why(typed: str, problem: Problem) -> None:
    assert _problem(normalize_name, typed) is problem


# --- phones ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed",
    [
        "(19) 98765-4321",
        "19987654321",
        "+55 19 98765 4321",
        "+55 (19) 98765-4321",
        "55 19 98765-4321",
        "019 98765-4321",
        "19 9 8765 4321",
        "19.98765.4321",
    ],
)
def test_mobiles_in_every_usual_form(typed: str) -> None:
    assert normalize_mobile(typed) == "5519987654321"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", Problem.PHONE_EMPTY),
        ("celular", Problem.PHONE_NOT_A_NUMBER),
        ("19 9876O-4321", Problem.PHONE_NOT_A_NUMBER),
        ("1234", Problem.PHONE_NOT_A_NUMBER),
        ("98765-4321", Problem.PHONE_NO_AREA_CODE),
        ("(20) 98765-4321", Problem.PHONE_UNKNOWN_AREA_CODE),
        ("(10) 98765-4321", Problem.PHONE_UNKNOWN_AREA_CODE),
        ("+1 305 555 1234", Problem.PHONE_FOREIGN),
        ("+351 912 345 678", Problem.PHONE_FOREIGN),
        ("0800 123 4567", Problem.PHONE_SPECIAL),
        ("(19) 3234-5678", Problem.PHONE_NOT_MOBILE),
        ("(19) 8765-4321", Problem.MOBILE_INVALID),  # the old 8-digit mobile
        ("(19) 88765-4321", Problem.MOBILE_INVALID),  # 9 digits not starting with 9
        ("(19) 7765-4321", Problem.MOBILE_INVALID),  # a 7xxx radio number is not a mobile
        ("(19) 987654-4321", Problem.MOBILE_INVALID),
    ],
)
def test_bad_mobiles_say_why(typed: str, problem: Problem) -> None:
    assert _problem(normalize_mobile, typed) is problem


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(19) 3234-5678", "551932345678"),
        ("1932345678", "551932345678"),
        ("+55 11 2345 6789", "551123456789"),
        ("(61) 4321-1234", "556143211234"),
        ("(21) 5432-1098", "552154321098"),
    ],
)
def test_landlines(typed: str, stored: str) -> None:
    assert normalize_landline(typed) == stored


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("(19) 98765-4321", Problem.PHONE_NOT_LANDLINE),
        ("(19) 6234-5678", Problem.LANDLINE_INVALID),  # landlines start with 2 to 5
        ("(19) 1234-5678", Problem.LANDLINE_INVALID),
        ("3234-5678", Problem.PHONE_NO_AREA_CODE),
        ("(23) 3234-5678", Problem.PHONE_UNKNOWN_AREA_CODE),
        ("0800 123 4567", Problem.PHONE_SPECIAL),
    ],
)
def test_bad_landlines_say_why(typed: str, problem: Problem) -> None:
    assert _problem(normalize_landline, typed) is problem


def test_the_area_codes_are_brazils_67() -> None:
    assert len(AREA_CODES) == 67
    assert {"11", "19", "21", "61", "99"} <= AREA_CODES
    assert not {"10", "20", "23", "25", "26", "29", "30", "36", "39", "50", "52"} & AREA_CODES


# --- e-mails --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ana.souza@gmail.com", "ana.souza@gmail.com"),
        ("  Ana.Souza@Example.COM.BR ", "Ana.Souza@example.com.br"),
        ("financeiro+boletos@silvaefilhos.com.br", "financeiro+boletos@silvaefilhos.com.br"),
        ("o'neil@example.org", "o'neil@example.org"),
        ("mailto:ana@uol.com.br", "ana@uol.com.br"),
        ("ana@café.com.br", "ana@café.com.br"),  # an internationalised domain
        ("ana@mail.xn--p1ai", "ana@mail.xn--p1ai"),
    ],
)
def test_emails_accepted(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", Problem.EMAIL_EMPTY),
        ("ana", Problem.EMAIL_INVALID),
        ("ana@", Problem.EMAIL_INVALID),
        ("@gmail.com", Problem.EMAIL_INVALID),
        ("ana@gmail", Problem.EMAIL_NO_DOMAIN_DOT),
        ("ana@localhost", Problem.EMAIL_NO_DOMAIN_DOT),
        ("ana souza@gmail.com", Problem.EMAIL_INVALID),
        ("ana..souza@gmail.com", Problem.EMAIL_INVALID),
        (".ana@gmail.com", Problem.EMAIL_INVALID),
        ("ana.@gmail.com", Problem.EMAIL_INVALID),
        ("ana@gmail..com", Problem.EMAIL_INVALID),
        ("ana@-gmail.com", Problem.EMAIL_INVALID),
        ("ana@gmail.com.", Problem.EMAIL_INVALID),
        ("ana@gmail.c", Problem.EMAIL_INVALID),
        ("ana@gmail.c0m", Problem.EMAIL_INVALID),
        ("ana@192.168.0.1", Problem.EMAIL_INVALID),
        ("ana@gm ail.com", Problem.EMAIL_INVALID),
        ("joão@gmail.com", Problem.EMAIL_INVALID),
        ("ana<b>@gmail.com", Problem.EMAIL_INVALID),
        ("a" * 65 + "@gmail.com", Problem.EMAIL_TOO_LONG),
        ("ana@" + "a" * 250 + ".com", Problem.EMAIL_TOO_LONG),
    ],
)
def test_bad_emails_say_why(typed: str, problem: Problem) -> None:
    assert _problem(normalize_email, typed) is problem


def test_invalid_value_carries_the_problem() -> None:
    error = InvalidValue(Problem.EMAIL_INVALID)
    assert error.problem is Problem.EMAIL_INVALID
    assert str(error) == "email_invalid"
