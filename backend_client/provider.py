"""What the bot asks the provider's system on its own behalf (not a subscriber's).

Notifications reach subscribers who are not logged in, so their source cannot be a subscriber
session: these queries run with the provider's integration credentials. Each returns *facts*
inside a window; the bot derives notifications from them and deduplicates by natural key, so
asking twice (an overlapping poll, a restart) never notifies twice.
"""

from __future__ import annotations

import enum
import unicodedata
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


def fold(name: str) -> str:
    """A place or plan name compared ignoring case, accents and extra spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


class AudienceStatus(enum.StrEnum):
    """Contract situations a broadcast can target."""

    ACTIVE = "active"  # in service (not suspended)
    SUSPENDED = "suspended"  # blocked for non-payment, temporary enabling included
    OVERDUE = "overdue"  # an open invoice past its due date, whatever the contract status


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """Who a provider broadcast is for. Segments combine with AND; the values inside one segment
    with OR (``plan_ids={"a", "b"}``: plan a or plan b). An empty segment does not restrict.

    Contract segments (places, plans, statuses, contract ids) must all hold for the *same*
    contract of the subscriber; cancelled contracts never match them. Places are the contracts'
    installation addresses: ``(city, None)`` is the whole city, ``(city, neighbourhood)`` one
    neighbourhood of it. Names are matched ignoring case and accents.
    """

    places: frozenset[tuple[str, str | None]] = frozenset()
    plan_ids: frozenset[str] = frozenset()
    statuses: frozenset[AudienceStatus] = frozenset()
    contract_ids: frozenset[str] = frozenset()
    subscriber_ids: frozenset[str] = frozenset()

    @property
    def by_contract(self) -> bool:
        return bool(self.places or self.plan_ids or self.statuses or self.contract_ids)


@dataclass(frozen=True, slots=True)
class ContractProfile:
    """What a broadcast segment looks at in one contract."""

    contract_id: str
    city: str
    neighbourhood: str
    plan_id: str
    plan_name: str
    status: str  # backend_client.models.ContractStatus value
    overdue: bool


@dataclass(frozen=True, slots=True)
class SubscriberProfile:
    """A subscriber in a broadcast audience, with the contracts that matched the filter (all of
    them when the filter has no contract segment)."""

    subscriber_id: str
    contracts: tuple[ContractProfile, ...]


@dataclass(frozen=True, slots=True)
class AudienceOptions:
    """The values broadcast segments can take: cities with their neighbourhoods, and plans."""

    places: tuple[tuple[str, tuple[str, ...]], ...]  # (city, neighbourhoods), sorted
    plans: tuple[tuple[str, str], ...]  # (plan id, name)


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

    async def audience(self, segment: AudienceFilter) -> list[SubscriberProfile]:
        """Subscribers with at least one contract matching ``segment`` (see AudienceFilter)."""

    async def audience_options(self) -> AudienceOptions:
        """Cities, neighbourhoods and plans that broadcasts can target."""
