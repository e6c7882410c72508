"""CPF and CNPJ (including the alphanumeric CNPJ of July 2026): validation, formatting, masking."""

from __future__ import annotations

import re
from typing import Literal

_STRIP_RE = re.compile(r"[\s./-]")
_CPF_RE = re.compile(r"[0-9]{11}")
_CNPJ_RE = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_CPF_BASE_RE = re.compile(r"[0-9]{9}")
_CNPJ_BASE_RE = re.compile(r"[0-9A-Z]{12}")

_CNPJ_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def strip_document(text: str) -> str:
    """Remove whitespace and the punctuation ``.-/`` and uppercase; does not validate."""
    return _STRIP_RE.sub("", text).upper()


def _clean(value: str) -> str:
    # str.upper() maps a few non-ASCII letters to ASCII ones ("ı" -> "I", "ſ" -> "S"),
    # so non-ASCII input is rejected before uppercasing instead of being "repaired".
    return strip_document(value) if value.isascii() else ""


def _mod11_dv(total: int) -> int:
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def _cpf_dvs(base9: str) -> str:
    digits = [int(c) for c in base9]
    dv1 = _mod11_dv(sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)))
    digits.append(dv1)
    dv2 = _mod11_dv(sum(d * w for d, w in zip(digits, range(11, 1, -1), strict=True)))
    return f"{dv1}{dv2}"


def _cnpj_dvs(base12: str) -> str:
    # Receita Federal's alphanumeric rule: each character is worth ord(c) - 48, so the
    # digits keep their values and the old numeric CNPJs keep their check digits.
    values = [ord(c) - 48 for c in base12]
    dv1 = _mod11_dv(sum(v * w for v, w in zip(values, _CNPJ_WEIGHTS[1:], strict=True)))
    values.append(dv1)
    dv2 = _mod11_dv(sum(v * w for v, w in zip(values, _CNPJ_WEIGHTS, strict=True)))
    return f"{dv1}{dv2}"


def _is_valid_cpf_stripped(cpf: str) -> bool:
    # Repeated digits (111.111.111-11) pass the checksum but are not issued.
    return bool(_CPF_RE.fullmatch(cpf)) and len(set(cpf)) > 1 and cpf[9:] == _cpf_dvs(cpf[:9])


def _is_valid_cnpj_stripped(cnpj: str) -> bool:
    return (
        bool(_CNPJ_RE.fullmatch(cnpj)) and len(set(cnpj)) > 1 and cnpj[12:] == _cnpj_dvs(cnpj[:12])
    )


def is_valid_cpf(value: str) -> bool:
    """Whether ``value`` (formatted or not) is a valid CPF."""
    return _is_valid_cpf_stripped(_clean(value))


def is_valid_cnpj(value: str) -> bool:
    """Whether ``value`` (formatted or not, numeric or alphanumeric) is a valid CNPJ."""
    return _is_valid_cnpj_stripped(_clean(value))


def normalize_document(text: str) -> str | None:
    """The bare 11-digit CPF or 14-character CNPJ when ``text`` is a valid one, else None."""
    document = _clean(text)
    if _is_valid_cpf_stripped(document) or _is_valid_cnpj_stripped(document):
        return document
    return None


def format_document(value: str) -> str:
    """``529.982.247-25`` or ``12.ABC.345/01DE-35`` by shape; anything else unchanged."""
    document = _clean(value)
    if _CPF_RE.fullmatch(document):
        return f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"
    if _CNPJ_RE.fullmatch(document):
        return f"{document[:2]}.{document[2:5]}.{document[5:8]}/{document[8:12]}-{document[12:]}"
    return value


def document_kind(value: str) -> Literal["cpf", "cnpj"]:
    """``"cpf"`` or ``"cnpj"`` by the length of the stripped value; ValueError otherwise."""
    length = len(strip_document(value))
    if length == 11:
        return "cpf"
    if length == 14:
        return "cnpj"
    raise ValueError(f"not a CPF or CNPJ length: {length} characters")


def cpf_with_check_digits(base9: str) -> str:
    """The 11-digit CPF made of ``base9`` and its check digits."""
    base = _clean(base9)
    if not _CPF_BASE_RE.fullmatch(base):
        raise ValueError("a CPF base is 9 digits")
    cpf = base + _cpf_dvs(base)
    if not _is_valid_cpf_stripped(cpf):
        raise ValueError("a CPF base of repeated digits gives an invalid CPF")
    return cpf


def cnpj_with_check_digits(base12: str) -> str:
    """The 14-character CNPJ made of ``base12`` ([0-9A-Z]) and its check digits."""
    base = _clean(base12)
    if not _CNPJ_BASE_RE.fullmatch(base):
        raise ValueError("a CNPJ base is 12 characters of [0-9A-Z]")
    cnpj = base + _cnpj_dvs(base)
    if not _is_valid_cnpj_stripped(cnpj):
        raise ValueError("a CNPJ of one repeated character is invalid")
    return cnpj


def mask_document(value: str) -> str:
    """Hide the middle for logs and UI: ``529.***.***-25``, ``12.ABC.***/****-35``."""
    document = _clean(value)
    if _CPF_RE.fullmatch(document):
        return f"{document[:3]}.***.***-{document[9:]}"
    if _CNPJ_RE.fullmatch(document):
        return f"{document[:2]}.{document[2:5]}.***/****-{document[12:]}"
    # Unknown shape: reveal nothing, not even the length.
    return "***"
