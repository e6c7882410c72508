"""The sandbox provider's billing rules: payee identity, late charges, boleto and PIX codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from backend_client.formats.boleto import barcode_to_linha_digitavel, build_barcode
from backend_client.formats.documents import cnpj_with_check_digits
from backend_client.formats.pix import build_static_pix

CENT = Decimal("0.01")
FINE_RATE = Decimal("0.02")  # multa de 2% após o vencimento
MONTHLY_INTEREST_RATE = Decimal("0.01")  # juros de 1% ao mês, pro rata die


@dataclass(frozen=True, slots=True)
class Payee:
    """The (fictitious) provider that runs the sandbox."""

    name: str
    trade_name: str
    cnpj: str
    address: str
    city: str
    pix_key: str


PAYEE = Payee(
    name="Conecta Vale Telecomunicações Ltda",
    trade_name="Conecta Vale Fibra",
    cnpj=cnpj_with_check_digits("483917250001"),
    address="Av. Norte-Sul, 1500 - Cambuí - Campinas/SP - CEP 13025-320",
    city="Campinas",
    pix_key=cnpj_with_check_digits("483917250001"),
)

BANK_NAMES: dict[str, str] = {"001": "Banco do Brasil S.A.", "237": "Banco Bradesco S.A."}
BANK_CODES_WITH_DV: dict[str, str] = {"001": "001-9", "237": "237-2"}

_BB_CONVENIO = "3128557"
_BB_WALLET = "17"
_BRADESCO_AGENCY = "3381"
_BRADESCO_WALLET = "09"
_BRADESCO_ACCOUNT = "0012345"


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def decimal_to_cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT, ROUND_HALF_UP) * 100)


def late_charges(amount: Decimal, due: date, today: date) -> tuple[Decimal, Decimal]:
    """(fine, interest) owed on ``today`` for an unpaid amount due on ``due``."""
    days_late = (today - due).days
    if days_late <= 0:
        return Decimal("0.00"), Decimal("0.00")
    fine = (amount * FINE_RATE).quantize(CENT, ROUND_HALF_UP)
    interest = (amount * MONTHLY_INTEREST_RATE * days_late / 30).quantize(CENT, ROUND_HALF_UP)
    return fine, interest


def nosso_numero(bank_code: str, invoice_number: int) -> str:
    """The bank's "nosso número" of an invoice, as printed on the boleto."""
    if bank_code == "001":
        return f"{_BB_CONVENIO}{invoice_number:010d}"
    return f"{_BRADESCO_WALLET}/{invoice_number:011d}"


def free_field(bank_code: str, invoice_number: int) -> str:
    """The 25-digit "campo livre" of the barcode, laid out as each bank specifies."""
    if bank_code == "001":  # convênio de 7 posições: 000000 + convênio + complemento + carteira
        return f"000000{_BB_CONVENIO}{invoice_number:010d}{_BB_WALLET}"
    if bank_code == "237":  # agência + carteira + nosso número + conta + zero
        return f"{_BRADESCO_AGENCY}{_BRADESCO_WALLET}{invoice_number:011d}{_BRADESCO_ACCOUNT}0"
    raise ValueError(f"unsupported bank: {bank_code}")


def boleto_barcode(bank_code: str, invoice_number: int, due: date, amount: Decimal) -> str:
    return build_barcode(bank_code, due, amount, free_field(bank_code, invoice_number))


def linha_digitavel(bank_code: str, invoice_number: int, due: date, amount: Decimal) -> str:
    return barcode_to_linha_digitavel(boleto_barcode(bank_code, invoice_number, due, amount))


def pix_txid(invoice_id: str) -> str:
    """The PIX txid of an invoice: its id with only letters and digits, at most 25 characters."""
    return re.sub(r"[^A-Za-z0-9]", "", invoice_id).upper()[:25] or "***"


def pix_code(invoice_id: str, amount: Decimal, reference: str) -> str:
    return build_static_pix(
        PAYEE.pix_key,
        PAYEE.trade_name,
        PAYEE.city,
        amount=amount,
        txid=pix_txid(invoice_id),
        description=f"Fatura {reference}",
    )
