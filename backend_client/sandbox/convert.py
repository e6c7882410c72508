"""Conversions from the sandbox's ORM rows to the shared domain models."""

from __future__ import annotations

import dataclasses
from datetime import date

from backend_client.models import (
    Address,
    Contact,
    ContactType,
    ContractStatus,
    FiscalNote,
    Invoice,
    InvoiceStatus,
    Plan,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from backend_client.sandbox import billing
from backend_client.sandbox.db import (
    AddressMixin,
    ContactRow,
    ContactTypeRow,
    ContractRow,
    FiscalNoteRow,
    InvoiceRow,
    PlanRow,
    TicketRow,
)


def address(row: AddressMixin) -> Address:
    return Address(
        street=row.street,
        number=row.street_number,
        complement=row.complement,
        neighbourhood=row.neighbourhood,
        city=row.city,
        state=row.state,
        postal_code=row.postal_code,
    )


def address_line(address: Address) -> str:
    complement = f", {address.complement}" if address.complement else ""
    cep = f"{address.postal_code[:5]}-{address.postal_code[5:]}"
    return (
        f"{address.street}, {address.number}{complement} - {address.neighbourhood} - "
        f"{address.city}/{address.state} - CEP {cep}"
    )


def plan(row: PlanRow) -> Plan:
    return Plan(
        id=row.id,
        name=row.name,
        download_mbps=row.download_mbps,
        upload_mbps=row.upload_mbps,
        monthly_price=billing.cents_to_decimal(row.price_cents),
    )


def effective_status(row: ContractRow, today: date) -> tuple[ContractStatus, date | None]:
    """Status and enabling end as of ``today``: an expired enabling is a suspension again."""
    status = ContractStatus(row.status)
    until = row.temporarily_enabled_until
    if status is ContractStatus.TEMPORARILY_ENABLED and (until is None or until < today):
        return ContractStatus.SUSPENDED, None
    return status, until if status is ContractStatus.TEMPORARILY_ENABLED else None


def invoice(row: InvoiceRow, today: date) -> Invoice:
    status = InvoiceStatus(row.status)
    amount = billing.cents_to_decimal(row.amount_cents)
    recorded = Invoice(
        id=row.id,
        contract_id=row.contract_id,
        reference=row.reference,
        issued_on=row.issued_on,
        due_date=row.due_date,
        amount=amount,
        status=status,
    )
    if status is not InvoiceStatus.OPEN:
        paid = row.paid_amount_cents
        return dataclasses.replace(
            recorded,
            paid_on=row.paid_on,
            paid_amount=None if paid is None else billing.cents_to_decimal(paid),
        )
    fine, interest = billing.late_charges(amount, row.due_date, today)
    return dataclasses.replace(
        recorded,
        fine=fine,
        interest=interest,
        # The boleto keeps its original due date and amount (the bank adds the charges);
        # the PIX code asks for what is owed today.
        linha_digitavel=billing.linha_digitavel(row.bank_code, row.number, row.due_date, amount),
        pix_code=billing.pix_code(row.id, amount + fine + interest, row.reference),
    )


def fiscal_note(row: FiscalNoteRow) -> FiscalNote:
    return FiscalNote(
        id=row.id,
        number=row.number,
        series=row.series,
        model=row.model,
        issued_on=row.issued_on,
        amount=billing.cents_to_decimal(row.amount_cents),
        contract_id=row.contract_id,
    )


def contact(row: ContactRow, contact_type: ContactTypeRow) -> Contact:
    return Contact(
        id=row.id,
        name=row.name,
        type=ContactType(id=contact_type.id, name=contact_type.name),
        mobile=row.mobile,
        landline=row.landline,
        email=row.email,
        sms_opt_in=row.sms_opt_in,
    )


def ticket(row: TicketRow, subject: str, messages: tuple[TicketMessage, ...] = ()) -> Ticket:
    return Ticket(
        id=row.id,
        protocol=row.protocol,
        subject=subject,
        status=TicketStatus(row.status),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        contract_id=row.contract_id,
        messages=messages,
    )
