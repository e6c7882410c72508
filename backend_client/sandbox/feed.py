"""The sandbox's :class:`~backend_client.provider.ProviderFeed`: facts for notifications and
broadcast audiences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select

from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    AudienceStatus,
    ContractProfile,
    EnablingEnding,
    SubscriberFiscalNote,
    SubscriberInvoice,
    SubscriberProfile,
    TicketEvent,
    TicketEventKind,
    fold,
)
from backend_client.sandbox import convert
from backend_client.sandbox.backend import SandboxBackend, _operation
from backend_client.sandbox.db import (
    ContactDeviceRow,
    ContractRow,
    FiscalNoteRow,
    InvoiceRow,
    PlanRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)

# Lists longer than this are filtered in Python rather than in an SQL ``IN (…)``.
_SQL_IN_LIMIT = 500
_SUSPENDED = (ContractStatus.SUSPENDED.value, ContractStatus.TEMPORARILY_ENABLED.value)


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
        async with self.backend._reading() as db:
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
        async with self.backend._reading() as db:
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
        async with self.backend._reading() as db:
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
        async with self.backend._reading() as db:
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

    # --- broadcast audiences ------------------------------------------------------------------
    @_operation
    async def audience(self, segment: AudienceFilter) -> list[SubscriberProfile]:
        today = self.backend._today()
        async with self.backend._reading() as db:
            overdue = set(
                await db.scalars(
                    select(InvoiceRow.contract_id)
                    .where(
                        InvoiceRow.status == InvoiceStatus.OPEN.value,
                        InvoiceRow.due_date < today,
                    )
                    .distinct()
                )
            )
            query = select(
                ContractRow.id,
                ContractRow.subscriber_id,
                ContractRow.city,
                ContractRow.neighbourhood,
                ContractRow.plan_id,
                PlanRow.name,
                ContractRow.status,
            ).join(PlanRow, PlanRow.id == ContractRow.plan_id)
            conditions: list[Any] = []
            if segment.by_contract:
                conditions.append(ContractRow.status != ContractStatus.CANCELLED.value)
            for column, values in (
                (ContractRow.subscriber_id, segment.subscriber_ids),
                (ContractRow.id, segment.contract_ids),
                (ContractRow.plan_id, segment.plan_ids),
            ):
                if values and len(values) <= _SQL_IN_LIMIT:
                    conditions.append(column.in_(sorted(values)))
            rows = (
                await db.execute(
                    query.where(*conditions).order_by(ContractRow.subscriber_id, ContractRow.id)
                )
            ).all()
        places = _folded_places(segment.places)
        found: dict[str, list[ContractProfile]] = {}
        for contract_id, subscriber_id, city, neighbourhood, plan_id, plan, status in rows:
            if segment.subscriber_ids and subscriber_id not in segment.subscriber_ids:
                continue
            profile = ContractProfile(
                contract_id=contract_id,
                city=city,
                neighbourhood=neighbourhood,
                plan_id=plan_id,
                plan_name=plan,
                status=status,
                overdue=contract_id in overdue,
            )
            if _matches(profile, segment, places):
                found.setdefault(subscriber_id, []).append(profile)
        return [SubscriberProfile(sid, tuple(contracts)) for sid, contracts in found.items()]

    @_operation
    async def audience_options(self) -> AudienceOptions:
        async with self.backend._reading() as db:
            rows = await db.execute(
                select(ContractRow.city, ContractRow.neighbourhood)
                .where(ContractRow.status != ContractStatus.CANCELLED.value)
                .distinct()
            )
            cities: dict[str, set[str]] = {}
            for city, neighbourhood in rows.all():
                cities.setdefault(city, set()).add(neighbourhood)
            plans = (await db.execute(select(PlanRow.id, PlanRow.name).order_by(PlanRow.id))).all()
        return AudienceOptions(
            places=tuple(
                (city, tuple(sorted(names, key=fold)))
                for city, names in sorted(cities.items(), key=lambda item: fold(item[0]))
            ),
            plans=tuple((plan_id, name) for plan_id, name in plans),
        )


def _folded_places(
    places: Iterable[tuple[str, str | None]],
) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """(whole cities, (city, neighbourhood) pairs), folded for comparison."""
    cities = frozenset(fold(city) for city, neighbourhood in places if neighbourhood is None)
    pairs = frozenset(
        (fold(city), fold(neighbourhood))
        for city, neighbourhood in places
        if neighbourhood is not None
    )
    return cities, pairs


def _matches(
    contract: ContractProfile,
    segment: AudienceFilter,
    places: tuple[frozenset[str], frozenset[tuple[str, str]]],
) -> bool:
    if segment.contract_ids and contract.contract_id not in segment.contract_ids:
        return False
    if segment.plan_ids and contract.plan_id not in segment.plan_ids:
        return False
    if segment.statuses and not any(_in_status(contract, s) for s in segment.statuses):
        return False
    if segment.places:
        cities, pairs = places
        city = fold(contract.city)
        if city not in cities and (city, fold(contract.neighbourhood)) not in pairs:
            return False
    return True


def _in_status(contract: ContractProfile, status: AudienceStatus) -> bool:
    if status is AudienceStatus.OVERDUE:
        return contract.overdue
    if status is AudienceStatus.SUSPENDED:
        return contract.status in _SUSPENDED
    return contract.status == ContractStatus.ACTIVE.value
