"""What the bot asks the provider's system on its own behalf (not a subscriber's).

Notifications reach subscribers who are not logged in, so their source cannot be a subscriber
session: these queries run with the provider's integration credentials. Each returns *facts*
inside a window; the bot derives notifications from them and deduplicates by natural key, so
asking twice (an overlapping poll, a restart) never notifies twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from backend_client.models import FiscalNote, Invoice


@dataclass(frozen=True, slots=True)
class SubscriberInvoice:
    subscriber_id: str
    contract_number: str
    invoice: Invoice


class TicketEventKind(enum.StrEnum):
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TicketEvent:
    subscriber_id: str
    ticket_id: str
    protocol: str
    subject: str
    kind: TicketEventKind
    event_id: str  # unique per event (the message id for answers)
    at: datetime
    text: str = ""  # the provider's answer, for ANSWERED


@dataclass(frozen=True, slots=True)
class SubscriberFiscalNote:
    subscriber_id: str
    note: FiscalNote


@dataclass(frozen=True, slots=True)
class EnablingEnding:
    subscriber_id: str
    contract_id: str
    contract_number: str
    enabled_until: date


@runtime_checkable
class ProviderFeed(Protocol):
    async def open_invoices_due_between(self, start: date, end: date) -> list[SubscriberInvoice]:
        """Open invoices (with linha digitável and PIX) due in [start, end]."""

    async def payments_between(self, start: date, end: date) -> list[SubscriberInvoice]:
        """Invoices paid in [start, end]."""

    async def ticket_events_since(self, since: datetime) -> list[TicketEvent]:
        """Provider answers and ticket closures after ``since``."""

    async def fiscal_notes_issued_between(
        self, start: date, end: date
    ) -> list[SubscriberFiscalNote]: ...

    async def enablings_ending_on(self, day: date) -> list[EnablingEnding]:
        """Temporary enablings whose last day is ``day``."""

    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        """Forget a contact's device without a subscriber session (``/parar`` logged out)."""
