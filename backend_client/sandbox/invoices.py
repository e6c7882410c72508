"""The sandbox's billing: invoices and their boletos, the financial statement, fiscal notes,
the due day change and a simulated payment (a sandbox control)."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select

from backend_client.errors import (
    NotFound,
    Rejected,
)
from backend_client.formats.boleto import format_linha_digitavel
from backend_client.formats.documents import format_document
from backend_client.models import (
    BackendSession,
    ContractStatus,
    DateRange,
    Document,
    DueDayChangeRequest,
    DueDayOptions,
    FinancialEntry,
    FiscalNote,
    Invoice,
    InvoiceStatus,
)
from backend_client.sandbox import billing, convert
from backend_client.sandbox.core import (
    DUE_DAYS,
    SandboxCore,
    operation,
)
from backend_client.sandbox.db import (
    ContractRow,
    DueDayChangeRow,
    FiscalNoteRow,
    InvoiceRow,
    PlanRow,
)
from backend_client.sandbox.inline import Db


class InvoicesMixin(SandboxCore):
    """Invoices, boletos, the statement, fiscal notes, due day changes, payments."""

    # --- invoices -------------------------------------------------------------------------------
    @operation
    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            query = (
                select(InvoiceRow)
                .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                .where(ContractRow.subscriber_id == subscriber.id)
                .order_by(InvoiceRow.due_date, InvoiceRow.id)
            )
            if contract_id is not None:
                await self._contract_row(db, subscriber.id, contract_id)
                query = query.where(InvoiceRow.contract_id == contract_id)
            if period is not None:
                query = query.where(InvoiceRow.due_date.between(period.start, period.end))
            if statuses is not None:
                query = query.where(InvoiceRow.status.in_([s.value for s in statuses]))
            rows = (await db.scalars(query)).all()
        today = self._today()
        return [convert.invoice(row, today) for row in rows]

    @operation
    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._invoice_row(db, subscriber.id, invoice_id)
        return convert.invoice(row, self._today())

    @operation
    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._invoice_row(db, subscriber.id, invoice_id)
        invoice = convert.invoice(row, self._today())
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED or invoice.linha_digitavel is None:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        payer = convert.address(subscriber)
        from backend_client.sandbox import pdf  # fpdf2 (~20 MB) only once a PDF is asked for

        data = pdf.BoletoData(
            payee_name=billing.PAYEE.name,
            payee_document=format_document(billing.PAYEE.cnpj),
            payee_address=billing.PAYEE.address,
            payer_name=subscriber.name,
            payer_document=format_document(subscriber.document),
            payer_address=convert.address_line(payer),
            bank_code=row.bank_code,
            bank_code_with_dv=billing.BANK_CODES_WITH_DV[row.bank_code],
            bank_name=billing.BANK_NAMES[row.bank_code],
            invoice_number=str(row.number),
            nosso_numero=billing.nosso_numero(row.bank_code, row.number),
            reference=row.reference,
            issued_on=row.issued_on,
            due_date=row.due_date,
            amount=invoice.amount,
            linha_digitavel=format_linha_digitavel(invoice.linha_digitavel),
            barcode=billing.boleto_barcode(row.bank_code, row.number, row.due_date, invoice.amount),
            instructions="Após o vencimento: multa de 2% e juros de 1% ao mês (pro rata die).",
            pix_code=invoice.pix_code,
            created_at=self._now(),
        )
        content = await asyncio.to_thread(pdf.boleto_pdf, data)
        filename = f"boleto-{row.reference.replace('/', '-')}.pdf"
        return Document(filename=filename, content_type="application/pdf", content=content)

    @operation
    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = (
                await db.execute(
                    select(InvoiceRow, PlanRow.name)
                    .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                    .join(PlanRow, PlanRow.id == ContractRow.plan_id)
                    .where(
                        ContractRow.subscriber_id == subscriber.id,
                        InvoiceRow.status != InvoiceStatus.CANCELLED.value,
                        InvoiceRow.due_date.between(period.start, period.end),
                    )
                    .order_by(InvoiceRow.due_date, InvoiceRow.id)
                )
            ).all()
        return [
            FinancialEntry(
                invoice_id=row.id,
                contract_id=row.contract_id,
                description=f"Fatura {row.reference} - {plan_name}",
                due_date=row.due_date,
                amount=billing.cents_to_decimal(row.amount_cents),
                status=InvoiceStatus(row.status),
                paid_on=row.paid_on,
                paid_amount=(
                    None
                    if row.paid_amount_cents is None
                    else billing.cents_to_decimal(row.paid_amount_cents)
                ),
            )
            for row, plan_name in rows
        ]

    # --- fiscal notes ---------------------------------------------------------------------------
    @operation
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = await db.scalars(
                select(FiscalNoteRow)
                .where(
                    FiscalNoteRow.subscriber_id == subscriber.id,
                    FiscalNoteRow.issued_on.between(period.start, period.end),
                )
                .order_by(FiscalNoteRow.issued_on, FiscalNoteRow.id)
            )
            return [convert.fiscal_note(row) for row in rows]

    @operation
    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            note = await db.get(FiscalNoteRow, note_id)
            if note is None or note.subscriber_id != subscriber.id:
                raise NotFound(f"fiscal note {note_id}")
            contract = await db.get(ContractRow, note.contract_id) if note.contract_id else None
        amount = billing.cents_to_decimal(note.amount_cents)
        from backend_client.sandbox import pdf  # see get_boleto_pdf

        data = pdf.FiscalNoteData(
            model=note.model,
            number=note.number,
            series=note.series,
            issued_on=note.issued_on,
            issuer_name=billing.PAYEE.name,
            issuer_document=format_document(billing.PAYEE.cnpj),
            issuer_address=billing.PAYEE.address,
            recipient_name=subscriber.name,
            recipient_document=format_document(subscriber.document),
            recipient_address=convert.address_line(convert.address(contract or subscriber)),
            items=[(note.description, amount)],
            total=amount,
            created_at=self._now(),
        )
        content = await asyncio.to_thread(pdf.fiscal_note_pdf, data)
        return Document(
            filename=f"nota-fiscal-{note.number}.pdf",
            content_type="application/pdf",
            content=content,
        )

    # --- due day --------------------------------------------------------------------------------
    @staticmethod
    async def _pending_due_day_change(db: Db, contract: ContractRow) -> DueDayChangeRow | None:
        """The contract's latest request while the provider has not applied it (the contract's
        due day is still another): it awaits the provider, and no other request is taken."""
        latest = await db.scalar(
            select(DueDayChangeRow)
            .where(DueDayChangeRow.contract_id == contract.id)
            .order_by(DueDayChangeRow.requested_at.desc(), DueDayChangeRow.id.desc())
            .limit(1)
        )
        if latest is None or latest.requested_day == contract.due_day:
            return None
        return latest

    @staticmethod
    def _due_day_request(row: DueDayChangeRow) -> DueDayChangeRequest:
        return DueDayChangeRequest(
            contract_id=row.contract_id,
            current_day=row.current_day,
            requested_day=row.requested_day,
            protocol=row.protocol,
            requested_at=row.requested_at,
            email_sent_to=row.email_sent_to,
        )

    @operation
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            pending = await self._pending_due_day_change(db, contract)
        return DueDayOptions(
            contract_id=contract.id,
            current_day=contract.due_day,
            available_days=tuple(day for day in DUE_DAYS if day != contract.due_day),
            pending=self._due_day_request(pending) if pending is not None else None,
        )

    @operation
    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        """Recorded for the provider's approval; the contract's due day does not change yet.
        While a request awaits the provider, another one (the same day or not) is Rejected."""
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            pending = await self._pending_due_day_change(db, contract)
            if pending is not None:
                same = "para esse mesmo dia " if pending.requested_day == new_day else ""
                raise Rejected(
                    f"Já existe um pedido {same}em análise para este contrato: dia "
                    f"{pending.requested_day}, protocolo {pending.protocol}. Aguarde a resposta "
                    "do provedor."
                )
            options = [day for day in DUE_DAYS if day != contract.due_day]
            if new_day not in options:
                days = ", ".join(str(day) for day in options[:-1]) + f" ou {options[-1]}"
                raise Rejected(f"Dia de vencimento indisponível. Escolha o dia {days}.")
            row = DueDayChangeRow(
                contract_id=contract.id,
                current_day=contract.due_day,
                requested_day=new_day,
                protocol=await self._next_protocol(db),
                requested_at=self._now(),
                email_sent_to=subscriber.email,
            )
            db.add(row)
        return self._due_day_request(row)

    # --- sandbox controls (not part of the protocol) ----------------------------------------------
    # What the provider's staff would do in their system, so demos and tests can see the bot
    # react (payment confirmed, ticket answered or closed, backend down).
    async def simulate_payment(self, invoice_id: str, paid_on: date | None = None) -> Invoice:
        """The provider receives an open invoice's payment (with any late charges); a suspended
        or temporarily enabled contract with nothing else overdue becomes active again."""
        day = paid_on or self._today()
        async with self._transaction() as db:
            row = await db.get(InvoiceRow, invoice_id)
            if row is None:
                raise NotFound(f"invoice {invoice_id}")
            if row.status != InvoiceStatus.OPEN.value:
                raise Rejected("Esta fatura não está em aberto.")
            amount = billing.cents_to_decimal(row.amount_cents)
            fine, interest = billing.late_charges(amount, row.due_date, day)
            row.status = InvoiceStatus.PAID.value
            row.paid_on = day
            row.paid_amount_cents = billing.decimal_to_cents(amount + fine + interest)
            await db.flush()
            await self._reactivate_if_settled(db, row.contract_id, day)
        return convert.invoice(row, self._today())

    async def _reactivate_if_settled(self, db: Db, contract_id: str, day: date) -> None:
        contract = await db.get(ContractRow, contract_id)
        if contract is None or contract.status not in (
            ContractStatus.SUSPENDED.value,
            ContractStatus.TEMPORARILY_ENABLED.value,
        ):
            return
        overdue = await db.scalar(
            select(func.count(InvoiceRow.id)).where(
                InvoiceRow.contract_id == contract_id,
                InvoiceRow.status == InvoiceStatus.OPEN.value,
                InvoiceRow.due_date < day,
            )
        )
        if not overdue:
            contract.status = ContractStatus.ACTIVE.value
            contract.temporarily_enabled_until = None
            await self._reconnect(db, contract_id)
