"""Validation and normalisation of a contact's name, phones and e-mail (no Telegram, no texts).

Shared by every flow that registers a contact (Contatos, linking a chat to a new contact). Each
``normalize_*`` function returns the value ready for the backend or raises :class:`InvalidValue`
whose ``problem`` says what is wrong; the pt-BR explanation lives in the text catalogue
(``bot.ui.texts.contacts``).

Phones are read with ``phonenumbers`` (Google's libphonenumber metadata): the DDD must exist, a
mobile has 9 digits starting with 9, a landline 8 digits starting with 2 to 5. They are returned
as E.164 digits without ``+`` (``5519987654321``), the form the backend models use.

E-mails are checked offline: the WHATWG HTML "valid e-mail address" syntax (what browsers apply to
``<input type=email>``), RFC 5321 length limits, a domain with at least one dot and an alphabetic
top-level label; internationalised domains must convert with IDNA. No DNS or SMTP look-up.
"""

from __future__ import annotations

import enum
import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

BRAZIL = "BR"
BRAZIL_CODE = 55
NAME_MAX_LENGTH = 100
PHONE_INPUT_MAX_LENGTH = 40
EMAIL_MAX_LENGTH = 254
EMAIL_LOCAL_MAX_LENGTH = 64
MOBILE_DIGITS = 9
LANDLINE_DIGITS = 8
LANDLINE_FIRST_DIGITS = "2345"

# Lower-case particles of Brazilian names, kept lower-case when a name is re-capitalised.
NAME_PARTICLES = frozenset({"da", "das", "de", "di", "do", "dos", "du", "e", "del", "la", "van"})
_NAME_PUNCTUATION = "'’-."
_SEGMENT_START = re.compile(r"(?:^|(?<=[-'’]))\w")
_NON_GEOGRAPHIC = ("300", "303", "500", "800", "900")  # 0300, 0800… without their leading 0
_PHONE_CHARACTERS = re.compile(r"^[\d\s()+\-./]+$")
# WHATWG HTML, "valid e-mail address" (https://html.spec.whatwg.org/#valid-e-mail-address).
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TOP_LEVEL = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


class Problem(enum.StrEnum):
    NAME_EMPTY = "name_empty"
    NAME_ONE_WORD = "name_one_word"
    NAME_NOT_LETTERS = "name_not_letters"
    NAME_TOO_LONG = "name_too_long"
    PHONE_EMPTY = "phone_empty"
    PHONE_NOT_A_NUMBER = "phone_not_a_number"
    PHONE_NO_AREA_CODE = "phone_no_area_code"
    PHONE_UNKNOWN_AREA_CODE = "phone_unknown_area_code"
    PHONE_FOREIGN = "phone_foreign"
    PHONE_SPECIAL = "phone_special"  # 0800, 0300, 0900…: a service number, not a person's
    PHONE_NOT_MOBILE = "phone_not_mobile"  # a valid landline (or 0800…) where a mobile is asked
    PHONE_NOT_LANDLINE = "phone_not_landline"  # a valid mobile where a landline is asked
    MOBILE_INVALID = "mobile_invalid"
    LANDLINE_INVALID = "landline_invalid"
    EMAIL_EMPTY = "email_empty"
    EMAIL_INVALID = "email_invalid"
    EMAIL_NO_DOMAIN_DOT = "email_no_domain_dot"
    EMAIL_TOO_LONG = "email_too_long"


class InvalidValue(ValueError):
    """``problem`` is the machine-readable reason; show ``texts.contacts.problem(...)``."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


# --- names -----------------------------------------------------------------------------------
def _is_name_word(word: str) -> bool:
    """Letters, possibly joined by an apostrophe, hyphen or a final dot (D'Ávila, Ana-Luz, Jr.)."""
    if not word or not word[0].isalpha():
        return False
    core = word[:-1] if word.endswith(".") else word
    if not core or not core[-1].isalpha():
        return False
    return all(char.isalpha() or char in _NAME_PUNCTUATION for char in core)


def _capitalise(word: str, first: bool) -> str:
    lowered = word.lower()
    if not first and lowered in NAME_PARTICLES:
        return lowered
    return _SEGMENT_START.sub(lambda match: match.group(0).upper(), lowered)


def _plain_case(word: str) -> bool:
    """``maria``, ``MARIA`` or ``Maria`` (not ``DeLuca``, ``McArthur``: those are kept)."""
    return word in (word.lower(), word.upper(), word[:1].upper() + word[1:].lower())


def normalize_name(text: str) -> str:
    """A full name (at least two words of letters), spaces collapsed.

    Capitalised the Brazilian way (``MARIA DA SILVA`` → ``Maria da Silva``) unless a word has
    a deliberate mixed case, in which case the name is kept as typed (``McArthur``, ``DeLuca``).
    """
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise InvalidValue(Problem.NAME_EMPTY)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidValue(Problem.NAME_TOO_LONG)
    words = name.split(" ")
    if not all(_is_name_word(word) for word in words):
        raise InvalidValue(Problem.NAME_NOT_LETTERS)
    if len(words) < 2 or sum(1 for word in words if len(word.rstrip(".")) >= 2) < 2:
        raise InvalidValue(Problem.NAME_ONE_WORD)
    if all(_plain_case(word) for word in words):
        name = " ".join(_capitalise(word, index == 0) for index, word in enumerate(words))
    return name


# --- phones ----------------------------------------------------------------------------------
def _known_area_codes() -> frozenset[str]:
    """The Brazilian DDDs, as the library's metadata knows them (a probe mobile is valid in
    every existing DDD and in no other)."""
    probe = "9" + "8" * (MOBILE_DIGITS - 1)
    return frozenset(
        f"{area}"
        for area in range(11, 100)
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+{BRAZIL_CODE}{area}{probe}"))
    )


AREA_CODES = _known_area_codes()


def _parse_brazilian(text: str) -> tuple[str, str]:
    """(DDD, subscriber number) of a typed Brazilian number, or InvalidValue."""
    raw = text.strip()
    if not raw:
        raise InvalidValue(Problem.PHONE_EMPTY)
    if len(raw) > PHONE_INPUT_MAX_LENGTH or not _PHONE_CHARACTERS.match(raw):
        raise InvalidValue(Problem.PHONE_NOT_A_NUMBER)
    digits = re.sub(r"\D", "", raw)
    if len(digits) < LANDLINE_DIGITS:
        raise InvalidValue(Problem.PHONE_NOT_A_NUMBER)
    if len(digits) <= MOBILE_DIGITS and not raw.startswith("+"):
        raise InvalidValue(Problem.PHONE_NO_AREA_CODE)
    try:
        number = phonenumbers.parse(raw, BRAZIL)
    except NumberParseException as error:
        raise InvalidValue(Problem.PHONE_NOT_A_NUMBER) from error
    if number.country_code != BRAZIL_CODE:
        raise InvalidValue(Problem.PHONE_FOREIGN)
    national = phonenumbers.national_significant_number(number)
    if national.startswith(_NON_GEOGRAPHIC) and len(national) <= 10:
        raise InvalidValue(Problem.PHONE_SPECIAL)
    area_code, subscriber = national[:2], national[2:]
    if area_code not in AREA_CODES:
        raise InvalidValue(Problem.PHONE_UNKNOWN_AREA_CODE)
    return area_code, subscriber


def _number(area_code: str, subscriber: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse(f"+{BRAZIL_CODE}{area_code}{subscriber}")


def normalize_mobile(text: str) -> str:
    """A Brazilian mobile (DDD + 9 digits starting with 9) as E.164 digits: ``5519987654321``."""
    area_code, subscriber = _parse_brazilian(text)
    number = _number(area_code, subscriber)
    is_mobile = (
        len(subscriber) == MOBILE_DIGITS
        and subscriber.startswith("9")
        and phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == PhoneNumberType.MOBILE
    )
    if is_mobile:
        return f"{BRAZIL_CODE}{area_code}{subscriber}"
    if _is_landline(area_code, subscriber):
        raise InvalidValue(Problem.PHONE_NOT_MOBILE)
    raise InvalidValue(Problem.MOBILE_INVALID)


def _is_landline(area_code: str, subscriber: str) -> bool:
    if len(subscriber) != LANDLINE_DIGITS or subscriber[0] not in LANDLINE_FIRST_DIGITS:
        return False
    number = _number(area_code, subscriber)
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def normalize_landline(text: str) -> str:
    """A Brazilian landline (DDD + 8 digits starting with 2–5) as E.164 digits."""
    area_code, subscriber = _parse_brazilian(text)
    if _is_landline(area_code, subscriber):
        return f"{BRAZIL_CODE}{area_code}{subscriber}"
    if len(subscriber) == MOBILE_DIGITS and subscriber.startswith("9"):
        raise InvalidValue(Problem.PHONE_NOT_LANDLINE)
    raise InvalidValue(Problem.LANDLINE_INVALID)


# --- e-mail ----------------------------------------------------------------------------------
def _ascii_domain(domain: str) -> str:
    """The domain in ASCII (IDNA for accented names), or InvalidValue."""
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise InvalidValue(Problem.EMAIL_INVALID) from error
    return encoded.lower()


def normalize_email(text: str) -> str:
    """An e-mail address, trimmed, with its domain in lower case (the mailbox is kept as typed)."""
    address = unicodedata.normalize("NFC", text.strip())
    address = address.removeprefix("mailto:")
    if not address:
        raise InvalidValue(Problem.EMAIL_EMPTY)
    if len(address) > EMAIL_MAX_LENGTH:
        raise InvalidValue(Problem.EMAIL_TOO_LONG)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise InvalidValue(Problem.EMAIL_INVALID)
    if len(local) > EMAIL_LOCAL_MAX_LENGTH:
        raise InvalidValue(Problem.EMAIL_TOO_LONG)
    dotted_wrongly = local.startswith(".") or local.endswith(".") or ".." in local
    if not _EMAIL_LOCAL.match(local) or dotted_wrongly:
        raise InvalidValue(Problem.EMAIL_INVALID)
    if "." not in domain.strip("."):
        raise InvalidValue(Problem.EMAIL_NO_DOMAIN_DOT)
    if domain.startswith(".") or domain.endswith(".") or any(c.isspace() for c in domain):
        raise InvalidValue(Problem.EMAIL_INVALID)
    ascii_domain = _ascii_domain(domain)
    labels = ascii_domain.split(".")
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidValue(Problem.EMAIL_INVALID)
    if not _TOP_LEVEL.match(labels[-1]):
        raise InvalidValue(Problem.EMAIL_INVALID)
    return f"{local}@{domain.lower()}"
