"""The sandbox's :class:`~backend_client.provider.ProviderFeed`: facts for notifications and
broadcast audiences.

It lists everybody (it ignores ``watched``), in pages in the order of a unique key; the cursor is
the last key of a page, so a page taken after a crash or a change in between never repeats nor
skips an item that still matches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select

from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    ContractProfile,
    EnablingEnding,
    FeedPage,
    SubscriberFiscalNote,
    SubscriberInvoice,
    SubscriberProfile,
    TicketEvent,
    TicketEventKind,
    Watched,
    fold,
    matching_contracts,
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

PAGE_SIZE = 500


def _page(items: list[Any], keys: list[str], size: int) -> tuple[list[Any], str | None]:
    """The first ``size`` of ``items`` (``size + 1`` were asked for) and the next cursor."""
    if len(items) > size:
        return items[:size], keys[size - 1]
    return items, None


def _invoice_cursor(cursor: str | None) -> tuple[date, str] | None:
    """``<day>|<id>`` → (day, id); None for no cursor or one of the older id-only form."""
    if cursor is None or "|" not in cursor:
        return None
    day, _, invoice_id = cursor.partition("|")
    try:
        return date.fromisoformat(day), invoice_id
    except ValueError:
        return None


def _day_of(row: InvoiceRow, column: Any) -> date:
    day = row.due_date if column is InvoiceRow.due_date else row.paid_on
    assert day is not None  # the query asked for a day in a window
    return day


# Lists longer than this are filtered in Python rather than in an SQL ``IN (…)``.
_SQL_IN_LIMIT = 500


class SandboxFeed:
    """Reads the same database as ``backend`` (the provider's side of the same system)."""

    def __init__(self, backend: SandboxBackend, *, page_size: int = PAGE_SIZE) -> None:
        self.backend = backend
        self.page_size = page_size

    async def check(self) -> list[str]:
        """Every question works on the sandbox."""
        return []

    # ``_operation`` reads ``latency``/``outage`` from the instance: mirror the backend's.
    @property
    def latency(self) -> float:
        return self.backend.latency

    @property
    def outage(self) -> bool:
        return self.backend.outage

    async def _invoices(
        self, cursor: str | None, day: Any, start: date, end: date, status: InvoiceStatus
    ) -> FeedPage[SubscriberInvoice]:
        """Invoices of ``status`` whose ``day`` column is in [start, end], in (day, id) order: the
        cursor is the last page's ``<day>|<id>`` (one of an older form starts the window again)."""
        today = self.backend._today()
        conditions: list[Any] = [InvoiceRow.status == status.value, day >= start, day <= end]
        after = _invoice_cursor(cursor)
        if after is not None:
            last_day, last_id = after
            conditions.append(or_(day > last_day, and_(day == last_day, InvoiceRow.id > last_id)))
        async with self.backend._reading() as db:
            rows = await db.execute(
                select(InvoiceRow, ContractRow.subscriber_id, ContractRow.number)
                .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                .where(*conditions)
                .order_by(day, InvoiceRow.id)
                .limit(self.page_size + 1)
            )
            found = rows.all()
        keys = [f"{_day_of(row, day).isoformat()}|{row.id}" for row, _, _ in found]
        items, next_cursor = _page(found, keys, self.page_size)
        invoices = []
        for index, (row, subscriber_id, number) in enumerate(items):
            invoices.append(SubscriberInvoice(subscriber_id, number, convert.invoice(row, today)))
            # Each draws a linha and a PIX (~0.2 ms): the bot answers meanwhile.
            if index % 100 == 99:
                await asyncio.sleep(0)
        return FeedPage(invoices, next_cursor)

    @_operation
    async def open_invoices_due_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        return await self._invoices(cursor, InvoiceRow.due_date, start, end, InvoiceStatus.OPEN)

    @_operation
    async def payments_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        return await self._invoices(cursor, InvoiceRow.paid_on, start, end, InvoiceStatus.PAID)

    @_operation
    async def ticket_events_since(
        self, since: datetime, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[TicketEvent]:
        conditions: list[Any] = [
            TicketMessageRow.author == TicketAuthor.PROVIDER.value,
            TicketMessageRow.sent_at > since,
        ]
        if cursor is not None:
            conditions.append(TicketMessageRow.id > cursor)
        async with self.backend._reading() as db:
            rows = await db.execute(
                select(TicketMessageRow, TicketRow, TicketSubjectRow.name)
                .join(TicketRow, TicketRow.id == TicketMessageRow.ticket_id)
                .join(TicketSubjectRow, TicketSubjectRow.id == TicketRow.subject_id)
                .where(*conditions)
                .order_by(TicketMessageRow.id)
                .limit(self.page_size + 1)
            )
            found = rows.all()
            found, next_cursor = _page(found, [m.id for m, _, _ in found], self.page_size)
            # A closed ticket's last provider message is its closing.
            last = await db.execute(
                select(TicketMessageRow.ticket_id, func.max(TicketMessageRow.position))
                .where(
                    TicketMessageRow.author == TicketAuthor.PROVIDER.value,
                    TicketMessageRow.ticket_id.in_(sorted({t.id for _, t, _ in found})),
                )
                .group_by(TicketMessageRow.ticket_id)
            )
            last_position = dict(last.all())
        events = []
        for message, ticket, subject in found:
            closing = (
                ticket.status == TicketStatus.CLOSED.value
                and message.position == last_position.get(ticket.id)
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
        return FeedPage(events, next_cursor)

    @_operation
    async def fiscal_notes_issued_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberFiscalNote]:
        conditions: list[Any] = [FiscalNoteRow.issued_on >= start, FiscalNoteRow.issued_on <= end]
        if cursor is not None:
            conditions.append(FiscalNoteRow.id > cursor)
        async with self.backend._reading() as db:
            found = list(
                await db.scalars(
                    select(FiscalNoteRow)
                    .where(*conditions)
                    .order_by(FiscalNoteRow.id)
                    .limit(self.page_size + 1)
                )
            )
        rows, next_cursor = _page(found, [row.id for row in found], self.page_size)
        return FeedPage(
            [SubscriberFiscalNote(row.subscriber_id, convert.fiscal_note(row)) for row in rows],
            next_cursor,
        )

    @_operation
    async def enablings_ending_on(
        self, day: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[EnablingEnding]:
        conditions: list[Any] = [
            ContractRow.status == ContractStatus.TEMPORARILY_ENABLED.value,
            ContractRow.temporarily_enabled_until == day,
        ]
        if cursor is not None:
            conditions.append(ContractRow.id > cursor)
        async with self.backend._reading() as db:
            found = list(
                await db.scalars(
                    select(ContractRow)
                    .where(*conditions)
                    .order_by(ContractRow.id)
                    .limit(self.page_size + 1)
                )
            )
        rows, next_cursor = _page(found, [row.id for row in found], self.page_size)
        return FeedPage(
            [EnablingEnding(row.subscriber_id, row.id, row.number, day) for row in rows],
            next_cursor,
        )

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
    async def audience(
        self, segment: AudienceFilter, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberProfile]:
        """A page of subscribers (by id), each with the contracts the segment selects; a page
        may hold fewer subscribers than it looked at."""
        today = self.backend._today()
        async with self.backend._reading() as db:
            subscribers = select(ContractRow.subscriber_id).distinct()
            if segment.subscriber_ids and len(segment.subscriber_ids) <= _SQL_IN_LIMIT:
                subscribers = subscribers.where(
                    ContractRow.subscriber_id.in_(sorted(segment.subscriber_ids))
                )
            if cursor is not None:
                subscribers = subscribers.where(ContractRow.subscriber_id > cursor)
            ids = list(
                await db.scalars(
                    subscribers.order_by(ContractRow.subscriber_id).limit(self.page_size + 1)
                )
            )
            ids, next_cursor = _page(ids, ids, self.page_size)
            rows = (
                await db.execute(
                    select(
                        ContractRow.id,
                        ContractRow.subscriber_id,
                        ContractRow.city,
                        ContractRow.neighbourhood,
                        ContractRow.plan_id,
                        PlanRow.name,
                        ContractRow.status,
                    )
                    .join(PlanRow, PlanRow.id == ContractRow.plan_id)
                    .where(ContractRow.subscriber_id.in_(ids))
                    .order_by(ContractRow.subscriber_id, ContractRow.id)
                )
            ).all()
            overdue = set(
                await db.scalars(
                    select(InvoiceRow.contract_id)
                    .where(
                        InvoiceRow.contract_id.in_([row[0] for row in rows]),
                        InvoiceRow.status == InvoiceStatus.OPEN.value,
                        InvoiceRow.due_date < today,
                    )
                    .distinct()
                )
            )
        contracts: dict[str, list[ContractProfile]] = {}
        for contract_id, subscriber_id, city, neighbourhood, plan_id, plan, status in rows:
            if segment.subscriber_ids and subscriber_id not in segment.subscriber_ids:
                continue
            contracts.setdefault(subscriber_id, []).append(
                ContractProfile(
                    contract_id=contract_id,
                    city=city,
                    neighbourhood=neighbourhood,
                    plan_id=plan_id,
                    plan_name=plan,
                    status=status,
                    overdue=contract_id in overdue,
                )
            )
        profiles = []
        for subscriber_id, found in contracts.items():
            chosen = matching_contracts(segment, found)
            if chosen:
                profiles.append(SubscriberProfile(subscriber_id, chosen))
        return FeedPage(profiles, next_cursor)

    @_operation
    async def audience_options(self, *, watched: Sequence[Watched]) -> AudienceOptions:
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
