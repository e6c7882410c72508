"""The sandbox's :class:`~backend_client.provider.ProviderFeed`: facts for notifications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select

from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.provider import (
    EnablingEnding,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    TicketEventKind,
)
from backend_client.sandbox import convert
from backend_client.sandbox.backend import SandboxBackend, _operation
from backend_client.sandbox.db import (
    ContactDeviceRow,
    ContractRow,
    FiscalNoteRow,
    InvoiceRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)


class SandboxFeed:
    """Reads the same database as ``backend`` (the provider's side of the same system)."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend

    # ``_operation`` reads ``latency``/``outage`` from the instance: mirror the backend's.
    @property
    def latency(self) -> float:
        return self.backend.latency

    @property
    def outage(self) -> bool:
        return self.backend.outage

    async def _invoices(self, *conditions: object) -> list[SubscriberInvoice]:
        today = self.backend._today()
        async with self.backend._transaction() as db:
            rows = await db.execute(
                select(InvoiceRow, ContractRow.subscriber_id, ContractRow.number)
                .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                .where(*conditions)  # type: ignore[arg-type]
                .order_by(InvoiceRow.due_date, InvoiceRow.id)
            )
            return [
                SubscriberInvoice(subscriber_id, number, convert.invoice(row, today))
                for row, subscriber_id, number in rows.all()
            ]

    @_operation
    async def open_invoices_due_between(self, start: date, end: date) -> list[SubscriberInvoice]:
        return await self._invoices(
            InvoiceRow.status == InvoiceStatus.OPEN.value,
            InvoiceRow.due_date >= start,
            InvoiceRow.due_date <= end,
        )

    @_operation
    async def payments_between(self, start: date, end: date) -> list[SubscriberInvoice]:
        return await self._invoices(
            InvoiceRow.status == InvoiceStatus.PAID.value,
            InvoiceRow.paid_on >= start,
            InvoiceRow.paid_on <= end,
        )

    @_operation
    async def ticket_events_since(self, since: datetime) -> list[TicketEvent]:
        async with self.backend._transaction() as db:
            rows = await db.execute(
                select(TicketMessageRow, TicketRow, TicketSubjectRow.name)
                .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .join(TicketSubjectRow, TicketSubjectRow.id == TicketRow.subject_id)
                .where(
                    TicketMessageRow.author == TicketAuthor.PROVIDER.value,
                    TicketMessageRow.sent_at > since,
                )
                .order_by(TicketMessageRow.sent_at, TicketMessageRow.position)
            )
            found = rows.all()
            last_position: dict[str, int] = {}
            for message, ticket, _ in found:
                last_position[ticket.id] = max(last_position.get(ticket.id, -1), message.position)
            events = []
            for message, ticket, subject in found:
                closing = (
                    ticket.status == TicketStatus.CLOSED.value
                    and message.position == last_position[ticket.id]
                )
                events.append(
                    TicketEvent(
                        subscriber_id=ticket.subscriber_id,
                        ticket_id=ticket.id,
                        protocol=ticket.protocol,
                        subject=subject,
                        kind=TicketEventKind.CLOSED if closing else TicketEventKind.ANSWERED,
                        event_id=message.id,
                        at=message.sent_at,
                        text=message.text,
                    )
                )
            return events

    @_operation
    async def fiscal_notes_issued_between(
        self, start: date, end: date
    ) -> list[SubscriberFiscalNote]:
        async with self.backend._transaction() as db:
            rows = await db.scalars(
                select(FiscalNoteRow)
                .where(FiscalNoteRow.issued_on >= start, FiscalNoteRow.issued_on <= end)
                .order_by(FiscalNoteRow.issued_on, FiscalNoteRow.id)
            )
            return [
                SubscriberFiscalNote(row.subscriber_id, convert.fiscal_note(row)) for row in rows
            ]

    @_operation
    async def enablings_ending_on(self, day: date) -> list[EnablingEnding]:
        async with self.backend._transaction() as db:
            rows = await db.scalars(
                select(ContractRow).where(
                    ContractRow.status == ContractStatus.TEMPORARILY_ENABLED.value,
                    ContractRow.temporarily_enabled_until == day,
                )
            )
            return [EnablingEnding(row.subscriber_id, row.id, row.number, day) for row in rows]

    @_operation
    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        async with self.backend._transaction() as db:
            await db.execute(
                delete(ContactDeviceRow).where(
                    ContactDeviceRow.contact_id == contact_id,
                    ContactDeviceRow.device_id == device_id,
                )
            )
